package keycloak_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/connectors/keycloak"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/connectors/conformance"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// The fake below is shaped from Keycloak's documentation and source: the
// client credentials grant at the realm's token endpoint
// (https://www.keycloak.org/docs/latest/securing_apps/index.html), the Admin
// REST API's users, logout, sessions and consents
// (https://www.keycloak.org/docs-api/latest/rest-api/index.html#_users,
// UserResource.java), and the error bodies Keycloak answers:
// {"error":"HTTP 401 Unauthorized"}, {"error":"User not found"},
// {"error":"Realm does not exist"}.

const (
	kcClientID    = "offboarder"
	kcSecret      = "kc-test-client-secret-5e1f0a9b8c7d"
	kcAccessToken = "eyJhbGciOiJSUzI1NiJ9.kc-test-service-account.sig"
	kcEmail       = "isaac.brock@example.com"
	kcID          = "0f6e3a5c-7f43-4b1e-9d2a-6c0b8e1f2a3d"
	kcTwinID      = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
	kcRealm       = "/admin/realms/demo"
)

var kcHeaders = http.Header{
	"Authorization": {"Bearer " + kcAccessToken},
	"User-Agent":    {"offboarder"},
	"Accept":        {"application/json"},
}

// openKeycloak opens a keycloak connector through the registry; extra
// settings are added to the defaults (realm "demo").
func openKeycloak(baseURL string, extra map[string]any) (connectors.Connector, error) {
	settings := map[string]any{"base_url": baseURL, "realm": "demo", "client_id": kcClientID, "client_secret": kcSecret}
	for k, v := range extra {
		settings[k] = v
	}
	cs, err := connectors.Build([]connectors.Spec{{Name: "keycloak", Type: "keycloak", Settings: settings}}, types, connectors.Deps{})
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

// kcToken is what the fake token endpoint answers at the escaped path ("" means
// /realms/demo/protocol/openid-connect/token); a zero status issues
// kcAccessToken.
type kcToken struct {
	path   string
	status int
	body   string
}

// keycloakFake serves the token endpoint, checking the client credentials
// grant, and the scripted Admin API everywhere else.
func keycloakFake(t *testing.T, tok kcToken, steps ...step) http.Handler {
	t.Helper()
	path := tok.path
	if path == "" {
		path = "/realms/demo/protocol/openid-connect/token"
	}
	api := conformance.Script(t, kcHeaders, steps...)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.EscapedPath() != path {
			api.ServeHTTP(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			t.Errorf("token request: %v", err)
		}
		want := url.Values{"grant_type": {"client_credentials"}, "client_id": {kcClientID}, "client_secret": {kcSecret}}
		if r.PostForm.Encode() != want.Encode() {
			t.Errorf("token request form = %q, want the client credentials grant",
				strings.ReplaceAll(r.PostForm.Encode(), kcSecret, "<secret>"))
		}
		w.Header().Set("Content-Type", "application/json")
		if tok.status != 0 {
			w.WriteHeader(tok.status)
			fmt.Fprint(w, tok.body)
			return
		}
		fmt.Fprintf(w, `{"access_token":%q,"expires_in":300,"refresh_expires_in":0,"token_type":"Bearer","not-before-policy":0,"scope":"profile email"}`, kcAccessToken)
	})
}

const (
	kcNoUser      = `{"error":"User not found"}`
	kcNoRealm     = `{"error":"Realm not found."}`
	kcBadToken    = `{"error":"HTTP 401 Unauthorized"}`
	kcForbidden   = `{"error":"HTTP 403 Forbidden"}`
	kcUnavailable = `{"error":"unknown_error"}`
	kcOneSession  = `[{"id":"b1c2d3e4-session","username":"isaac","userId":"` + kcID + `","ipAddress":"192.0.2.10","start":1716976800000,"lastAccess":1716980400000,"rememberMe":false,"clients":{"a1b2":"web"}}]`
	kcWebConsent  = `{"clientId":"web","grantedClientScopes":["profile"],"createdDate":1716976800000,"lastUpdatedDate":1716976800000,"additionalGrants":[]}`
	kcAppOffline  = `{"clientId":"mobile-app","grantedClientScopes":[],"createdDate":null,"lastUpdatedDate":null,"additionalGrants":[{"client":"c3d4","key":"Offline Token"}]}`
)

// kcUsers is a user search answer with a user per id, all with kcEmail.
func kcUsers(ids ...string) string {
	var us []string
	for _, id := range ids {
		us = append(us, `{"id":"`+id+`","username":"isaac","enabled":true,"emailVerified":true,"email":"`+kcEmail+`","createdTimestamp":1716976800000}`)
	}
	return "[" + strings.Join(us, ",") + "]"
}

func kcSearch(status int, body string) step {
	return step{Method: "GET", Path: kcRealm + "/users", Status: status, Body: body,
		Query: url.Values{"email": {kcEmail}, "exact": {"true"}, "briefRepresentation": {"true"}}}
}

func kcLogout(id string, status int, body string) step {
	return step{Method: "POST", Path: kcRealm + "/users/" + id + "/logout", Status: status, Body: body}
}

// kcConsents is sent together with kcLogout (kcConsents(…).With()), and
// again together with kcSessions once the logout and the revocations have
// answered: the outcome rests on that second listing.
func kcConsents(id string, status int, body string) step {
	return step{Method: "GET", Path: kcRealm + "/users/" + id + "/consents", Status: status, Body: body}
}

func kcRevokeConsent(id, client string, status int, body string) step {
	return step{Method: "DELETE", Path: kcRealm + "/users/" + id + "/consents/" + client, Status: status, Body: body}
}

func kcSessions(id string, status int, body string) step {
	return step{Method: "GET", Path: kcRealm + "/users/" + id + "/sessions", Status: status, Body: body}
}

// kcLimited is the user search answered 429 by a proxy in front of
// Keycloak, which has no rate limit of its own, with Retry-After.
func kcLimited() step {
	s := kcSearch(429, "")
	s.Header = map[string]string{"Retry-After": "30"}
	return s
}

// kcLoggedOut is the whole exchange for one user without offline tokens
// whose sessions read back empty.
func kcLoggedOut(id string) []step {
	return []step{kcLogout(id, 204, ""), kcConsents(id, 200, "[]").With(), kcSessions(id, 200, "[]"), kcConsents(id, 200, "[]").With()}
}

func TestKeycloakRevoke(t *testing.T) {
	tests := []struct {
		name       string
		subject    offboard.Subject
		steps      []step
		want       offboard.Outcome
		kind       vendorapi.Kind // 0: no error
		retryAfter time.Duration
		text       []string // in the error text
	}{{
		name:    "a user found by email is logged out and has no session left",
		subject: offboard.Subject{Email: kcEmail},
		steps:   slices.Concat([]step{kcSearch(200, kcUsers(kcID))}, kcLoggedOut(kcID)),
		want:    offboard.Verified,
	}, {
		name:    "offline tokens survive a logout, so their client's consent is revoked and read back",
		subject: offboard.Subject{Email: kcEmail},
		steps: []step{
			kcSearch(200, kcUsers(kcID)), kcLogout(kcID, 204, ""),
			kcConsents(kcID, 200, "["+kcWebConsent+","+kcAppOffline+"]").With(),
			kcRevokeConsent(kcID, "mobile-app", 204, ""),
			kcSessions(kcID, 200, "[]"), kcConsents(kcID, 200, "["+kcWebConsent+"]").With(),
		},
		want: offboard.Verified,
	}, {
		name:    "offline tokens obtained while the logout was under way are revoked from the read-back",
		subject: offboard.Subject{Email: kcEmail},
		steps: []step{
			kcSearch(200, kcUsers(kcID)), kcLogout(kcID, 204, ""), kcConsents(kcID, 200, "["+kcWebConsent+"]").With(),
			kcSessions(kcID, 200, "[]"), kcConsents(kcID, 200, "["+kcWebConsent+","+kcAppOffline+"]").With(),
			kcRevokeConsent(kcID, "mobile-app", 204, ""), kcConsents(kcID, 200, "["+kcWebConsent+"]"),
		},
		want: offboard.Verified,
	}, {
		name:    "offline tokens still listed after two rounds of revoking are acknowledged, not verified",
		subject: offboard.Subject{Email: kcEmail},
		steps: []step{
			kcSearch(200, kcUsers(kcID)), kcLogout(kcID, 204, ""), kcConsents(kcID, 200, "["+kcAppOffline+"]").With(),
			kcRevokeConsent(kcID, "mobile-app", 204, ""), kcSessions(kcID, 200, "[]"), kcConsents(kcID, 200, "["+kcAppOffline+"]").With(),
			kcRevokeConsent(kcID, "mobile-app", 204, ""), kcConsents(kcID, 200, "["+kcAppOffline+"]"),
		},
		want: offboard.Acknowledged,
	}, {
		name:    "a consent already gone (404) counts as revoked",
		subject: offboard.Subject{Email: kcEmail},
		steps: []step{
			kcSearch(200, kcUsers(kcID)), kcLogout(kcID, 204, ""), kcConsents(kcID, 200, "["+kcAppOffline+"]").With(),
			kcRevokeConsent(kcID, "mobile-app", 404, `{"error":"Consent nor offline token not found"}`),
			kcSessions(kcID, 200, "[]"), kcConsents(kcID, 200, "[]").With(),
		},
		want: offboard.Verified,
	}, {
		name:    "a session still listed after the logout is acknowledged, not verified",
		subject: offboard.Subject{Email: kcEmail},
		steps: []step{
			kcSearch(200, kcUsers(kcID)), kcLogout(kcID, 204, ""), kcConsents(kcID, 200, "[]").With(),
			kcSessions(kcID, 200, kcOneSession), kcConsents(kcID, 200, "[]").With(),
		},
		want: offboard.Acknowledged,
	}, {
		name:    "every user of a realm with duplicate emails is logged out",
		subject: offboard.Subject{Email: kcEmail},
		steps:   slices.Concat([]step{kcSearch(200, kcUsers(kcID, kcTwinID))}, kcLoggedOut(kcID), kcLoggedOut(kcTwinID)),
		want:    offboard.Verified,
	}, {
		name:    "no user with the email is not_found",
		subject: offboard.Subject{Email: kcEmail},
		steps:   []step{kcSearch(200, "[]")},
		want:    offboard.NotFound,
	}, {
		name:    "a server that ignores exact and answers a substring match logs nobody else out",
		subject: offboard.Subject{Email: kcEmail},
		steps:   []step{kcSearch(200, `[{"id":"`+kcTwinID+`","username":"ab","email":"ab.`+kcEmail+`"}]`)},
		want:    offboard.NotFound,
	}, {
		name:    "a user deleted between the lookup and the logout is not_found",
		subject: offboard.Subject{Email: kcEmail},
		steps:   []step{kcSearch(200, kcUsers(kcID)), conformance.Unsure(kcLogout(kcID, 404, kcNoUser)), kcConsents(kcID, 404, kcNoUser).Maybe()},
		want:    offboard.NotFound,
	}, {
		name:    "credentials that may log out but not read sessions give acknowledged",
		subject: offboard.Subject{Email: kcEmail},
		steps: []step{kcSearch(200, kcUsers(kcID)), kcLogout(kcID, 204, ""), kcConsents(kcID, 200, "[]").With(),
			conformance.Unsure(kcSessions(kcID, 403, kcForbidden)), kcConsents(kcID, 403, kcForbidden).Maybe()},
		want: offboard.Acknowledged,
	}, {
		name:    "a service account without manage-users is a permanent auth error",
		subject: offboard.Subject{Email: kcEmail},
		steps:   []step{kcSearch(200, kcUsers(kcID)), kcLogout(kcID, 403, kcForbidden), kcConsents(kcID, 200, "[]").Maybe()},
		kind:    vendorapi.Auth,
		text:    []string{"keycloak: POST " + kcRealm + "/users/" + kcID + "/logout", "missing scope or permission", "HTTP 403 Forbidden"},
	}, {
		name:    "an unknown realm is a permanent error that says what to check, never not_found",
		subject: offboard.Subject{Email: kcEmail},
		steps:   []step{kcSearch(404, kcNoRealm)},
		kind:    vendorapi.NotFound,
		text:    []string{"Realm not found.", "check realm", "/auth"},
	}, {
		name:    "a rejected access token is a permanent auth error that names the credentials",
		subject: offboard.Subject{Email: kcEmail},
		steps:   []step{kcSearch(401, kcBadToken)},
		kind:    vendorapi.Auth,
		text:    []string{"credentials rejected", "HTTP 401 Unauthorized", "status 401"},
	}, {
		name:    "a keycloak server error is transient",
		subject: offboard.Subject{Email: kcEmail},
		steps:   []step{kcSearch(200, kcUsers(kcID)), kcLogout(kcID, 500, kcUnavailable), kcConsents(kcID, 200, "[]").Maybe()},
		kind:    vendorapi.Transient,
		text:    []string{"unknown_error"},
	}, {
		name:       "a 429 from a proxy in front goes back to the queue with its Retry-After",
		subject:    offboard.Subject{Email: kcEmail},
		steps:      []step{kcLimited()},
		kind:       vendorapi.RateLimited,
		retryAfter: 30 * time.Second,
	}, {
		name:    "a subject without an email is invalid and sends nothing",
		subject: offboard.Subject{IDs: map[string]string{"okta": "00u1"}},
		kind:    vendorapi.Invalid,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(keycloakFake(t, kcToken{}, tt.steps...))
			t.Cleanup(srv.Close)
			c, err := openKeycloak(srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Revoke(t.Context(), tt.subject)
			if tt.kind == 0 {
				if err != nil {
					t.Fatalf("Revoke: unexpected error: %v", err)
				}
				if got != tt.want {
					t.Fatalf("outcome = %q, want %q", got, tt.want)
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
			if strings.Contains(err.Error(), kcSecret) || strings.Contains(err.Error(), kcAccessToken) {
				t.Errorf("error holds a secret: %q", err)
			}
		})
	}
}

func TestKeycloakPaths(t *testing.T) {
	t.Run("a base_url with the legacy /auth context path prefixes the token endpoint and the admin api", func(t *testing.T) {
		steps := []step{kcSearch(200, "[]")}
		steps[0].Path = "/auth" + steps[0].Path
		srv := httptest.NewServer(keycloakFake(t, kcToken{path: "/auth/realms/demo/protocol/openid-connect/token"}, steps...))
		t.Cleanup(srv.Close)
		c, err := openKeycloak(srv.URL+"/auth/", nil)
		if err != nil {
			t.Fatal(err)
		}
		if out, err := c.Revoke(t.Context(), offboard.Subject{Email: kcEmail}); err != nil || out != offboard.NotFound {
			t.Fatalf("Revoke = %q, %v; want not_found", out, err)
		}
	})
	t.Run("a realm name is escaped in every path", func(t *testing.T) {
		steps := []step{kcSearch(200, "[]")}
		steps[0].Path = "/admin/realms/acme%20corp/users"
		srv := httptest.NewServer(keycloakFake(t, kcToken{path: "/realms/acme%20corp/protocol/openid-connect/token"}, steps...))
		t.Cleanup(srv.Close)
		c, err := openKeycloak(srv.URL, map[string]any{"realm": "acme corp"})
		if err != nil {
			t.Fatal(err)
		}
		if out, err := c.Revoke(t.Context(), offboard.Subject{Email: kcEmail}); err != nil || out != offboard.NotFound {
			t.Fatalf("Revoke = %q, %v; want not_found", out, err)
		}
	})
	t.Run("token_url is where the token is fetched", func(t *testing.T) {
		srv := httptest.NewServer(keycloakFake(t, kcToken{path: "/realms/master/protocol/openid-connect/token"}, kcSearch(200, "[]")))
		t.Cleanup(srv.Close)
		c, err := openKeycloak(srv.URL, map[string]any{"token_url": srv.URL + "/realms/master/protocol/openid-connect/token"})
		if err != nil {
			t.Fatal(err)
		}
		if out, err := c.Revoke(t.Context(), offboard.Subject{Email: kcEmail}); err != nil || out != offboard.NotFound {
			t.Fatalf("Revoke = %q, %v; want not_found", out, err)
		}
	})
}

func TestKeycloakToken(t *testing.T) {
	tests := []struct {
		name string
		tok  kcToken
		kind vendorapi.Kind
		text []string
	}{{
		name: "a wrong client secret (401) is a permanent auth error",
		tok:  kcToken{status: 401, body: `{"error":"unauthorized_client","error_description":"Invalid client or Invalid client credentials"}`},
		kind: vendorapi.Auth,
		text: []string{"fetching an access token", "credentials rejected", "Invalid client or Invalid client credentials"},
	}, {
		name: "a client without service accounts enabled (400 unauthorized_client) is a permanent auth error",
		tok:  kcToken{status: 400, body: `{"error":"unauthorized_client","error_description":"Client not enabled to retrieve service account"}`},
		kind: vendorapi.Auth,
		text: []string{"credentials rejected", "Client not enabled to retrieve service account"},
	}, {
		name: "an unknown realm at the token endpoint says what to check",
		tok:  kcToken{status: 404, body: `{"error":"Realm does not exist"}`},
		kind: vendorapi.NotFound,
		text: []string{"fetching an access token", "check realm", "/auth"},
	}, {
		name: "a token endpoint that is down is transient",
		tok:  kcToken{status: 503, body: `{"error":"unknown_error"}`},
		kind: vendorapi.Transient,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(keycloakFake(t, tt.tok))
			t.Cleanup(srv.Close)
			c, err := openKeycloak(srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Revoke(t.Context(), offboard.Subject{Email: kcEmail})
			if e, ok := errors.AsType[*vendorapi.Error](err); !ok || e.Kind != tt.kind {
				t.Fatalf("error = %v, want kind %v", err, tt.kind)
			}
			for _, s := range tt.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if strings.Contains(err.Error(), kcSecret) {
				t.Errorf("error holds the client secret: %q", err)
			}
		})
	}
}

func TestKeycloakCheck(t *testing.T) {
	list := step{Method: "GET", Path: kcRealm + "/users", Query: url.Values{"max": {"1"}, "briefRepresentation": {"true"}}}
	tests := []struct {
		name   string
		status int
		body   string
		kind   vendorapi.Kind
		text   string
	}{
		{"a service account that can view users passes", 200, kcUsers(kcID), 0, ""},
		{"a service account without view-users fails with an auth error", 403, kcForbidden, vendorapi.Auth, "HTTP 403 Forbidden"},
		{"an unknown realm fails and says what to check", 404, kcNoRealm, vendorapi.NotFound, "check realm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := list
			s.Status, s.Body = tt.status, tt.body
			srv := httptest.NewServer(keycloakFake(t, kcToken{}, s))
			t.Cleanup(srv.Close)
			c, err := openKeycloak(srv.URL, nil)
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

func TestKeycloakSettings(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]any
		want     []string
	}{{
		name:     "base_url, realm, client_id and client_secret are required",
		settings: map[string]any{},
		want: []string{"(keycloak).base_url: required", "(keycloak).realm: required",
			"(keycloak).client_id: required", "(keycloak).client_secret: required"},
	}, {
		name: "an admin path in base_url, a realm with a slash and a bad token_url are each reported",
		settings: map[string]any{"base_url": "https://sso.example.com/admin/realms/demo", "realm": "demo/x",
			"client_id": kcClientID, "client_secret": kcSecret, "token_url": "https://" + kcSecret + "@sso.example.com/token"},
		want: []string{
			"(keycloak).base_url: give the server root without /admin or /realms",
			"(keycloak).realm: must be the realm's name",
			"(keycloak).token_url: must not hold credentials",
		},
	}, {
		name: "a realm url as base_url is refused",
		settings: map[string]any{"base_url": "https://sso.example.com/auth/realms/demo", "realm": "demo",
			"client_id": kcClientID, "client_secret": kcSecret},
		want: []string{"(keycloak).base_url: give the server root without /admin or /realms"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conformance.WantBuildErrors(t, types, "keycloak", tt.settings, tt.want, kcSecret)
		})
	}
	t.Run("a base_url with /auth is accepted", func(t *testing.T) {
		if _, err := openKeycloak("https://sso.example.com/auth", nil); err != nil {
			t.Fatal(err)
		}
	})
}

func TestKeycloakConformance(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		New:     func(base string) (connectors.Connector, error) { return openKeycloak(base, nil) },
		Secret:  kcSecret,
		Subject: offboard.Subject{Email: kcEmail},
		Handler: func(t *testing.T, s conformance.Scenario) http.Handler {
			switch s {
			case conformance.Success:
				return keycloakFake(t, kcToken{}, slices.Concat([]step{kcSearch(200, kcUsers(kcID))}, kcLoggedOut(kcID))...)
			case conformance.NotFound:
				return keycloakFake(t, kcToken{}, kcSearch(200, "[]"))
			case conformance.RateLimited:
				return keycloakFake(t, kcToken{}, kcLimited())
			case conformance.ServerError:
				return keycloakFake(t, kcToken{}, kcSearch(503, kcUnavailable))
			case conformance.Unauthorized:
				return keycloakFake(t, kcToken{}, kcSearch(401, kcBadToken))
			}
			return conformance.Hanging()
		},
	})
}

// step is one scripted exchange of the Keycloak fake.
type step = conformance.Step

// types holds the keycloak type alone, for Build.
var types = map[string]func() connectors.Config{"keycloak": func() connectors.Config { return new(keycloak.Config) }}
