package zendesk

import "testing"

// Zendesk's error bodies, from
// https://developer.zendesk.com/api-reference/introduction/requests/ (JSON
// for business-level errors, text/plain for API-level ones), the 401 of
// API-token auth, the 403 of a role without access, the search's 503, and
// the 429 of
// https://developer.zendesk.com/documentation/ticketing/using-the-zendesk-api/best-practices-for-avoiding-rate-limiting/.
func TestReadError(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"an error code with a description", `{"error":"RecordNotFound","description":"Not found"}`, "RecordNotFound: Not found"},
		{"a wrong path", `{"error":"InvalidEndpoint","description":"Not found"}`, "InvalidEndpoint: Not found"},
		{"a rejected api token: a bare error string", `{"error":"Couldn't authenticate you"}`, "Couldn't authenticate you"},
		{"a role without access: an error object with title and message",
			`{"error":{"title":"Forbidden","message":"You do not have access to this page. Please contact the account owner of this help desk for further help."}}`,
			"Forbidden: You do not have access to this page. Please contact the account owner of this help desk for further help."},
		{"a validation error keeps its description, not its details",
			`{"error":"RecordInvalid","description":"Record validation errors","details":{"email":[{"description":"Email is invalid"}]}}`,
			"RecordInvalid: Record validation errors"},
		{"a search zendesk cannot complete", `{"error":"unavailable","description":"Sorry, we could not complete your search query. Please try again in a moment."}`,
			"unavailable: Sorry, we could not complete your search query. Please try again in a moment."},
		{"a 429's plain text", "Number of allowed API requests per minute exceeded\n", "Number of allowed API requests per minute exceeded"},
		{"an html page of a proxy says nothing", "<html><body>502 Bad Gateway</body></html>", ""},
		{"json without an error says nothing", `{"users":[]}`, ""},
		{"broken json says nothing", `{"error":`, ""},
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
