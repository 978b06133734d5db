package zendesk_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/connectors/conformance"
	"github.com/offboarder/offboarder/connectors/zendesk"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// The fake below is shaped from Zendesk's documentation: API-token Basic
// auth (https://developer.zendesk.com/api-reference/introduction/security-and-auth/),
// Search Users and Show Self
// (https://developer.zendesk.com/api-reference/ticketing/users/users/), Bulk
// Delete Sessions and List Sessions
// (https://developer.zendesk.com/api-reference/ticketing/account-configuration/sessions/),
// the error bodies of https://developer.zendesk.com/api-reference/introduction/requests/
// and the 429 of https://developer.zendesk.com/documentation/ticketing/using-the-zendesk-api/best-practices-for-avoiding-rate-limiting/
// (text/plain, Retry-After in seconds).

const (
	zdAdmin = "it-admin@example.com"
	zdToken = "zd-test-api-token-6wiIBWbGkBMo1mRDMuVw"
	zdEmail = "isaac.brock@example.com"
)

var zdHeaders = http.Header{
	"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(zdAdmin+"/token:"+zdToken))},
	"User-Agent":    {"offboarder"},
	"Accept":        {"application/json"},
}

const (
	zdNoRecord     = `{"error":"RecordNotFound","description":"Not found"}`
	zdBadEndpoint  = `{"error":"InvalidEndpoint","description":"Not found"}`
	zdCannotAuth   = `{"error":"Couldn't authenticate you"}`
	zdForbidden    = `{"error":{"title":"Forbidden","message":"You do not have access to this page. Please contact the account owner of this help desk for further help."}}`
	zdUnavailable  = `{"error":"unavailable","description":"Sorry, we could not complete your search query. Please try again in a moment."}`
	zdRateLimited  = "Number of allowed API requests per minute exceeded"
	zdOneSession   = `{"sessions":[{"authenticated_at":"2014-11-18T17:24:29Z","id":3432,"last_seen_at":"2014-11-18T17:30:52Z","url":"https://example.zendesk.com/api/v2/users/35436/sessions/3432.json","user_id":35436}],"next_page":null,"previous_page":null,"count":1}`
	zdNoSessions   = `{"sessions":[],"next_page":null,"previous_page":null,"count":0}`
	zdUserTemplate = `{"id":%ID%,"url":"https://example.zendesk.com/api/v2/users/%ID%.json","name":"Isaac Brock","email":"%EMAIL%","role":"end-user","active":%ACTIVE%,"verified":true}`
)

// zdUser is one user object of a search answer.
func zdUser(id, email string, active bool) string {
	a := "true"
	if !active {
		a = "false"
	}
	return strings.NewReplacer("%ID%", id, "%EMAIL%", email, "%ACTIVE%", a).Replace(zdUserTemplate)
}

func zdUsers(users ...string) string {
	return `{"users":[` + strings.Join(users, ",") + `],"next_page":null,"previous_page":null,"count":` + strconv.Itoa(len(users)) + `}`
}

func zdSearch(status int, body string) step {
	return step{Method: "GET", Path: "/api/v2/users/search.json", Query: url.Values{"query": {"email:" + zdEmail}}, Status: status, Body: body}
}

func zdDelete(id string, status int, body string) step {
	return step{Method: "DELETE", Path: "/api/v2/users/" + id + "/sessions.json", Status: status, Body: body}
}

func zdList(id string, status int, body string) step {
	return step{Method: "GET", Path: "/api/v2/users/" + id + "/sessions.json", Status: status, Body: body}
}

func zdLimited() step {
	s := zdSearch(429, "")
	s.Body = zdRateLimited
	s.Header = map[string]string{"Retry-After": "93", "X-Rate-Limit": "700", "X-Rate-Limit-Remaining": "0"}
	return s
}

// openZendesk opens a zendesk connector through Build.
func openZendesk(baseURL string) (connectors.Connector, error) {
	settings := map[string]any{"base_url": baseURL, "email": zdAdmin, "token": zdToken}
	cs, err := connectors.Build([]connectors.Spec{{Name: "zendesk", Type: "zendesk", Settings: settings}}, types, connectors.Deps{})
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

func TestZendeskRevoke(t *testing.T) {
	tests := []struct {
		name       string
		subject    offboard.Subject
		steps      []step
		want       offboard.Outcome
		detail     []string       // in the detail
		kind       vendorapi.Kind // 0: no error
		retryAfter time.Duration
		text       []string // in the error text
	}{{
		name:    "a user found by email has every session deleted and none listed after",
		subject: offboard.Subject{Email: zdEmail},
		steps:   []step{zdSearch(200, zdUsers(zdUser("35436", zdEmail, true))), zdDelete("35436", 204, ""), zdList("35436", 200, zdNoSessions)},
		want:    offboard.Verified,
		detail:  []string{"ended every zendesk session of user 35436; none is listed", "not ended: OAuth access tokens"},
	}, {
		name:    "the email matches in any case",
		subject: offboard.Subject{Email: zdEmail},
		steps:   []step{zdSearch(200, zdUsers(zdUser("35436", strings.ToUpper(zdEmail), true))), zdDelete("35436", 204, ""), zdList("35436", 200, zdNoSessions)},
		want:    offboard.Verified,
	}, {
		name:    "a session still listed after the delete is acknowledged, not verified",
		subject: offboard.Subject{Email: zdEmail},
		steps:   []step{zdSearch(200, zdUsers(zdUser("35436", zdEmail, true))), zdDelete("35436", 204, ""), zdList("35436", 200, zdOneSession)},
		want:    offboard.Acknowledged,
		detail:  []string{"but 1 still listed"},
	}, {
		name:    "a token that may delete but not list sessions gives acknowledged",
		subject: offboard.Subject{Email: zdEmail},
		steps:   []step{zdSearch(200, zdUsers(zdUser("35436", zdEmail, true))), zdDelete("35436", 204, ""), zdList("35436", 403, zdForbidden)},
		want:    offboard.Acknowledged,
		detail:  []string{"could not be listed again (status 403)"},
	}, {
		name:    "no user with the email is not_found",
		subject: offboard.Subject{Email: zdEmail},
		steps:   []step{zdSearch(200, zdUsers())},
		want:    offboard.NotFound,
		detail:  []string{"no zendesk user has the primary email " + zdEmail},
	}, {
		name:    "a search hit on another address (a substring, a secondary identity) signs nobody out",
		subject: offboard.Subject{Email: zdEmail},
		steps:   []step{zdSearch(200, zdUsers(zdUser("9873843", "ab."+zdEmail, true)))},
		want:    offboard.NotFound,
	}, {
		name:    "a deleted user (active false) has no sessions and is not_found",
		subject: offboard.Subject{Email: zdEmail},
		steps:   []step{zdSearch(200, zdUsers(zdUser("35436", zdEmail, false)))},
		want:    offboard.NotFound,
	}, {
		name:    "a user deleted between the search and the delete is not_found",
		subject: offboard.Subject{Email: zdEmail},
		steps:   []step{zdSearch(200, zdUsers(zdUser("35436", zdEmail, true))), zdDelete("35436", 404, zdNoRecord)},
		want:    offboard.NotFound,
		detail:  []string{"user 35436 was deleted"},
	}, {
		name:    "a token whose user is not an admin is a permanent auth error naming zendesk's words",
		subject: offboard.Subject{Email: zdEmail},
		steps:   []step{zdSearch(200, zdUsers(zdUser("35436", zdEmail, true))), zdDelete("35436", 403, zdForbidden)},
		kind:    vendorapi.Auth,
		text:    []string{"zendesk: DELETE /api/v2/users/35436/sessions.json", "missing scope or permission", "Forbidden: You do not have access"},
	}, {
		name:    "a rejected token is a permanent auth error that names the credentials",
		subject: offboard.Subject{Email: zdEmail},
		steps:   []step{zdSearch(401, zdCannotAuth)},
		kind:    vendorapi.Auth,
		text:    []string{"credentials rejected", "Couldn't authenticate you", "status 401"},
	}, {
		name:    "a wrong base_url (404 InvalidEndpoint on the search) says what to check, never not_found",
		subject: offboard.Subject{Email: zdEmail},
		steps:   []step{zdSearch(404, zdBadEndpoint)},
		kind:    vendorapi.NotFound,
		text:    []string{"InvalidEndpoint: Not found", "check that base_url"},
	}, {
		name:    "a search that zendesk cannot complete (503) is transient",
		subject: offboard.Subject{Email: zdEmail},
		steps:   []step{zdSearch(503, zdUnavailable)},
		kind:    vendorapi.Transient,
		text:    []string{"unavailable: Sorry, we could not complete your search query"},
	}, {
		name:       "a 429 goes back to the queue with its Retry-After and zendesk's plain-text reason",
		subject:    offboard.Subject{Email: zdEmail},
		steps:      []step{zdLimited()},
		kind:       vendorapi.RateLimited,
		retryAfter: 93 * time.Second,
		text:       []string{zdRateLimited},
	}, {
		name:    "a subject without an email is invalid and sends nothing",
		subject: offboard.Subject{IDs: map[string]string{"okta": "00u1"}},
		kind:    vendorapi.Invalid,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(conformance.Script(t, zdHeaders, tt.steps...))
			t.Cleanup(srv.Close)
			c, err := openZendesk(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			ctx, detail := connectors.WithReport(t.Context())
			got, err := c.Revoke(ctx, tt.subject)
			if tt.kind == 0 {
				if err != nil {
					t.Fatalf("Revoke: unexpected error: %v", err)
				}
				if got != tt.want {
					t.Fatalf("outcome = %q, want %q", got, tt.want)
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
			if strings.Contains(err.Error(), zdToken) || strings.Contains(err.Error(), zdHeaders.Get("Authorization")[6:]) {
				t.Errorf("error holds a secret: %q", err)
			}
		})
	}
}

func TestZendeskCheck(t *testing.T) {
	me := step{Method: "GET", Path: "/api/v2/users/me.json"}
	tests := []struct {
		name   string
		status int
		body   string
		kind   vendorapi.Kind
		text   string
	}{
		{"an admin's token passes", 200, `{"user":{"id":1,"email":"` + zdAdmin + `","role":"admin","active":true}}`, 0, ""},
		{"an agent's token fails: only an admin ends another user's sessions", 200, `{"user":{"id":2,"email":"` + zdAdmin + `","role":"agent","active":true}}`, vendorapi.Auth, `is "agent", not an admin`},
		{"an answer as the anonymous user fails: the credentials were not taken", 200, `{"user":{"id":null,"name":"Anonymous user","role":"end-user"}}`, vendorapi.Auth, "anonymous"},
		{"a rejected token fails with an auth error", 401, zdCannotAuth, vendorapi.Auth, "Couldn't authenticate you"},
		{"a wrong base_url fails and says what to check", 404, zdBadEndpoint, vendorapi.NotFound, "check that base_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := me
			s.Status, s.Body = tt.status, tt.body
			srv := httptest.NewServer(conformance.Script(t, zdHeaders, s))
			t.Cleanup(srv.Close)
			c, err := openZendesk(srv.URL)
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

func TestZendeskSettings(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]any
		want     []string
	}{{
		name:     "base_url, email and token are required",
		settings: map[string]any{},
		want:     []string{"(zendesk).base_url: required", "(zendesk).email: required", "(zendesk).token: required"},
	}, {
		name:     "an api path in base_url and an email with /token are each reported",
		settings: map[string]any{"base_url": "https://example.zendesk.com/api/v2", "email": zdAdmin + "/token", "token": zdToken},
		want:     []string{"(zendesk).base_url: give the account's root without /api/v2", "(zendesk).email: must be the admin's email address"},
	}, {
		name:     "an unknown key is refused",
		settings: map[string]any{"base_url": "https://example.zendesk.com", "email": zdAdmin, "token": zdToken, "subdomain": "example"},
		want:     []string{"subdomain"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conformance.WantBuildErrors(t, types, "zendesk", tt.settings, tt.want, zdToken)
		})
	}
}

func TestZendeskConformance(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		New:     openZendesk,
		Secret:  zdToken,
		Subject: offboard.Subject{Email: zdEmail},
		Handler: func(t *testing.T, s conformance.Scenario) http.Handler {
			switch s {
			case conformance.Success:
				return conformance.Script(t, zdHeaders, zdSearch(200, zdUsers(zdUser("35436", zdEmail, true))),
					zdDelete("35436", 204, ""), zdList("35436", 200, zdNoSessions))
			case conformance.NotFound:
				return conformance.Script(t, zdHeaders, zdSearch(200, zdUsers()))
			case conformance.RateLimited:
				return conformance.Script(t, zdHeaders, zdLimited())
			case conformance.ServerError:
				return conformance.Script(t, zdHeaders, zdSearch(503, zdUnavailable))
			case conformance.Unauthorized:
				return conformance.Script(t, zdHeaders, zdSearch(401, zdCannotAuth))
			}
			return conformance.Hanging()
		},
	})
}

// step is one scripted exchange of the Zendesk fake.
type step = conformance.Step

// types holds the zendesk type alone, for Build.
var types = map[string]func() connectors.Config{"zendesk": func() connectors.Config { return new(zendesk.Config) }}
