package okta

import "testing"

// FuzzOktaError: Okta's error-body reader takes any bytes without a panic,
// and what it returns is made of the body (bounded by it, plus its own few
// words); the seeds are in testdata/fuzz/FuzzOktaError.
func FuzzOktaError(f *testing.F) {
	f.Add([]byte(`{"errorCode":"E0000011","errorSummary":"Invalid token provided","errorId":"oae1"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if out := readError(body); len(out) > 2*len(body)+64 {
			t.Fatalf("%d bytes of summary from a %d-byte body", len(out), len(body))
		}
	})
}
