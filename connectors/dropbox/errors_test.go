package dropbox

import "testing"

// Dropbox's error bodies, from
// https://www.dropbox.com/developers/documentation/http/documentation#error-handling
// and the error unions of https://github.com/dropbox/dropbox-api-spec
// (auth.stone's AuthError and RateLimitError, team.stone's device errors).
func TestReadError(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"an endpoint-specific 409", `{"error_summary":"member_not_found/..","error":{".tag":"member_not_found"}}`, "member_not_found/.."},
		{"a rejected token", `{"error_summary":"invalid_access_token/...","error":{".tag":"invalid_access_token"}}`, "invalid_access_token/..."},
		{"an expired token", `{"error_summary":"expired_access_token/..","error":{".tag":"expired_access_token"}}`, "expired_access_token/.."},
		{"a missing scope names the scope", `{"error_summary":"missing_scope/.","error":{".tag":"missing_scope","required_scope":"sessions.modify"}}`,
			"missing_scope/.; the token needs the scope sessions.modify"},
		{"a rate limit", `{"error_summary":"too_many_requests/..","error":{"reason":{".tag":"too_many_requests"},"retry_after":300}}`, "too_many_requests/.."},
		{"a rate limit without a summary gives its reason", `{"error":{"reason":{".tag":"too_many_write_operations"},"retry_after":1}}`, "too_many_write_operations"},
		{"an error without a summary gives its tag", `{"error":{".tag":"member_not_found"}}`, "member_not_found"},
		{"a 400 bad input in plain text", "Error in call to API function \"team/devices/list_member_devices\": request body: missing required field\n",
			`Error in call to API function "team/devices/list_member_devices": request body: missing required field`},
		{"an html page of a proxy says nothing", "<html><body>503</body></html>", ""},
		{"json of another shape says nothing", `{"members":[]}`, ""},
		{"broken json says nothing", `{"error_summary":`, ""},
		{"an empty body says nothing", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := readError([]byte(tt.body)); got != tt.want {
				t.Errorf("readError(%q) = %q, want %q", tt.body, got, tt.want)
			}
		})
	}
}

func TestMemberGone(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   bool
	}{
		{"a 409 member_not_found", 409, `{"error_summary":"member_not_found/..","error":{".tag":"member_not_found"}}`, true},
		{"a 409 id_not_found", 409, `{"error_summary":"id_not_found/..","error":{".tag":"id_not_found"}}`, true},
		{"a 409 device_session_not_found is the session, not the member", 409, `{"error_summary":"device_session_not_found/..","error":{".tag":"device_session_not_found"}}`, false},
		{"another 409", 409, `{"error_summary":"reset/..","error":{".tag":"reset"}}`, false},
		{"member_not_found under another status", 400, `{"error":{".tag":"member_not_found"}}`, false},
		{"a 409 in plain text", 409, `member_not_found`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := memberGone(tt.status, []byte(tt.body)); got != tt.want {
				t.Errorf("memberGone(%d, %s) = %v, want %v", tt.status, tt.body, got, tt.want)
			}
		})
	}
}
