package auth0

import "testing"

// FuzzAuth0Error: Auth0's error-body reader takes any bytes without a panic,
// and what it returns is made of the body (bounded by it, plus its own few
// words); the seeds are in testdata/fuzz/FuzzAuth0Error.
func FuzzAuth0Error(f *testing.F) {
	f.Add([]byte(`{"statusCode":429,"error":"Too Many Requests","message":"Global limit has been reached","errorCode":"too_many_requests"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if out := readError(body); len(out) > 2*len(body)+64 {
			t.Fatalf("%d bytes of summary from a %d-byte body", len(out), len(body))
		}
	})
}
