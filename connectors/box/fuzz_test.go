package box

import "testing"

// FuzzBoxError: Box's error-body reader takes any bytes without a panic,
// and what it returns is made of the body (bounded by it, plus its own few
// words); the seeds are in testdata/fuzz/FuzzBoxError.
func FuzzBoxError(f *testing.F) {
	f.Add([]byte(`{"type":"error","status":429,"code":"rate_limit_exceeded","message":"Request rate limit exceeded, please try again later","request_id":"abcdef123456"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if out := readError(body); len(out) > 2*len(body)+64 {
			t.Fatalf("%d bytes of summary from a %d-byte body", len(out), len(body))
		}
	})
}
