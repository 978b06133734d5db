package zendesk

import (
	"testing"
	"unicode/utf8"
)

// FuzzZendeskError: Zendesk's error-body reader takes any bytes without a
// panic, and what it returns is made of the body (bounded by it, plus its
// own separator; an invalid byte in a json string decodes to three); the seeds are in testdata/fuzz/FuzzZendeskError.
func FuzzZendeskError(f *testing.F) {
	f.Add([]byte(`{"error":"RecordNotFound","description":"Not found"}`))
	f.Add([]byte(`{"error":{"title":"Forbidden","message":"You do not have access to this page."}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		out := readError(body)
		if len(out) > 3*len(body)+8 { // json decoding turns a bad byte into U+FFFD
			t.Fatalf("%d bytes of summary from a %d-byte body", len(out), len(body))
		}
		if utf8.Valid(body) && !utf8.ValidString(out) {
			t.Fatalf("summary %q of a valid utf-8 body is not valid utf-8", out)
		}
	})
}
