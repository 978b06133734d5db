package okta_test

import (
	"net/http/httptest"
	"testing"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/connectors/conformance"
	"github.com/offboarder/offboarder/vendorapi"
)

func TestOktaFindEmail(t *testing.T) {
	get := step{Method: "GET", Path: "/api/v1/users/" + oktaID}
	tests := []struct {
		name      string
		status    int
		body      string
		email     string
		found     bool
		retryable bool
		fails     bool
	}{
		{"a user's profile.email", 200, oktaUser(oktaID, "DEPROVISIONED", "ibrock", oktaEmail), oktaEmail, true, false, false},
		{"the login when the profile has no email", 200, oktaUser(oktaID, "ACTIVE", oktaEmail, ""), oktaEmail, true, false, false},
		{"an unknown id is not found", 404, userNotFound, "", false, false, false},
		{"a rate limit is retryable", 429, rateLimitBody, "", false, true, true},
		{"a rejected token is an error", 401, invalidToken, "", false, false, true},
		{"a user with neither email nor login email is an error", 200, oktaUser(oktaID, "ACTIVE", "ibrock", ""), "", false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := get
			s.Status, s.Body = tt.status, tt.body
			srv := httptest.NewServer(conformance.Script(t, oktaHeaders, s))
			t.Cleanup(srv.Close)
			c, err := openOkta(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			email, found, err := c.(connectors.Finder).FindEmail(t.Context(), oktaID)
			if (err != nil) != tt.fails || email != tt.email || found != tt.found {
				t.Fatalf("FindEmail = %q, %v, %v; want %q, %v, error %v", email, found, err, tt.email, tt.found, tt.fails)
			}
			if err != nil && vendorapi.Retryable(err) != tt.retryable {
				t.Fatalf("Retryable(%v) = %v, want %v", err, !tt.retryable, tt.retryable)
			}
		})
	}
}

func TestOktaFindEmailNeverSendsASlash(t *testing.T) {
	srv := httptest.NewServer(conformance.Script(t, oktaHeaders))
	t.Cleanup(srv.Close)
	c, err := openOkta(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if email, found, err := c.(connectors.Finder).FindEmail(t.Context(), "00u/../groups"); found || err != nil || email != "" {
		t.Fatalf("FindEmail = %q, %v, %v; want not found without a call", email, found, err)
	}
}
