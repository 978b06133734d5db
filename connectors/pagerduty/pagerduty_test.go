package pagerduty_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/connectors/conformance"
	"github.com/offboarder/offboarder/connectors/pagerduty"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// The fake below is shaped from PagerDuty's REST API description
// (https://github.com/PagerDuty/api-schema, reference/REST/openapiv3.json):
// GET /users with query, limit and offset; DELETE /oauth_delegations with
// user_id and type, answering 200 {"status":"ok"}; GET
// /users/{id}/oauth_delegations with status, limit and cursor; the error
// body {"error":{"message","code","errors"}}; and the rate limit, 429 with
// ratelimit-limit, ratelimit-remaining and ratelimit-reset (seconds)
// (https://support.pagerduty.com/docs/rest-api-rate-limits).

const (
	pdToken = "u+pdTestKey5e1f0a9b8c7d"
	pdEmail = "isaac.brock@example.com"
	pdID    = "PXPGF42"
	pdTwin  = "PAM4FGS"
)

var pdHeaders = http.Header{
	"Authorization": {"Token token=" + pdToken},
	"Accept":        {"application/vnd.pagerduty+json;version=2"},
	"Content-Type":  {"application/json"},
	"User-Agent":    {"offboarder"},
}

var types = map[string]func() connectors.Config{"pagerduty": func() connectors.Config { return new(pagerduty.Config) }}

type step = conformance.Step

func openPagerDuty(baseURL string) (connectors.Connector, error) {
	cs, err := connectors.Build([]connectors.Spec{{Name: "pagerduty", Type: "pagerduty",
		Settings: map[string]any{"token": pdToken, "base_url": baseURL}}}, types, connectors.Deps{})
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

const (
	pdUnauthorized = `{"error":{"message":"Unauthorized","code":2006}}`
	pdForbidden    = `{"error":{"message":"Access Denied","code":2010,"errors":["Insufficient permissions"]}}`
	pdNotFound     = `{"error":{"message":"Not Found","code":2100}}`
	pdServerError  = `{"error":{"message":"Internal Server Error","code":2000}}`
	pdLimited      = `{"error":{"message":"Rate Limit Exceeded","code":2020}}`
	pdBadInput     = `{"error":{"message":"Invalid Input Provided","code":2001,"errors":["User Id is invalid."]}}`
)

// pdUsers is a user list answer with one user per id:email pair.
func pdUsers(more bool, pairs ...string) string {
	var us []string
	for _, p := range pairs {
		id, email, _ := strings.Cut(p, ":")
		us = append(us, fmt.Sprintf(`{"id":%q,"type":"user","summary":"Isaac Brock","self":"https://api.pagerduty.com/users/%s","name":"Isaac Brock","email":%q,"role":"user","time_zone":"America/Lima"}`, id, id, email))
	}
	return fmt.Sprintf(`{"users":[%s],"limit":100,"offset":0,"more":%t,"total":null}`, strings.Join(us, ","), more)
}

func pdFind(offset string, status int, body string) step {
	return step{Method: "GET", Path: "/users", Status: status, Body: body,
		Query: url.Values{"query": {pdEmail}, "limit": {"100"}, "offset": {offset}}}
}

func pdSignOut(id string, status int, body string) step {
	return step{Method: "DELETE", Path: "/oauth_delegations", Status: status, Body: body,
		Query: url.Values{"user_id": {id}, "type": {"web,mobile"}}}
}

// pdDelegations is a delegation list answer with one issued delegation
// per type.
func pdDelegations(kinds ...string) string {
	var ds []string
	for i, k := range kinds {
		ds = append(ds, fmt.Sprintf(`{"id":"e53326c6-%d","delegation_type":%q,"client_id":"PagerDutyLogin","self":"https://api.pagerduty.com/users/%s/oauth_delegations/e53326c6-%d","created_at":"2026-01-01T12:00:00Z","expires_at":"2026-01-08T12:00:00Z","status":"issued","scope":"openid profile"}`, i, k, pdID, i))
	}
	return `{"oauth_delegations":[` + strings.Join(ds, ",") + `],"limit":100,"more":false,"next_cursor":null}`
}

func pdIssued(id, cursor string, status int, body string) step {
	q := url.Values{"status": {"issued"}, "limit": {"100"}}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	return step{Method: "GET", Path: "/users/" + id + "/oauth_delegations", Status: status, Body: body, Query: q}
}

const pdOK = `{"status":"ok"}`

func pdRateLimited() step {
	s := pdFind("0", 429, pdLimited)
	s.Header = map[string]string{"ratelimit-limit": "960", "ratelimit-remaining": "0", "ratelimit-reset": "42"}
	return s
}

func fakePagerDuty(t *testing.T, steps ...step) http.Handler {
	t.Helper()
	return conformance.Script(t, pdHeaders, steps...)
}

func TestPagerDutyConformance(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		New:     openPagerDuty,
		Secret:  pdToken,
		Subject: offboard.Subject{Email: pdEmail},
		Handler: func(t *testing.T, s conformance.Scenario) http.Handler {
			switch s {
			case conformance.Success:
				return fakePagerDuty(t, pdFind("0", 200, pdUsers(false, pdID+":"+pdEmail)), pdSignOut(pdID, 200, pdOK), pdIssued(pdID, "", 200, pdDelegations()))
			case conformance.NotFound:
				return fakePagerDuty(t, pdFind("0", 200, pdUsers(false)))
			case conformance.RateLimited:
				return fakePagerDuty(t, pdRateLimited())
			case conformance.ServerError:
				return fakePagerDuty(t, pdFind("0", 500, pdServerError))
			case conformance.Unauthorized:
				return fakePagerDuty(t, pdFind("0", 401, pdUnauthorized))
			}
			return conformance.Hanging()
		},
	})
}

func TestPagerDutyRevoke(t *testing.T) {
	tests := []struct {
		name       string
		steps      []step
		subject    *offboard.Subject
		want       offboard.Outcome
		detail     []string
		kind       vendorapi.Kind
		retryAfter time.Duration
		text       []string
	}{{
		name:   "web and mobile delegations deleted and none left is verified, and the detail says what was ended",
		steps:  []step{pdFind("0", 200, pdUsers(false, pdID+":"+pdEmail)), pdSignOut(pdID, 200, pdOK), pdIssued(pdID, "", 200, pdDelegations())},
		want:   offboard.Verified,
		detail: []string{"signed user PXPGF42 out of the PagerDuty web and mobile apps", "none left"},
	}, {
		name:   "integration delegations left issued are named in the detail, and the sign-out is still verified",
		steps:  []step{pdFind("0", 200, pdUsers(false, pdID+":"+pdEmail)), pdSignOut(pdID, 200, pdOK), pdIssued(pdID, "", 200, pdDelegations("integration", "integration"))},
		want:   offboard.Verified,
		detail: []string{"2 integration delegation(s) (Slack, Microsoft Teams or other apps) still issued: the API does not revoke them"},
	}, {
		name:   "a web delegation still issued after the deletion is acknowledged",
		steps:  []step{pdFind("0", 200, pdUsers(false, pdID+":"+pdEmail)), pdSignOut(pdID, 200, pdOK), pdIssued(pdID, "", 200, pdDelegations("web"))},
		want:   offboard.Acknowledged,
		detail: []string{"1 still issued when read back"},
	}, {
		name: "the read-back follows next_cursor",
		steps: []step{pdFind("0", 200, pdUsers(false, pdID+":"+pdEmail)), pdSignOut(pdID, 200, pdOK),
			pdIssued(pdID, "", 200, `{"oauth_delegations":[],"limit":100,"more":true,"next_cursor":"eyJsYXN0In0="}`),
			pdIssued(pdID, "eyJsYXN0In0=", 200, pdDelegations("mobile"))},
		want: offboard.Acknowledged,
	}, {
		name:   "a token that may sign out but not list delegations gives acknowledged and says so",
		steps:  []step{pdFind("0", 200, pdUsers(false, pdID+":"+pdEmail)), pdSignOut(pdID, 200, pdOK), pdIssued(pdID, "", 403, pdForbidden)},
		want:   offboard.Acknowledged,
		detail: []string{"not read back"},
	}, {
		name:  "the query matches more than the email; only the exact address is signed out",
		steps: []step{pdFind("0", 200, pdUsers(false, pdTwin+":brock@example.com", pdID+":"+strings.ToUpper(pdEmail))), pdSignOut(pdID, 200, pdOK), pdIssued(pdID, "", 200, pdDelegations())},
		want:  offboard.Verified,
	}, {
		name: "the user list is paged through while more is true",
		steps: []step{pdFind("0", 200, pdUsers(true, pdTwin+":isaac.brock@example.com.au")), pdFind("100", 200, pdUsers(false, pdID+":"+pdEmail)),
			pdSignOut(pdID, 200, pdOK), pdIssued(pdID, "", 200, pdDelegations())},
		want: offboard.Verified,
	}, {
		name:   "nobody with the email is not_found",
		steps:  []step{pdFind("0", 200, pdUsers(false, pdTwin+":brock@example.com"))},
		want:   offboard.NotFound,
		detail: []string{"no PagerDuty user has the email"},
	}, {
		name:   "a user deleted between the lookup and the sign-out is not signed out and gives not_found",
		steps:  []step{pdFind("0", 200, pdUsers(false, pdID+":"+pdEmail)), pdSignOut(pdID, 404, pdNotFound)},
		want:   offboard.NotFound,
		detail: []string{"deleted before it was signed out"},
	}, {
		name:  "a key without the permission to sign users out is a permanent auth error with PagerDuty's words",
		steps: []step{pdFind("0", 200, pdUsers(false, pdID+":"+pdEmail)), pdSignOut(pdID, 403, pdForbidden)},
		kind:  vendorapi.Auth,
		text:  []string{"pagerduty: DELETE /oauth_delegations", "missing scope or permission", "Access Denied (code 2010): Insufficient permissions"},
	}, {
		name:  "an argument error is permanent and carries PagerDuty's details",
		steps: []step{pdFind("0", 200, pdUsers(false, pdID+":"+pdEmail)), pdSignOut(pdID, 400, pdBadInput)},
		kind:  vendorapi.Invalid,
		text:  []string{"Invalid Input Provided (code 2001): User Id is invalid."},
	}, {
		name:       "a 429 waits the seconds of ratelimit-reset",
		steps:      []step{pdRateLimited()},
		kind:       vendorapi.RateLimited,
		retryAfter: 42 * time.Second,
	}, {
		name: "a 429 that carries Retry-After waits that",
		steps: []step{pdFind("0", 200, pdUsers(false, pdID+":"+pdEmail)), {Method: "DELETE", Path: "/oauth_delegations", Status: 429, Body: pdLimited,
			Query: url.Values{"user_id": {pdID}, "type": {"web,mobile"}}, Header: map[string]string{"Retry-After": "7", "ratelimit-reset": "42"}}},
		kind:       vendorapi.RateLimited,
		retryAfter: 7 * time.Second,
	}, {
		name:  "a server error is transient",
		steps: []step{pdFind("0", 200, pdUsers(false, pdID+":"+pdEmail)), pdSignOut(pdID, 500, pdServerError)},
		kind:  vendorapi.Transient,
		text:  []string{"Internal Server Error (code 2000)"},
	}, {
		name:    "a subject without an email is invalid and sends nothing",
		subject: &offboard.Subject{IDs: map[string]string{"okta": "00u1"}},
		kind:    vendorapi.Invalid,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(fakePagerDuty(t, tt.steps...))
			t.Cleanup(srv.Close)
			c, err := openPagerDuty(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			subject := offboard.Subject{Email: pdEmail}
			if tt.subject != nil {
				subject = *tt.subject
			}
			ctx, detail := connectors.WithReport(t.Context())
			got, err := c.Revoke(ctx, subject)
			if tt.kind == 0 {
				if err != nil {
					t.Fatalf("Revoke: unexpected error: %v", err)
				}
				if got != tt.want {
					t.Fatalf("outcome = %q, want %q (detail %q)", got, tt.want, detail())
				}
				for _, s := range tt.detail {
					if !strings.Contains(detail(), s) {
						t.Errorf("detail %q does not contain %q", detail(), s)
					}
				}
				return
			}
			e, ok := errors.AsType[*vendorapi.Error](err)
			if !ok {
				t.Fatalf("error = %v, want a *Error of kind %v", err, tt.kind)
			}
			if e.Kind != tt.kind {
				t.Errorf("kind = %v, want %v (%v)", e.Kind, tt.kind, err)
			}
			if e.RetryAfter != tt.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", e.RetryAfter, tt.retryAfter)
			}
			for _, s := range tt.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if strings.Contains(err.Error(), pdToken) {
				t.Errorf("error holds the token: %q", err)
			}
		})
	}
}

func TestPagerDutyCheck(t *testing.T) {
	probe := func(status int, body string) step {
		return step{Method: "GET", Path: "/users", Query: url.Values{"limit": {"1"}}, Status: status, Body: body}
	}
	tests := []struct {
		name string
		step step
		kind vendorapi.Kind
		text string
	}{
		{"a key that can read users passes", probe(200, pdUsers(true, pdID+":"+pdEmail)), 0, ""},
		{"a bad key fails with an auth error that names the credentials", probe(401, pdUnauthorized), vendorapi.Auth, "credentials rejected"},
		{"a key without users.read fails with PagerDuty's words", probe(403, pdForbidden), vendorapi.Auth, "Access Denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(fakePagerDuty(t, tt.step))
			t.Cleanup(srv.Close)
			c, err := openPagerDuty(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			err = c.(connectors.Checker).Check(t.Context())
			if tt.kind == 0 {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if e, ok := errors.AsType[*vendorapi.Error](err); !ok || e.Kind != tt.kind || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("Check error = %v, want kind %v mentioning %q", err, tt.kind, tt.text)
			}
		})
	}
}

func TestPagerDutySettings(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]any
		want     []string
	}{
		{"token is required", map[string]any{}, []string{"(pagerduty).token: required"}},
		{"a token with its scheme and a bad base_url are each reported",
			map[string]any{"token": "Token token=" + pdToken, "base_url": "ftp://api.pagerduty.com"},
			[]string{"(pagerduty).token: give the API key alone", "(pagerduty).base_url:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conformance.WantBuildErrors(t, types, "pagerduty", tt.settings, tt.want, pdToken)
		})
	}
	t.Run("base_url defaults to api.pagerduty.com", func(t *testing.T) {
		if _, err := connectors.Build([]connectors.Spec{{Name: "pagerduty", Type: "pagerduty", Settings: map[string]any{"token": pdToken}}}, types, connectors.Deps{}); err != nil {
			t.Fatal(err)
		}
	})
}
