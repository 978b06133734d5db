package vendorapi

import (
	"net/http"
	"strings"
	"testing"
)

// A vendor's own "no such thing" answer other than a 404 (Dropbox's 409
// member_not_found) is classified NotFound when ClientOptions.NotFound
// says so, keeps its status, and every other answer stays as it was.
func TestNotFoundHook(t *testing.T) {
	notFound := func(status int, body []byte) bool {
		return status == http.StatusConflict && strings.Contains(string(body), `"member_not_found"`)
	}
	tests := []struct {
		name   string
		status int
		body   string
		kind   Kind
	}{
		{"a 409 the hook recognises is not found, with its own status", 409, `{"error_summary":"member_not_found/..","error":{".tag":"member_not_found"}}`, NotFound},
		{"a 409 the hook does not recognise stays invalid", 409, `{"error_summary":"other/..","error":{".tag":"other"}}`, Invalid},
		{"a 404 is not found as always", 404, ``, NotFound},
		{"a 429 stays rate limited", 429, `{"error":{".tag":"member_not_found"}}`, RateLimited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := serve(t, answer(tt.status, nil, tt.body), ClientOptions{NotFound: notFound})
			_, err := c.Do(t.Context(), Request{Method: http.MethodPost, Path: "/x"}, nil)
			e, ok := err.(*Error)
			if !ok || e.Kind != tt.kind || e.Status != tt.status {
				t.Fatalf("error = %#v, want kind %v with status %d", err, tt.kind, tt.status)
			}
		})
	}
}
