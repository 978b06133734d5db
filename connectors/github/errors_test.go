package github

import (
	"net/http"
	"testing"
)

// GitHub's error bodies, as its docs show them
// (https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api,
// https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api).
func TestGitHubErrorBodies(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		summary string
		limited bool
	}{
		{"bad credentials", 401, `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`, "Bad credentials", false},
		{"saml enforcement is a permission problem, not a rate limit", 403,
			`{"message":"Resource protected by organization SAML enforcement. You must grant your Personal Access token access to this organization.","documentation_url":"https://docs.github.com/articles/authenticating-to-a-github-organization-with-saml-single-sign-on/"}`,
			"Resource protected by organization SAML enforcement. You must grant your Personal Access token access to this organization.", false},
		{"must be an organization owner", 403, `{"message":"You must be an organization owner to use this endpoint.","documentation_url":"https://docs.github.com/rest"}`,
			"You must be an organization owner to use this endpoint.", false},
		{"the primary rate limit answered 403", 403, `{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}`,
			"API rate limit exceeded for user ID 1.", true},
		{"the secondary rate limit answered 403", 403, `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest"}`,
			"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", true},
		{"a rate-limit message on another status is left to the status", 404, `{"message":"API rate limit exceeded"}`, "API rate limit exceeded", false},
		{"a validation failure names the field and code", 422,
			`{"message":"Validation Failed","errors":[{"resource":"Issue","field":"title","code":"missing_field"}],"documentation_url":"https://docs.github.com/rest"}`,
			"Validation Failed: title missing_field", false},
		{"a custom validation error carries its message", 422, `{"message":"Validation Failed","errors":[{"code":"custom","message":"credential is not authorized"}]}`,
			"Validation Failed: custom: credential is not authorized", false},
		{"a body that is not json gives nothing", 502, `<html>Unicorn!</html>`, "", false},
		{"an empty body gives nothing", 403, ``, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := readError([]byte(tt.body)); got != tt.summary {
				t.Errorf("readError = %q, want %q", got, tt.summary)
			}
			if got := rateLimited(tt.status, []byte(tt.body)); got != tt.limited {
				t.Errorf("rateLimited(%d) = %v, want %v", tt.status, got, tt.limited)
			}
		})
	}
	if rateLimited(http.StatusTooManyRequests, nil) {
		t.Error("a 429 is a rate limit already; rateLimited is for the 403s")
	}
}
