package auth0_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/connectors/auth0"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/connectors/conformance"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// The fake below is shaped from Auth0's documentation: the client
// credentials exchange for a Management API token
// (https://auth0.com/docs/secure/tokens/access-tokens/management-api-access-tokens/get-management-api-access-tokens-for-production),
// users-by-email, the user sessions and refresh-token endpoints
// (https://auth0.com/docs/api/management/v2), and the rate-limit headers
// (https://auth0.com/docs/troubleshoot/customer-support/operational-policies/rate-limit-policy).

const (
	auth0ClientID    = "Rk3fDqX9sUvE2mJ7pL0aZcY8"
	auth0Secret      = "auth0-test-client-secret-9f8e7d6c5b4a"
	auth0AccessToken = "eyJhbGciOiJSUzI1NiJ9.test-management-token.sig"
	auth0Email       = "isaac.brock@example.com"
	auth0ID          = "auth0|5f7c8ec7c33c6c004bbafe82"
	auth0IDPath      = "auth0%7C5f7c8ec7c33c6c004bbafe82"
	auth0SocialID    = "google-oauth2|103547991597142817347"
	auth0SocialPath  = "google-oauth2%7C103547991597142817347"
)

var auth0Headers = http.Header{
	"Authorization": {"Bearer " + auth0AccessToken},
	"User-Agent":    {"offboarder"},
	"Accept":        {"application/json"},
}

// openAuth0 opens an auth0 connector through the registry; extra settings
// are added to the defaults.
func openAuth0(baseURL string, extra map[string]any) (connectors.Connector, error) {
	settings := map[string]any{"base_url": baseURL, "client_id": auth0ClientID, "client_secret": auth0Secret}
	for k, v := range extra {
		settings[k] = v
	}
	cs, err := connectors.Build([]connectors.Spec{{Name: "auth0", Type: "auth0", Settings: settings}}, types, connectors.Deps{})
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

// auth0TokenAnswer is what the fake token endpoint answers at path (""
// means /oauth/token); a zero status issues auth0AccessToken.
type auth0TokenAnswer struct {
	path     string
	audience string // the audience the request must ask for; "" means the fake's own /api/v2/
	status   int
	header   map[string]string
	body     string
}

// auth0Fake serves the token endpoint, checking the client credentials
// grant and its audience, and the scripted Management API everywhere else.
func auth0Fake(t *testing.T, tok auth0TokenAnswer, steps ...step) http.Handler {
	t.Helper()
	path := tok.path
	if path == "" {
		path = "/oauth/token"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+path, func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("token request: %v", err)
		}
		audience := tok.audience
		if audience == "" {
			audience = "http://" + r.Host + "/api/v2/"
		}
		want := url.Values{
			"grant_type":    {"client_credentials"},
			"client_id":     {auth0ClientID},
			"client_secret": {auth0Secret},
			"audience":      {audience},
		}
		if r.PostForm.Encode() != want.Encode() {
			t.Errorf("token request form = %q, want %q", strings.ReplaceAll(r.PostForm.Encode(), auth0Secret, "<secret>"),
				strings.ReplaceAll(want.Encode(), auth0Secret, "<secret>"))
		}
		w.Header().Set("Content-Type", "application/json")
		for k, v := range tok.header {
			w.Header().Set(k, v)
		}
		if tok.status != 0 {
			w.WriteHeader(tok.status)
			fmt.Fprint(w, tok.body)
			return
		}
		fmt.Fprintf(w, `{"access_token":%q,"scope":"read:users delete:sessions read:sessions delete:refresh_tokens read:refresh_tokens","expires_in":86400,"token_type":"Bearer"}`, auth0AccessToken)
	})
	mux.Handle("/", conformance.Script(t, auth0Headers, steps...))
	return mux
}

func auth0Err(status int, errText, message, code string) string {
	s := fmt.Sprintf(`{"statusCode":%d,"error":%q,"message":%q`, status, errText, message)
	if code != "" {
		s += fmt.Sprintf(`,"errorCode":%q`, code)
	}
	return s + "}"
}

var (
	auth0NoUser       = auth0Err(404, "Not Found", "The user does not exist.", "inexistent_user")
	auth0BadToken     = `{"statusCode":401,"error":"Unauthorized","message":"Invalid token","attributes":{"error":"Invalid token"}}`
	auth0NoScope      = auth0Err(403, "Forbidden", "Insufficient scope, expected any of: delete:sessions", "insufficient_scope")
	auth0NoReadScope  = auth0Err(403, "Forbidden", "Insufficient scope, expected any of: read:sessions", "insufficient_scope")
	auth0TooMany      = auth0Err(429, "Too Many Requests", "Global limit has been reached", "too_many_requests")
	auth0Unavailable  = auth0Err(503, "Service Unavailable", "The service is temporarily unavailable", "")
	auth0NoSessions   = `{"sessions":[]}`
	auth0NoTokens     = `{"tokens":[]}`
	auth0OneSession   = `{"sessions":[{"id":"4gKx-session","user_id":"` + auth0ID + `","created_at":"2024-05-29T10:00:00.000Z","clients":[{"client_id":"app"}]}],"next":"n1"}`
	auth0OneToken     = `{"tokens":[{"id":"tokn_1","user_id":"` + auth0ID + `","client_id":"app","session_id":"4gKx-session","rotating":true}],"next":"n1"}`
	auth0UsersByEmail = url.Values{"email": {auth0Email}, "fields": {"user_id,email"}, "include_fields": {"true"}}
	auth0Take1        = url.Values{"take": {"1"}}
)

func auth0Users(ids ...string) string {
	var us []string
	for _, id := range ids {
		us = append(us, `{"user_id":"`+id+`","email":"`+auth0Email+`"}`)
	}
	return "[" + strings.Join(us, ",") + "]"
}

func byEmail(status int, body string) step {
	return step{Method: "GET", Path: "/api/v2/users-by-email", Query: auth0UsersByEmail, Status: status, Body: body}
}

func delSessions(idPath string, status int, body string) step {
	return step{Method: "DELETE", Path: "/api/v2/users/" + idPath + "/sessions", Status: status, Body: body}
}

// delRefresh is sent together with delSessions.
func delRefresh(idPath string, status int, body string) step {
	return step{Method: "DELETE", Path: "/api/v2/users/" + idPath + "/refresh-tokens", Status: status, Body: body, Together: true}
}

func getSessions(idPath string, status int, body string) step {
	return step{Method: "GET", Path: "/api/v2/users/" + idPath + "/sessions", Query: auth0Take1, Status: status, Body: body}
}

// getRefresh is sent together with getSessions.
func getRefresh(idPath string, status int, body string) step {
	return step{Method: "GET", Path: "/api/v2/users/" + idPath + "/refresh-tokens", Query: auth0Take1, Status: status, Body: body, Together: true}
}

// auth0Revoked is the whole exchange for one user whose lists read back empty.
func auth0Revoked(idPath string) []step {
	return []step{
		delSessions(idPath, 202, ""), delRefresh(idPath, 202, ""),
		getSessions(idPath, 200, auth0NoSessions), getRefresh(idPath, 200, auth0NoTokens),
	}
}

func auth0RateLimited(s step, resetIn time.Duration) step {
	s.Status, s.Body = 429, auth0TooMany
	s.Header = map[string]string{
		"X-RateLimit-Limit":     "50",
		"X-RateLimit-Remaining": "0",
		"X-RateLimit-Reset":     strconv.FormatInt(time.Now().Add(resetIn).Unix(), 10),
	}
	return s
}

func TestAuth0Revoke(t *testing.T) {
	tests := []struct {
		name       string
		subject    offboard.Subject
		steps      []step
		want       offboard.Outcome
		kind       vendorapi.Kind   // 0: no error
		retryAfter [2]time.Duration // vendorapi.RetryAfter expected within [min, max]
		text       []string         // in the error text
	}{{
		name:    "a user found by email has sessions and refresh tokens deleted and both read back empty",
		subject: offboard.Subject{Email: auth0Email},
		steps:   slices.Concat([]step{byEmail(200, auth0Users(auth0ID))}, auth0Revoked(auth0IDPath)),
		want:    offboard.Verified,
	}, {
		name:    "an auth0 id on the subject is used without a lookup",
		subject: offboard.Subject{Email: auth0Email, IDs: map[string]string{"auth0": auth0ID}},
		steps:   auth0Revoked(auth0IDPath),
		want:    offboard.Verified,
	}, {
		name:    "an auth0 id unknown to this tenant falls back to the email",
		subject: offboard.Subject{Email: auth0Email, IDs: map[string]string{"auth0": "auth0|other"}},
		steps: slices.Concat([]step{delSessions("auth0%7Cother", 404, auth0NoUser).Maybe(), delRefresh("auth0%7Cother", 404, auth0NoUser).Maybe(), byEmail(200, auth0Users(auth0ID))},
			auth0Revoked(auth0IDPath)),
		want: offboard.Verified,
	}, {
		name:    "every user with the email is revoked, one per connection",
		subject: offboard.Subject{Email: auth0Email},
		steps:   slices.Concat([]step{byEmail(200, auth0Users(auth0ID, auth0SocialID))}, auth0Revoked(auth0IDPath), auth0Revoked(auth0SocialPath)),
		want:    offboard.Verified,
	}, {
		name:    "sessions still listed after the accepted deletion are read again until gone",
		subject: offboard.Subject{Email: auth0Email},
		steps: []step{
			byEmail(200, auth0Users(auth0ID)), delSessions(auth0IDPath, 202, ""), delRefresh(auth0IDPath, 202, ""),
			getSessions(auth0IDPath, 200, auth0OneSession), getRefresh(auth0IDPath, 200, auth0NoTokens),
			getSessions(auth0IDPath, 200, auth0NoSessions), getRefresh(auth0IDPath, 200, auth0NoTokens),
		},
		want: offboard.Verified,
	}, {
		name:    "a deletion still in progress after three read-backs is acknowledged",
		subject: offboard.Subject{Email: auth0Email},
		steps: []step{
			byEmail(200, auth0Users(auth0ID)), delSessions(auth0IDPath, 202, ""), delRefresh(auth0IDPath, 202, ""),
			getSessions(auth0IDPath, 200, auth0NoSessions), getRefresh(auth0IDPath, 200, auth0OneToken),
			getSessions(auth0IDPath, 200, auth0NoSessions), getRefresh(auth0IDPath, 200, auth0OneToken),
			getSessions(auth0IDPath, 200, auth0NoSessions), getRefresh(auth0IDPath, 200, auth0OneToken),
		},
		want: offboard.Acknowledged,
	}, {
		name:    "one user verified and one still in progress make the revoke acknowledged",
		subject: offboard.Subject{Email: auth0Email},
		steps: slices.Concat([]step{byEmail(200, auth0Users(auth0SocialID, auth0ID))}, auth0Revoked(auth0SocialPath), []step{
			delSessions(auth0IDPath, 202, ""), delRefresh(auth0IDPath, 202, ""),
			getSessions(auth0IDPath, 200, auth0OneSession), getRefresh(auth0IDPath, 200, auth0NoTokens),
			getSessions(auth0IDPath, 200, auth0OneSession), getRefresh(auth0IDPath, 200, auth0NoTokens),
			getSessions(auth0IDPath, 200, auth0OneSession), getRefresh(auth0IDPath, 200, auth0NoTokens),
		}),
		want: offboard.Acknowledged,
	}, {
		name:    "credentials that may not read sessions back leave the accepted deletion acknowledged",
		subject: offboard.Subject{Email: auth0Email},
		steps: []step{
			byEmail(200, auth0Users(auth0ID)), delSessions(auth0IDPath, 202, ""), delRefresh(auth0IDPath, 202, ""),
			getSessions(auth0IDPath, 403, auth0NoReadScope), getRefresh(auth0IDPath, 200, auth0NoTokens).Maybe(),
		},
		want: offboard.Acknowledged,
	}, {
		name:    "no user with the email is not_found",
		subject: offboard.Subject{Email: auth0Email},
		steps:   []step{byEmail(200, "[]")},
		want:    offboard.NotFound,
	}, {
		name:    "a hit whose email is another address is not revoked",
		subject: offboard.Subject{Email: auth0Email},
		steps:   []step{byEmail(200, `[{"user_id":"auth0|x","email":"someone.else@example.com"}]`)},
		want:    offboard.NotFound,
	}, {
		name:    "a user deleted between lookup and deletion is not_found",
		subject: offboard.Subject{Email: auth0Email},
		steps:   []step{byEmail(200, auth0Users(auth0ID)), delSessions(auth0IDPath, 404, auth0NoUser).Maybe(), delRefresh(auth0IDPath, 404, auth0NoUser).Maybe()},
		want:    offboard.NotFound,
	}, {
		name:    "a 429 whose reset is a second away is waited out inside the attempt",
		subject: offboard.Subject{Email: auth0Email},
		steps:   slices.Concat([]step{auth0RateLimited(byEmail(0, ""), time.Second), byEmail(200, auth0Users(auth0ID))}, auth0Revoked(auth0IDPath)),
		want:    offboard.Verified,
	}, {
		name:    "a 429 whose reset is far away goes back to the queue with the wait",
		subject: offboard.Subject{Email: auth0Email},
		steps:   []step{byEmail(200, auth0Users(auth0ID)), auth0RateLimited(delSessions(auth0IDPath, 0, ""), 30*time.Second), delRefresh(auth0IDPath, 202, "")},
		kind:    vendorapi.RateLimited,
		// The reset is an epoch second set when the table is built, a few
		// seconds of earlier read-back waits ago.
		retryAfter: [2]time.Duration{15 * time.Second, 30 * time.Second},
		text:       []string{"too_many_requests: Global limit has been reached", "rate limited"},
	}, {
		name:    "a token without delete:sessions is a permanent auth error naming the scope",
		subject: offboard.Subject{Email: auth0Email},
		steps:   []step{byEmail(200, auth0Users(auth0ID)), delSessions(auth0IDPath, 403, auth0NoScope), delRefresh(auth0IDPath, 202, "").Maybe()},
		kind:    vendorapi.Auth,
		text:    []string{"missing scope or permission", "insufficient_scope", "delete:sessions"},
	}, {
		name:    "a rejected token is a permanent auth error that names the credentials",
		subject: offboard.Subject{Email: auth0Email},
		steps:   []step{byEmail(401, auth0BadToken)},
		kind:    vendorapi.Auth,
		text:    []string{"auth0: ", "credentials rejected", "Unauthorized: Invalid token", "status 401"},
	}, {
		name:    "an auth0 server error while deleting refresh tokens is transient",
		subject: offboard.Subject{Email: auth0Email},
		steps:   []step{byEmail(200, auth0Users(auth0ID)), delSessions(auth0IDPath, 202, ""), delRefresh(auth0IDPath, 503, auth0Unavailable)},
		kind:    vendorapi.Transient,
		text:    []string{"Service Unavailable: The service is temporarily unavailable"},
	}, {
		name:    "a subject with neither an email nor an auth0 id is invalid and sends nothing",
		subject: offboard.Subject{},
		kind:    vendorapi.Invalid,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(auth0Fake(t, auth0TokenAnswer{}, tt.steps...))
			t.Cleanup(srv.Close)
			c, err := openAuth0(srv.URL, nil)
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
			if e.RetryAfter < tt.retryAfter[0] || e.RetryAfter > tt.retryAfter[1] {
				t.Errorf("RetryAfter = %v, want within %v", e.RetryAfter, tt.retryAfter)
			}
			for _, s := range tt.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if strings.Contains(err.Error(), auth0Secret) || strings.Contains(err.Error(), auth0AccessToken) {
				t.Errorf("error holds a secret: %q", err)
			}
		})
	}
}

func TestAuth0Token(t *testing.T) {
	tests := []struct {
		name  string
		tok   auth0TokenAnswer
		extra func(base string) map[string]any
		kind  vendorapi.Kind // 0: the revoke succeeds
		wait  time.Duration  // minimum vendorapi.RetryAfter expected
		text  []string
	}{{
		name:  "token_url is where the token is fetched",
		tok:   auth0TokenAnswer{path: "/custom/token"},
		extra: func(base string) map[string]any { return map[string]any{"token_url": base + "/custom/token"} },
	}, {
		name:  "a base_url with a trailing slash gives the same audience",
		extra: func(base string) map[string]any { return map[string]any{"base_url": base + "/"} },
	}, {
		// A custom domain: the token asks for the canonical identifier, the
		// calls go to base_url.
		name:  "audience is the identifier asked for, with its trailing slash",
		tok:   auth0TokenAnswer{audience: "https://example.us.auth0.com/api/v2/"},
		extra: func(string) map[string]any { return map[string]any{"audience": "https://example.us.auth0.com/api/v2"} },
	}, {
		name: "a wrong client secret (401 access_denied) is a permanent auth error",
		tok:  auth0TokenAnswer{status: 401, body: `{"error":"access_denied","error_description":"Unauthorized"}`},
		kind: vendorapi.Auth,
		text: []string{"fetching an access token", "credentials rejected", "access_denied: Unauthorized"},
	}, {
		name: "an application not authorized for the management api (403) is a permanent auth error",
		tok: auth0TokenAnswer{status: 403, body: `{"error":"access_denied","error_description":"Client is not authorized to access ` +
			`\"https://example.us.auth0.com/api/v2/\". You need to create a \"client-grant\" associated to this API."}`},
		kind: vendorapi.Auth,
		text: []string{"missing scope or permission", "client-grant"},
	}, {
		name: "a rate-limited token endpoint goes back to the queue with the reset",
		tok: auth0TokenAnswer{status: 429, body: `{"error":"too_many_requests","error_description":"Global limit has been reached"}`,
			header: map[string]string{"X-RateLimit-Reset": strconv.FormatInt(time.Now().Add(40*time.Second).Unix(), 10)}},
		kind: vendorapi.RateLimited,
		wait: 38 * time.Second,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var steps []step
			if tt.kind == 0 {
				steps = []step{byEmail(200, "[]")}
			}
			srv := httptest.NewServer(auth0Fake(t, tt.tok, steps...))
			t.Cleanup(srv.Close)
			var extra map[string]any
			if tt.extra != nil {
				extra = tt.extra(srv.URL)
			}
			c, err := openAuth0(srv.URL, extra)
			if err != nil {
				t.Fatal(err)
			}
			out, err := c.Revoke(t.Context(), offboard.Subject{Email: auth0Email})
			if tt.kind == 0 {
				if err != nil || out != offboard.NotFound {
					t.Fatalf("Revoke = %q, %v; want not_found", out, err)
				}
				return
			}
			e, ok := errors.AsType[*vendorapi.Error](err)
			if !ok || e.Kind != tt.kind || e.RetryAfter < tt.wait {
				t.Fatalf("error = %v, want kind %v with a wait of at least %v", err, tt.kind, tt.wait)
			}
			for _, s := range tt.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if strings.Contains(err.Error(), auth0Secret) {
				t.Errorf("error holds the client secret: %q", err)
			}
		})
	}
}

func TestAuth0Check(t *testing.T) {
	list := step{Method: "GET", Path: "/api/v2/users",
		Query: url.Values{"per_page": {"1"}, "fields": {"user_id"}, "include_fields": {"true"}}}
	tests := []struct {
		name   string
		status int
		body   string
		kind   vendorapi.Kind
	}{
		{"credentials that can read users pass", 200, `[{"user_id":"` + auth0ID + `"}]`, 0},
		{"a token without read:users fails with an auth error", 403,
			auth0Err(403, "Forbidden", "Insufficient scope, expected any of: read:users", "insufficient_scope"), vendorapi.Auth},
		{"a rejected token fails with an auth error", 401, auth0BadToken, vendorapi.Auth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := list
			s.Status, s.Body = tt.status, tt.body
			srv := httptest.NewServer(auth0Fake(t, auth0TokenAnswer{}, s))
			t.Cleanup(srv.Close)
			c, err := openAuth0(srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = c.(connectors.Checker).Check(t.Context())
			if tt.kind == 0 && err != nil {
				t.Fatalf("Check: %v", err)
			}
			if e, ok := errors.AsType[*vendorapi.Error](err); tt.kind != 0 && (!ok || e.Kind != tt.kind) {
				t.Fatalf("Check error = %v, want kind %v", err, tt.kind)
			}
		})
	}
}

func TestAuth0Settings(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]any
		want     []string
	}{{
		name:     "base_url, client_id and client_secret are required",
		settings: map[string]any{},
		want:     []string{"(auth0).base_url: required", "(auth0).client_id: required", "(auth0).client_secret: required"},
	}, {
		name: "the api path in base_url and a bad token_url are each reported",
		settings: map[string]any{"base_url": "https://example.us.auth0.com/api/v2/", "client_id": auth0ClientID,
			"client_secret": auth0Secret, "token_url": "https://" + auth0Secret + "@example.us.auth0.com/oauth/token"},
		want: []string{
			"(auth0).base_url: give the tenant url without /api/v2, e.g. https://example.us.auth0.com",
			"(auth0).token_url: must not hold credentials; put them in their own keys",
		},
	}, {
		name: "an audience that is not the Management API's identifier",
		settings: map[string]any{"base_url": "https://login.example.com", "client_id": auth0ClientID,
			"client_secret": auth0Secret, "audience": "https://example.us.auth0.com/"},
		want: []string{"(auth0).audience: give the Management API's identifier, e.g. https://example.us.auth0.com/api/v2/"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conformance.WantBuildErrors(t, types, "auth0", tt.settings, tt.want, auth0Secret)
		})
	}
}

func TestAuth0Conformance(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		New:     func(base string) (connectors.Connector, error) { return openAuth0(base, nil) },
		Secret:  auth0Secret,
		Subject: offboard.Subject{Email: auth0Email},
		Handler: func(t *testing.T, s conformance.Scenario) http.Handler {
			switch s {
			case conformance.Success:
				return auth0Fake(t, auth0TokenAnswer{}, slices.Concat([]step{byEmail(200, auth0Users(auth0ID))}, auth0Revoked(auth0IDPath))...)
			case conformance.NotFound:
				return auth0Fake(t, auth0TokenAnswer{}, byEmail(200, "[]"))
			case conformance.RateLimited:
				return auth0Fake(t, auth0TokenAnswer{}, auth0RateLimited(byEmail(0, ""), 30*time.Second))
			case conformance.ServerError:
				return auth0Fake(t, auth0TokenAnswer{}, byEmail(503, auth0Unavailable))
			case conformance.Unauthorized:
				return auth0Fake(t, auth0TokenAnswer{}, byEmail(401, auth0BadToken))
			}
			return conformance.Hanging()
		},
	})
}

// step is one scripted exchange of the Auth0 fake.
type step = conformance.Step

// types holds the auth0 type alone, for Build.
var types = map[string]func() connectors.Config{"auth0": func() connectors.Config { return new(auth0.Config) }}
