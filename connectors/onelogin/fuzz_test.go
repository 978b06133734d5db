package onelogin

import "testing"

// FuzzOneLoginError: OneLogin's error-body reader takes any bytes without a panic,
// and what it returns is made of the body (bounded by it, plus its own few
// words); the seeds are in testdata/fuzz/FuzzOneLoginError.
func FuzzOneLoginError(f *testing.F) {
	f.Add([]byte(`{"status":{"error":true,"code":401,"type":"Unauthorized","message":"Authentication Failure"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if out := readError(body); len(out) > 2*len(body)+64 {
			t.Fatalf("%d bytes of summary from a %d-byte body", len(out), len(body))
		}
	})
}
