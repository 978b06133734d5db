package caep

import (
	"strings"
	"testing"
)

// FuzzSETError: the RFC 8935 error-body reader and the classification built
// on it take any bytes without a panic; what they return comes from the
// body (the summary is bounded by it) and a refined answer is one of the
// codes RFC 8935 §2.4 registers. The seeds are in testdata/fuzz/FuzzSETError.
func FuzzSETError(f *testing.F) {
	f.Add([]byte(`{"err":"invalid_key","description":"no key for kid"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		e, ok := readSETError(body)
		if ok && (strings.TrimSpace(e.Err) == "" || len(e.Err)+len(e.Description) > len(body)*6) {
			t.Fatalf("read %q from %q", e, body)
		}
		if s := summary(body); len(s) > 6*len(body)+2 {
			t.Fatalf("%d bytes of summary from a %d-byte body", len(s), len(body))
		}
		if _, why, _, ok := refine(400, body); ok {
			known := false
			for _, c := range []string{"invalid_request", "invalid_key", "invalid_issuer", "invalid_audience", "authentication_failed", "access_denied"} {
				known = known || (e.Err == c && strings.Contains(why, "("+c+")"))
			}
			if !known {
				t.Fatalf("refined %q from err %q", why, e.Err)
			}
		}
	})
}
