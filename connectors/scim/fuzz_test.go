package scim

import "testing"

// FuzzSCIMError: the SCIM error-body reader takes any bytes without a
// panic, and what it returns is made of the body (bounded by it, plus its
// own few words); the seeds are in testdata/fuzz/FuzzSCIMError.
func FuzzSCIMError(f *testing.F) {
	f.Add([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidFilter","detail":"bad"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if out := readError(body); len(out) > 2*len(body)+64 {
			t.Fatalf("%d bytes of summary from a %d-byte body", len(out), len(body))
		}
	})
}

// TestSCIMErrorBodies reads the RFC 7644 §3.12 error bodies, and the
// shapes servers send beside them, into one line.
func TestSCIMErrorBodies(t *testing.T) {
	for _, tt := range []struct{ name, body, want string }{
		{"scimType and detail", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidFilter","detail":"Unsupported operator co"}`, "invalidFilter: Unsupported operator co"},
		{"detail alone", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"404","detail":"Resource 2819c223 not found"}`, "Resource 2819c223 not found"},
		{"scimType alone", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"409","scimType":"uniqueness"}`, "uniqueness"},
		{"status as a number, as some servers send it", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":400,"scimType":"invalidValue","detail":"active must be a boolean"}`, "invalidValue: active must be a boolean"},
		{"mutability", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"mutability","detail":"id is readOnly"}`, "mutability: id is readOnly"},
		{"not json", `<html>Bad Gateway</html>`, ""},
		{"json of another shape", `{"message":"nope"}`, ""},
		{"empty", ``, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := readError([]byte(tt.body)); got != tt.want {
				t.Errorf("readError = %q, want %q", got, tt.want)
			}
		})
	}
}
