package zoom_test

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
	"github.com/offboarder/offboarder/connectors/zoom"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// The fake below is shaped from Zoom's documentation: the Server-to-Server
// OAuth token request (https://developers.zoom.us/docs/internal-apps/s2s-oauth/),
// Get a user and Revoke a user's SSO token
// (https://developers.zoom.us/docs/api/users/), the error body
// {"code":…,"message":…} (https://developers.zoom.us/docs/api/errors/) and
// the rate-limit answers (https://developers.zoom.us/docs/api/rate-limits/).

const (
	zmAccount     = "AbCdEfGhIjKlMnOp"
	zmClientID    = "zm-client-7Hq2"
	zmSecret      = "zm-test-client-secret-5e1f0a9b8c7d"
	zmAccessToken = "eyJzdiI6IjAwMDAwMSJ9.zm-test-access-token.sig"
	zmEmail       = "isaac.brock@example.com"
	zmID          = "KDcuGIm1QgePTO8WbOqwIQ"
)

var zmHeaders = http.Header{
	"Authorization": {"Bearer " + zmAccessToken},
	"User-Agent":    {"offboarder"},
	"Accept":        {"application/json"},
}

type step = conformance.Step

var types = map[string]func() connectors.Config{"zoom": func() connectors.Config { return new(zoom.Config) }}

func openZoom(baseURL string, extra map[string]any) (connectors.Connector, error) {
	settings := map[string]any{"account_id": zmAccount, "client_id": zmClientID, "client_secret": zmSecret,
		"base_url": baseURL, "token_url": baseURL + "/oauth/token"}
	for k, v := range extra {
		settings[k] = v
	}
	cs, err := connectors.Build([]connectors.Spec{{Name: "zoom", Type: "zoom", Settings: settings}}, types, connectors.Deps{})
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

// zmToken is what the fake token endpoint answers; a zero status issues
// zmAccessToken.
type zmToken struct {
	status int
	body   string
}

// zoomFake serves the token endpoint at /oauth/token, checking the
// account_credentials grant with HTTP Basic, and the scripted API
// everywhere else.
func zoomFake(t *testing.T, tok zmToken, steps ...step) http.Handler {
	t.Helper()
	api := conformance.Script(t, zmHeaders, steps...)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth/token" {
			api.ServeHTTP(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			t.Errorf("token request: %v", err)
		}
		want := url.Values{"grant_type": {"account_credentials"}, "account_id": {zmAccount}}
		if r.Method != http.MethodPost || r.PostForm.Encode() != want.Encode() {
			t.Errorf("token request = %s %q, want POST %q", r.Method, r.PostForm.Encode(), want.Encode())
		}
		if id, secret, ok := r.BasicAuth(); !ok || id != zmClientID || secret != zmSecret {
			t.Errorf("token request: the client is not authenticated with HTTP Basic")
		}
		w.Header().Set("Content-Type", "application/json")
		if tok.status != 0 {
			w.WriteHeader(tok.status)
			fmt.Fprint(w, tok.body)
			return
		}
		fmt.Fprintf(w, `{"access_token":%q,"token_type":"bearer","expires_in":3599,"scope":"user:read:admin user:write:admin","api_url":"https://api.zoom.us"}`, zmAccessToken)
	})
}

func getUser(status int, body string) step {
	return step{Method: "GET", Path: "/v2/users/" + zmEmail, Status: status, Body: body}
}

func revokeSSO(status int, body string) step {
	return step{Method: "DELETE", Path: "/v2/users/" + zmID + "/token", Status: status, Body: body}
}

func zmUser(loginTypes ...int) string {
	lt := make([]string, len(loginTypes))
	for i, l := range loginTypes {
		lt[i] = fmt.Sprint(l)
	}
	return `{"id":"` + zmID + `","first_name":"Isaac","last_name":"Brock","email":"` + zmEmail + `","type":1,"status":"active",` +
		`"login_types":[` + strings.Join(lt, ",") + `],"account_id":"` + zmAccount + `"}`
}

const (
	zmNoUser    = `{"code":1001,"message":"User does not exist: ` + zmEmail + `."}`
	zmBadToken  = `{"code":124,"message":"Invalid access token."}`
	zmNoScope   = `{"code":4700,"message":"Invalid access token, does not contain scopes:[user:write:admin]."}`
	zmQPS       = `{"code":429,"message":"You have reached the maximum per-second rate limit for this API. Try again later."}`
	zmDaily     = `{"code":429,"message":"You have reached the maximum daily rate limit for this API. Refer to the response header for details on when you can make another request."}`
	zmInternal  = `{"code":500,"message":"Internal server error."}`
	zmForbidden = `{"code":200,"message":"No permission."}`
)

// dailyLimited is a daily limit answered as Zoom documents it: the
// Retry-After is the date at which requests may resume.
func dailyLimited(at time.Time) step {
	s := getUser(429, zmDaily)
	s.Header = map[string]string{"X-RateLimit-Category": "Light", "X-RateLimit-Type": "Daily-limit",
		"X-RateLimit-Limit": "6000", "X-RateLimit-Remaining": "0", "Retry-After": at.UTC().Format(time.RFC3339)}
	return s
}

func TestZoomRevoke(t *testing.T) {
	resume := time.Now().Add(20 * time.Minute).Truncate(time.Second)
	tests := []struct {
		name     string
		tok      zmToken
		steps    []step
		want     offboard.Outcome
		detail   []string
		nodetail []string
		kind     vendorapi.Kind
		minWait  time.Duration
		text     []string
	}{{
		name:     "an sso user's sso token is revoked: acknowledged, as zoom has nothing to read back",
		steps:    []step{getUser(200, zmUser(101)), revokeSSO(204, "")},
		want:     offboard.Acknowledged,
		detail:   []string{"zoom user " + zmID, "SSO token revoked", "logs an SSO user out of their current Zoom session", "not verified"},
		nodetail: []string{"no SSO login"},
	}, {
		name:   "a user without an sso login is revoked too, and the detail says what that leaves",
		steps:  []step{getUser(200, zmUser(100)), revokeSSO(204, "")},
		want:   offboard.Acknowledged,
		detail: []string{"this user has no SSO login", "not documented to end"},
	}, {
		name:   "no user with the email (404, code 1001) is not_found",
		steps:  []step{getUser(404, zmNoUser)},
		want:   offboard.NotFound,
		detail: []string{"no zoom user has this email"},
	}, {
		name:  "a user gone between the lookup and the revoke is not_found",
		steps: []step{getUser(200, zmUser(101)), revokeSSO(404, zmNoUser)},
		want:  offboard.NotFound,
	}, {
		name:  "a token without the scope is permanent, and zoom's message names the scope",
		steps: []step{getUser(200, zmUser(101)), revokeSSO(400, zmNoScope)},
		kind:  vendorapi.Invalid,
		text:  []string{"zoom: DELETE /v2/users/" + zmID + "/token", "code 4700", "user:write:admin"},
	}, {
		name:  "no permission (403) is a permanent auth error",
		steps: []step{getUser(403, zmForbidden)},
		kind:  vendorapi.Auth,
		text:  []string{"missing scope or permission", "No permission."},
	}, {
		name:  "a rejected access token (401, code 124) is a permanent auth error",
		steps: []step{getUser(401, zmBadToken)},
		kind:  vendorapi.Auth,
		text:  []string{"credentials rejected", "code 124: Invalid access token."},
	}, {
		name:    "a daily limit goes back to the queue until the date its Retry-After gives",
		steps:   []step{dailyLimited(resume)},
		kind:    vendorapi.RateLimited,
		minWait: 19 * time.Minute,
		text:    []string{"daily rate limit"},
	}, {
		name: "a per-second limit without Retry-After is waited out for a second and sent again",
		steps: []step{{Method: "GET", Path: "/v2/users/" + zmEmail, Status: 429, Body: zmQPS,
			Header: map[string]string{"X-RateLimit-Category": "Light", "X-RateLimit-Type": "QPS", "X-RateLimit-Limit": "30", "X-RateLimit-Remaining": "0"}},
			getUser(200, zmUser(101)), revokeSSO(204, "")},
		want: offboard.Acknowledged,
	}, {
		name:  "a zoom server error is transient",
		steps: []step{getUser(200, zmUser(101)), revokeSSO(500, zmInternal)},
		kind:  vendorapi.Transient,
		text:  []string{"code 500: Internal server error."},
	}, {
		name: "a wrong client id or secret at the token endpoint is a permanent auth error",
		tok:  zmToken{status: 400, body: `{"reason":"Invalid client_id or client_secret","error":"invalid_client"}`},
		kind: vendorapi.Auth,
		text: []string{"fetching an access token", "credentials rejected"},
	}, {
		name: "a token endpoint that is down is transient",
		tok:  zmToken{status: 503, body: `{"reason":"Service unavailable","error":"server_error"}`},
		kind: vendorapi.Transient,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(zoomFake(t, tt.tok, tt.steps...))
			t.Cleanup(srv.Close)
			c, err := openZoom(srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, detail := connectors.WithReport(t.Context())
			got, err := c.Revoke(ctx, offboard.Subject{Email: zmEmail})
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
				for _, s := range tt.nodetail {
					if strings.Contains(detail(), s) {
						t.Errorf("detail %q contains %q", detail(), s)
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
			if e.RetryAfter < tt.minWait || (tt.minWait == 0 && e.Kind == vendorapi.RateLimited) {
				t.Errorf("RetryAfter = %v, want at least %v", e.RetryAfter, tt.minWait)
			}
			for _, s := range tt.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if strings.Contains(err.Error(), zmSecret) || strings.Contains(err.Error(), zmAccessToken) {
				t.Errorf("error holds a secret: %q", err)
			}
		})
	}
}

func TestZoomCheck(t *testing.T) {
	list := step{Method: "GET", Path: "/v2/users", Query: url.Values{"page_size": {"1"}}}
	tests := []struct {
		name   string
		status int
		body   string
		kind   vendorapi.Kind
	}{
		{"an app that may read users passes", 200, `{"page_count":1,"page_number":1,"page_size":1,"total_records":1,"users":[` + zmUser(101) + `]}`, 0},
		{"an app without user:read:admin fails", 400, `{"code":4700,"message":"Invalid access token, does not contain scopes:[user:read:admin]."}`, vendorapi.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := list
			s.Status, s.Body = tt.status, tt.body
			srv := httptest.NewServer(zoomFake(t, zmToken{}, s))
			t.Cleanup(srv.Close)
			c, err := openZoom(srv.URL, nil)
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
			if !vendorapi.IsKind(err, tt.kind) || !strings.Contains(err.Error(), "user:read:admin") {
				t.Fatalf("Check error = %v, want kind %v naming the scope", err, tt.kind)
			}
		})
	}
}

func TestZoomSettings(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]any
		want     []string
	}{
		{"account_id, client_id and client_secret are required", map[string]any{},
			[]string{"(zoom).account_id: required", "(zoom).client_id: required", "(zoom).client_secret: required"}},
		{"a base_url with /v2 and a token_url with credentials are each reported",
			map[string]any{"account_id": zmAccount, "client_id": zmClientID, "client_secret": zmSecret,
				"base_url": "https://api.zoom.us/v2", "token_url": "https://u:" + zmSecret + "@zoom.us/oauth/token"},
			[]string{"(zoom).base_url: give the host without /v2", "(zoom).token_url: must not hold credentials"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conformance.WantBuildErrors(t, types, "zoom", tt.settings, tt.want, zmSecret)
		})
	}
	t.Run("base_url and token_url default to zoom's", func(t *testing.T) {
		if _, err := connectors.Build([]connectors.Spec{{Name: "zoom", Type: "zoom", Settings: map[string]any{
			"account_id": zmAccount, "client_id": zmClientID, "client_secret": zmSecret}}}, types, connectors.Deps{}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestZoomConformance(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		New:     func(base string) (connectors.Connector, error) { return openZoom(base, nil) },
		Secret:  zmSecret,
		Subject: offboard.Subject{Email: zmEmail},
		Handler: func(t *testing.T, s conformance.Scenario) http.Handler {
			switch s {
			case conformance.Success:
				return zoomFake(t, zmToken{}, getUser(200, zmUser(101)), revokeSSO(204, ""))
			case conformance.NotFound:
				return zoomFake(t, zmToken{}, getUser(404, zmNoUser))
			case conformance.RateLimited:
				return zoomFake(t, zmToken{}, dailyLimited(time.Now().Add(time.Hour)))
			case conformance.ServerError:
				return zoomFake(t, zmToken{}, getUser(503, `{"code":503,"message":"Service unavailable."}`))
			case conformance.Unauthorized:
				return zoomFake(t, zmToken{}, getUser(401, zmBadToken))
			}
			return conformance.Hanging()
		},
	})
}
