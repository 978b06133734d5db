package connectors

import (
	"testing"

	"github.com/offboarder/offboarder/vendorapi"
)

// FuzzVendorErrors: every vendor's error-body reader takes any bytes
// without a panic, and what it returns is made of the body (bounded by it,
// plus its own few words); the seeds are in testdata/fuzz/FuzzVendorErrors.
func FuzzVendorErrors(f *testing.F) {
	f.Add([]byte(`{"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist."}}`))
	f.Add([]byte(`{"error":{"code":403,"message":"Not Authorized to access this resource/api","errors":[{"reason":"forbidden"}]}}`))
	readers := map[string]func([]byte) string{
		"entra": vendorapi.GraphError, "google": vendorapi.GoogleError,
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for name, read := range readers {
			if out := read(body); len(out) > 2*len(body)+64 {
				t.Fatalf("%s: %d bytes of summary from a %d-byte body", name, len(out), len(body))
			}
		}
	})
}
