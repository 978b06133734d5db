package pagerduty

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// PagerDuty's error bodies, as its REST API description and error docs
// show them (https://developer.pagerduty.com/docs/errors).
func TestPagerDutyErrorBodies(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"not found", `{"error":{"message":"Not Found","code":2100}}`, "Not Found (code 2100)"},
		{"invalid input with its details", `{"error":{"message":"Invalid Input Provided","code":2001,"errors":["User Id is invalid.","Type must be web or mobile."]}}`,
			"Invalid Input Provided (code 2001): User Id is invalid.; Type must be web or mobile."},
		{"a message without a code", `{"error":{"message":"Unauthorized"}}`, "Unauthorized"},
		{"details without a message", `{"error":{"errors":["Insufficient permissions"]}}`, "Insufficient permissions"},
		{"a code of zero is still a code", `{"error":{"message":"Internal Server Error","code":0}}`, "Internal Server Error (code 0)"},
		{"a body without error gives nothing", `{"status":"ok"}`, ""},
		{"an error that is not an object gives nothing", `{"error":"Rate Limit Exceeded"}`, ""},
		{"html gives nothing", `<html>502 Bad Gateway</html>`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := readError([]byte(tt.body)); got != tt.want {
				t.Errorf("readError = %q, want %q", got, tt.want)
			}
		})
	}
}

// PagerDuty's 429 tells the wait in ratelimit-reset; the shared client
// reads Retry-After, so the transport copies it there, and only there.
func TestPagerDutyResetWait(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header map[string]string
		want   string
	}{
		{"a 429 with ratelimit-reset gets it as Retry-After", 429, map[string]string{"ratelimit-reset": "42"}, "42"},
		{"a 429 with Retry-After keeps it", 429, map[string]string{"ratelimit-reset": "42", "Retry-After": "7"}, "7"},
		{"a 429 with a reset that is not a number gets nothing", 429, map[string]string{"ratelimit-reset": "soon"}, ""},
		{"another status is left alone", 200, map[string]string{"ratelimit-reset": "42"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
			}))
			t.Cleanup(srv.Close)
			resp, err := withResetWait(nil).Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("Retry-After"); got != tt.want {
				t.Errorf("Retry-After = %q, want %q", got, tt.want)
			}
		})
	}
}
