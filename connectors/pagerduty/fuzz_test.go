package pagerduty

import "testing"

// FuzzPagerDutyError: PagerDuty's error-body reader takes any bytes
// without a panic, and what it returns is made of the body (bounded by it,
// plus its own few words); the seeds are in testdata/fuzz/FuzzPagerDutyError.
func FuzzPagerDutyError(f *testing.F) {
	f.Add([]byte(`{"error":{"message":"Not Found","code":2100}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if out := readError(body); len(out) > 2*len(body)+64 {
			t.Fatalf("%d bytes of summary from a %d-byte body", len(out), len(body))
		}
	})
}
