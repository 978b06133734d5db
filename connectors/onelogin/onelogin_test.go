package onelogin_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/connectors/onelogin"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/connectors/conformance"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// The fake below is shaped from OneLogin's documentation: Generate Tokens
// v2 with a form body
// (https://developers.onelogin.com/api-docs/2/oauth20-tokens/generate-tokens-2),
// List Users v2 (https://developers.onelogin.com/api-docs/2/users/list-users),
// Log User Out and its v1 error bodies
// (https://developers.onelogin.com/api-docs/1/users/log-user-out), the v2
// error body (https://developers.onelogin.com/api-docs/2/apps/list-users)
// and X-RateLimit-Reset in seconds left
// (https://developers.onelogin.com/api-docs/2/oauth20-tokens/get-rate-limit).

const (
	olClientID    = "0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4"
	olSecret      = "ol-test-client-secret-7c6b5a4f3e2d1c0b9a8f"
	olAccessToken = "ol-test-access-token-2f4e6d8c0b1a3958"
	olEmail       = "isaac.brock@example.com"
	olID          = 56781966
	olTwinID      = 56781967
)

var olHeaders = http.Header{
	"Authorization": {"Bearer " + olAccessToken},
	"User-Agent":    {"offboarder"},
	"Accept":        {"application/json"},
}

// openOneLogin opens a onelogin connector through the registry; extra
// settings are added to the defaults.
func openOneLogin(baseURL string, extra map[string]any) (connectors.Connector, error) {
	settings := map[string]any{"base_url": baseURL, "client_id": olClientID, "client_secret": olSecret}
	for k, v := range extra {
		settings[k] = v
	}
	cs, err := connectors.Build([]connectors.Spec{{Name: "onelogin", Type: "onelogin", Settings: settings}}, types, connectors.Deps{})
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

// olToken is what the fake token endpoint answers at path ("" means
// /auth/oauth2/v2/token); a zero status issues olAccessToken.
type olToken struct {
	path   string
	status int
	header map[string]string
	body   string
}

// oneloginFake serves Generate Tokens v2, checking the form-encoded client
// credentials grant, and the scripted API everywhere else.
func oneloginFake(t *testing.T, tok olToken, steps ...step) http.Handler {
	t.Helper()
	path := tok.path
	if path == "" {
		path = "/auth/oauth2/v2/token"
	}
	api := conformance.Script(t, olHeaders, steps...)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.EscapedPath() != path {
			api.ServeHTTP(w, r)
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Errorf("token request Content-Type = %q", ct)
		}
		if err := r.ParseForm(); err != nil {
			t.Errorf("token request: %v", err)
		}
		want := url.Values{"grant_type": {"client_credentials"}, "client_id": {olClientID}, "client_secret": {olSecret}}
		if r.PostForm.Encode() != want.Encode() {
			t.Errorf("token request form = %q, want the client credentials grant",
				strings.ReplaceAll(r.PostForm.Encode(), olSecret, "<secret>"))
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
		fmt.Fprintf(w, `{"access_token":%q,"created_at":"2024-05-29T10:00:00.000Z","expires_in":36000,"refresh_token":"","token_type":"bearer","account_id":555555}`, olAccessToken)
	})
}

// olV1 is an API v1 error body [Log User Out].
func olV1(code int, typ, message string) string {
	return fmt.Sprintf(`{"status":{"error":true,"code":%d,"type":%q,"message":%q}}`, code, typ, message)
}

var (
	olLoggedOutBody = `{"status":{"code":200,"error":false,"message":"Success","type":"success"}}`
	olNoUser        = olV1(404, "not found", "User not found")
	olNoScope       = olV1(401, "Unauthorized", "Insufficient Permission")
	olNotThisUser   = olV1(403, "forbidden", "user is not authorized to access this User")
	olV2BadToken    = `{"message":"Unauthorized","statusCode":401,"name":"UnauthorizedError"}`
	olV2Unavailable = `{"message":"Service Unavailable","statusCode":503,"name":"ServiceUnavailableError"}`
	olV2TooMany     = `{"message":"Too Many Requests","statusCode":429,"name":"TooManyRequestsError"}`
)

// olUsers is a List Users answer with a user per id, all with olEmail.
func olUsers(ids ...int) string {
	var us []string
	for _, id := range ids {
		us = append(us, fmt.Sprintf(`{"id":%d,"email":%q}`, id, olEmail))
	}
	return "[" + strings.Join(us, ",") + "]"
}

func olSearch(status int, body string) step {
	return step{Method: "GET", Path: "/api/2/users", Status: status, Body: body,
		Query: url.Values{"email": {olEmail}, "fields": {"id,email"}}}
}

func olLogout(id, status int, body string) step {
	return step{Method: "PUT", Path: "/api/1/users/" + strconv.Itoa(id) + "/logout", Status: status, Body: body}
}

// olLimited sets a 429 with OneLogin's rate-limit headers on s; the reset
// is the seconds left until the limit resets.
func olLimited(s step, resetIn int) step {
	s.Status, s.Body = 429, olV2TooMany
	s.Header = map[string]string{"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.Itoa(resetIn)}
	return s
}

func TestOneLoginRevoke(t *testing.T) {
	tests := []struct {
		name       string
		subject    offboard.Subject
		steps      []step
		want       offboard.Outcome
		kind       vendorapi.Kind // 0: no error
		retryAfter time.Duration
		text       []string // in the error text
	}{{
		name:    "a user found by email is logged out and acknowledged, as onelogin has no read-back",
		subject: offboard.Subject{Email: olEmail},
		steps:   []step{olSearch(200, olUsers(olID)), olLogout(olID, 200, olLoggedOutBody)},
		want:    offboard.Acknowledged,
	}, {
		name:    "every user with the email is logged out",
		subject: offboard.Subject{Email: olEmail},
		steps:   []step{olSearch(200, olUsers(olID, olTwinID)), olLogout(olID, 200, olLoggedOutBody), olLogout(olTwinID, 200, olLoggedOutBody)},
		want:    offboard.Acknowledged,
	}, {
		name:    "no user with the email is not_found",
		subject: offboard.Subject{Email: olEmail},
		steps:   []step{olSearch(200, "[]")},
		want:    offboard.NotFound,
	}, {
		name:    "an answer with another email logs nobody out",
		subject: offboard.Subject{Email: olEmail},
		steps:   []step{olSearch(200, `[{"id":1,"email":"someone.else@example.com"}]`)},
		want:    offboard.NotFound,
	}, {
		name:    "a user deleted between the lookup and the logout is not_found",
		subject: offboard.Subject{Email: olEmail},
		steps:   []step{olSearch(200, olUsers(olID)), olLogout(olID, 404, olNoUser)},
		want:    offboard.NotFound,
	}, {
		name:    "a 429 whose reset is a second away is waited out inside the attempt",
		subject: offboard.Subject{Email: olEmail},
		steps:   []step{olLimited(olSearch(0, ""), 1), olSearch(200, olUsers(olID)), olLogout(olID, 200, olLoggedOutBody)},
		want:    offboard.Acknowledged,
	}, {
		name:       "a 429 reads X-RateLimit-Reset as the seconds left, not an epoch",
		subject:    offboard.Subject{Email: olEmail},
		steps:      []step{olSearch(200, olUsers(olID)), olLimited(olLogout(olID, 0, ""), 832)},
		kind:       vendorapi.RateLimited,
		retryAfter: 832 * time.Second,
		text:       []string{"TooManyRequestsError", "rate limited"},
	}, {
		name:    "a credential without the manage users scope is a permanent auth error that says so",
		subject: offboard.Subject{Email: olEmail},
		steps:   []step{olSearch(200, olUsers(olID)), olLogout(olID, 401, olNoScope)},
		kind:    vendorapi.Auth,
		text:    []string{"onelogin: PUT /api/1/users/56781966/logout", "Unauthorized: Insufficient Permission", "manage users"},
	}, {
		name:    "a user the credential may not touch is a permanent auth error",
		subject: offboard.Subject{Email: olEmail},
		steps:   []step{olSearch(200, olUsers(olID)), olLogout(olID, 403, olNotThisUser)},
		kind:    vendorapi.Auth,
		text:    []string{"forbidden: user is not authorized to access this User"},
	}, {
		name:    "a rejected access token is a permanent auth error that names the credentials",
		subject: offboard.Subject{Email: olEmail},
		steps:   []step{olSearch(401, olV2BadToken)},
		kind:    vendorapi.Auth,
		text:    []string{"credentials rejected", "UnauthorizedError: Unauthorized", "status 401"},
	}, {
		name:    "a onelogin server error is transient",
		subject: offboard.Subject{Email: olEmail},
		steps:   []step{olSearch(503, olV2Unavailable)},
		kind:    vendorapi.Transient,
		text:    []string{"ServiceUnavailableError"},
	}, {
		name:    "an email with a wildcard is refused before any call",
		subject: offboard.Subject{Email: "isaac*@example.com"},
		kind:    vendorapi.Invalid,
		text:    []string{"wildcard", "by hand"},
	}, {
		name:    "a subject without an email is invalid and sends nothing",
		subject: offboard.Subject{},
		kind:    vendorapi.Invalid,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(oneloginFake(t, olToken{}, tt.steps...))
			t.Cleanup(srv.Close)
			c, err := openOneLogin(srv.URL, nil)
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
			if strings.Contains(err.Error(), olSecret) || strings.Contains(err.Error(), olAccessToken) {
				t.Errorf("error holds a secret: %q", err)
			}
		})
	}
}

func TestOneLoginToken(t *testing.T) {
	tests := []struct {
		name  string
		tok   olToken
		extra func(base string) map[string]any
		kind  vendorapi.Kind // 0: the revoke succeeds
		text  []string
	}{{
		name:  "token_url is where the token is fetched",
		tok:   olToken{path: "/custom/token"},
		extra: func(base string) map[string]any { return map[string]any{"token_url": base + "/custom/token"} },
	}, {
		name: "a rejected credential pair (401) is a permanent auth error",
		tok:  olToken{status: 401, body: olV1(401, "Unauthorized", "Authentication Failure")},
		kind: vendorapi.Auth,
		text: []string{"fetching an access token", "credentials rejected", "status 401"},
	}, {
		name: "credentials whose owner was deleted (500) are transient, as onelogin answers",
		tok:  olToken{status: 500, body: olV1(500, "internal server error", "Internal Server Error")},
		kind: vendorapi.Transient,
	}, {
		name: "a rate-limited token endpoint goes back to the queue with the reset",
		tok:  olToken{status: 429, body: olV1(429, "too many requests", "Too Many Requests"), header: map[string]string{"X-RateLimit-Reset": "40"}},
		kind: vendorapi.RateLimited,
		text: []string{"retry after 40s"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var steps []step
			if tt.kind == 0 {
				steps = []step{olSearch(200, "[]")}
			}
			srv := httptest.NewServer(oneloginFake(t, tt.tok, steps...))
			t.Cleanup(srv.Close)
			var extra map[string]any
			if tt.extra != nil {
				extra = tt.extra(srv.URL)
			}
			c, err := openOneLogin(srv.URL, extra)
			if err != nil {
				t.Fatal(err)
			}
			out, err := c.Revoke(t.Context(), offboard.Subject{Email: olEmail})
			if tt.kind == 0 {
				if err != nil || out != offboard.NotFound {
					t.Fatalf("Revoke = %q, %v; want not_found", out, err)
				}
				return
			}
			if e, ok := errors.AsType[*vendorapi.Error](err); !ok || e.Kind != tt.kind {
				t.Fatalf("error = %v, want kind %v", err, tt.kind)
			}
			for _, s := range tt.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if strings.Contains(err.Error(), olSecret) {
				t.Errorf("error holds the client secret: %q", err)
			}
		})
	}
}

func TestOneLoginCheck(t *testing.T) {
	list := step{Method: "GET", Path: "/api/2/users", Query: url.Values{"limit": {"1"}, "fields": {"id"}}}
	tests := []struct {
		name   string
		status int
		body   string
		kind   vendorapi.Kind
	}{
		{"a credential that can read users passes", 200, `[{"id":56781966}]`, 0},
		{"a rejected access token fails with an auth error", 401, olV2BadToken, vendorapi.Auth},
		{"a credential that may not read users fails with an auth error", 403,
			`{"message":"Forbidden","statusCode":403,"name":"ForbiddenError"}`, vendorapi.Auth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := list
			s.Status, s.Body = tt.status, tt.body
			srv := httptest.NewServer(oneloginFake(t, olToken{}, s))
			t.Cleanup(srv.Close)
			c, err := openOneLogin(srv.URL, nil)
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

func TestOneLoginSettings(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]any
		want     []string
	}{{
		name:     "base_url, client_id and client_secret are required",
		settings: map[string]any{},
		want:     []string{"(onelogin).base_url: required", "(onelogin).client_id: required", "(onelogin).client_secret: required"},
	}, {
		name: "an api path in base_url and a bad token_url are each reported",
		settings: map[string]any{"base_url": "https://example.onelogin.com/api/2", "client_id": olClientID,
			"client_secret": olSecret, "token_url": "https://" + olSecret + "@example.onelogin.com/auth/oauth2/v2/token"},
		want: []string{
			"(onelogin).base_url: give the api host without /api or /auth, e.g. https://example.onelogin.com",
			"(onelogin).token_url: must not hold credentials; put them in their own keys",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conformance.WantBuildErrors(t, types, "onelogin", tt.settings, tt.want, olSecret)
		})
	}
}

func TestOneLoginConformance(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		New:     func(base string) (connectors.Connector, error) { return openOneLogin(base, nil) },
		Secret:  olSecret,
		Subject: offboard.Subject{Email: olEmail},
		Handler: func(t *testing.T, s conformance.Scenario) http.Handler {
			switch s {
			case conformance.Success:
				return oneloginFake(t, olToken{}, olSearch(200, olUsers(olID)), olLogout(olID, 200, olLoggedOutBody))
			case conformance.NotFound:
				return oneloginFake(t, olToken{}, olSearch(200, "[]"))
			case conformance.RateLimited:
				return oneloginFake(t, olToken{}, olLimited(olSearch(0, ""), 30))
			case conformance.ServerError:
				return oneloginFake(t, olToken{}, olSearch(503, olV2Unavailable))
			case conformance.Unauthorized:
				return oneloginFake(t, olToken{}, olSearch(401, olV2BadToken))
			}
			return conformance.Hanging()
		},
	})
}

// step is one scripted exchange of the OneLogin fake.
type step = conformance.Step

// types holds the onelogin type alone, for Build.
var types = map[string]func() connectors.Config{"onelogin": func() connectors.Config { return new(onelogin.Config) }}
