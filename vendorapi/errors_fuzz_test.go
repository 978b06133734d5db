package vendorapi

import "testing"

// FuzzErrorReaders: Google's and Microsoft Graph's error-body readers take
// any bytes without a panic, and what they return is made of the body
// (bounded by it, plus their own few words); the seeds are in
// testdata/fuzz/FuzzErrorReaders. Every other vendor's reader has its own
// target in its connector's package (FuzzOktaError, …).
func FuzzErrorReaders(f *testing.F) {
	f.Add([]byte(`{"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist."}}`))
	f.Add([]byte(`{"error":{"code":403,"message":"Not Authorized to access this resource/api","errors":[{"reason":"forbidden"}]}}`))
	readers := map[string]func([]byte) string{"graph": GraphError, "google": GoogleError}
	f.Fuzz(func(t *testing.T, body []byte) {
		for name, read := range readers {
			if out := read(body); len(out) > 2*len(body)+64 {
				t.Fatalf("%s: %d bytes of summary from a %d-byte body", name, len(out), len(body))
			}
		}
	})
}
