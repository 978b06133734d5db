package salesforce

import "testing"

// FuzzSalesforceError: Salesforce's error-body reader takes any bytes
// without a panic, and what it returns is made of the body (bounded by it,
// plus its own few words); the seeds are in testdata/fuzz/FuzzSalesforceError.
func FuzzSalesforceError(f *testing.F) {
	f.Add([]byte(`[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if out := readError(body); len(out) > 2*len(body)+64 {
			t.Fatalf("%d bytes of summary from a %d-byte body", len(out), len(body))
		}
		_ = rateLimited(403, body)
	})
}
