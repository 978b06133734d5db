package slack_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/connectors/conformance"
	"github.com/offboarder/offboarder/connectors/slack"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// The fake below is shaped from Slack's documentation: the Web API's
// envelope ({"ok":true,…} or {"ok":false,"error":"…"}, most failures with
// HTTP 200; https://api.slack.com/web), users.lookupByEmail
// (https://api.slack.com/methods/users.lookupByEmail),
// admin.users.session.reset and admin.users.session.list
// (https://api.slack.com/methods/admin.users.session.reset, …/list), the
// user object (https://api.slack.com/types/user) and the rate limits
// (HTTP 429, Retry-After, {"ok":false,"error":"ratelimited"};
// https://api.slack.com/apis/rate-limits).

const (
	slToken = "xoxp-1111111111-2222222222-3333333333-5e1f0a9b8c7d6e5f"
	slEmail = "isaac.brock@example.com"
	slID    = "W0123ABCD"
	slTeam  = "T0001AAAA"
	slTeam2 = "T0002BBBB"
)

var slHeaders = http.Header{
	"Authorization": {"Bearer " + slToken},
	"User-Agent":    {"offboarder"},
	"Accept":        {"application/json"},
}

type step = conformance.Step

var types = map[string]func() connectors.Config{"slack": func() connectors.Config { return new(slack.Config) }}

func openSlack(baseURL string) (connectors.Connector, error) {
	cs, err := connectors.Build([]connectors.Spec{{Name: "slack", Type: "slack",
		Settings: map[string]any{"base_url": baseURL, "token": slToken}}}, types, connectors.Deps{})
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

// slackFake serves the scripted Web API and checks that every POST body is
// JSON whose fields are want[path] exactly.
func slackFake(t *testing.T, want map[string]map[string]any, steps ...step) http.Handler {
	t.Helper()
	api := conformance.Script(t, slHeaders, steps...)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			raw, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(raw))
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("%s: Content-Type = %q, want application/json", r.URL.Path, ct)
			}
			if exp, ok := want[r.URL.Path]; ok {
				var got map[string]any
				if err := json.Unmarshal(raw, &got); err != nil {
					t.Errorf("%s: body %q is not json", r.URL.Path, raw)
				}
				gb, _ := json.Marshal(got)
				wb, _ := json.Marshal(exp)
				if !bytes.Equal(gb, wb) {
					t.Errorf("%s: body = %s, want %s", r.URL.Path, gb, wb)
				}
			}
		}
		api.ServeHTTP(w, r)
	})
}

// resetBody is what admin.users.session.reset must be sent: the user, and
// neither mobile_only nor web_only, so that every session ends.
var resetBody = map[string]map[string]any{
	"/api/admin.users.session.reset": {"user_id": slID},
}

func slUser(teams ...string) string {
	ts, _ := json.Marshal(teams)
	return `{"ok":true,"user":{"id":"` + slID + `","team_id":"` + slTeam + `","name":"isaac","deleted":false,"is_bot":false,` +
		`"profile":{"email":"` + slEmail + `"},"enterprise_user":{"id":"` + slID + `","enterprise_id":"E0001","teams":` + string(ts) + `}}}`
}

func lookup(status int, body string) step {
	return step{Method: "GET", Path: "/api/users.lookupByEmail", Query: url.Values{"email": {slEmail}}, Status: status, Body: body}
}

func reset(status int, body string) step {
	return step{Method: "POST", Path: "/api/admin.users.session.reset", Status: status, Body: body}
}

func list(status int, body string) step {
	return step{Method: "POST", Path: "/api/admin.users.session.list", Status: status, Body: body}
}

const (
	slOK       = `{"ok":true}`
	slNoUser   = `{"ok":false,"error":"users_not_found"}`
	slNone     = `{"ok":true,"active_sessions":[],"response_metadata":{"next_cursor":""}}`
	slOne      = `{"ok":true,"active_sessions":[{"user_id":"` + slID + `","team_id":"` + slTeam + `","session_id":7,"created":{"device_hardware":"iPhone","os":"iOS","ip":"192.0.2.1"}}],"response_metadata":{"next_cursor":""}}`
	slLimited  = `{"ok":false,"error":"ratelimited"}`
	slBadAuth  = `{"ok":false,"error":"invalid_auth"}`
	slInternal = `{"ok":false,"error":"internal_error"}`
)

func TestSlackRevoke(t *testing.T) {
	tests := []struct {
		name       string
		steps      []step
		want       offboard.Outcome
		detail     []string
		kind       vendorapi.Kind
		retryAfter time.Duration
		text       []string
	}{{
		name:   "a user found by email has every session reset and none listed afterwards",
		steps:  []step{lookup(200, slUser(slTeam)), reset(200, slOK), list(200, slNone)},
		want:   offboard.Verified,
		detail: []string{"slack user " + slID, "every session reset (web, desktop and mobile", "no session listed", "tokens the person granted to apps are not revoked"},
	}, {
		name:  "the sessions of every workspace of a grid user are listed together",
		steps: []step{lookup(200, slUser(slTeam, slTeam2)), reset(200, slOK), list(200, slNone), list(200, slNone).With()},
		want:  offboard.Verified,
	}, {
		name: "the workspaces of the user's teams list are listed too, each once",
		steps: []step{lookup(200, `{"ok":true,"user":{"id":"`+slID+`","team_id":"`+slTeam+`","teams":["`+slTeam+`","`+slTeam2+`"]}}`),
			reset(200, slOK), list(200, slNone), list(200, slNone).With()},
		want: offboard.Verified,
	}, {
		name: "a session still listed after the reset is acknowledged, not verified",
		steps: []step{lookup(200, slUser(slTeam)), reset(200, slOK),
			list(200, `{"ok":true,"active_sessions":[],"response_metadata":{"next_cursor":"dXNlcjpXMDEy"}}`), list(200, slOne)},
		want:   offboard.Acknowledged,
		detail: []string{"1 session(s) still listed"},
	}, {
		name:   "a token without admin.users:read resets but cannot verify: acknowledged, and the detail names the scope",
		steps:  []step{lookup(200, slUser(slTeam)), reset(200, slOK), list(200, `{"ok":false,"error":"missing_scope","needed":"admin.users:read","provided":"admin.users:write,users:read.email"}`)},
		want:   offboard.Acknowledged,
		detail: []string{"not read back", "admin.users:read"},
	}, {
		name:   "no user with the email (users_not_found, HTTP 200) is not_found",
		steps:  []step{lookup(200, slNoUser)},
		want:   offboard.NotFound,
		detail: []string{"users_not_found"},
	}, {
		name:  "a user gone between the lookup and the reset (user_not_found) is not_found",
		steps: []step{lookup(200, slUser(slTeam)), reset(200, `{"ok":false,"error":"user_not_found"}`)},
		want:  offboard.NotFound,
	}, {
		name:  "a token of someone who is not an org admin is a permanent auth error that says whose token to use",
		steps: []step{lookup(200, slUser(slTeam)), reset(200, `{"ok":false,"error":"not_an_admin"}`)},
		kind:  vendorapi.Auth,
		text:  []string{"slack: POST /api/admin.users.session.reset", "not an org owner or admin", "xoxp-"},
	}, {
		name:  "a workspace that is not on enterprise grid is permanent and says so",
		steps: []step{lookup(200, slUser(slTeam)), reset(200, `{"ok":false,"error":"feature_not_enabled"}`)},
		kind:  vendorapi.Invalid,
		text:  []string{"feature_not_enabled", "Enterprise Grid"},
	}, {
		name:  "a missing scope names the scope slack asks for",
		steps: []step{lookup(200, `{"ok":false,"error":"missing_scope","needed":"users:read.email","provided":"admin.users:write"}`)},
		kind:  vendorapi.Auth,
		text:  []string{"lacks the scope users:read.email", "reinstall"},
	}, {
		name:  "a missing scope without needed names the method's own scope",
		steps: []step{lookup(200, slUser(slTeam)), reset(200, `{"ok":false,"error":"missing_scope"}`)},
		kind:  vendorapi.Auth,
		text:  []string{"admin.users:write"},
	}, {
		name:  "a bot token refused by the admin method is permanent and says which token to use",
		steps: []step{lookup(200, slUser(slTeam)), reset(200, `{"ok":false,"error":"not_allowed_token_type"}`)},
		kind:  vendorapi.Auth,
		text:  []string{"not a bot (xoxb-)"},
	}, {
		name:  "a revoked token is a permanent auth error about the credentials",
		steps: []step{lookup(200, `{"ok":false,"error":"token_revoked"}`)},
		kind:  vendorapi.Auth,
		text:  []string{"credentials rejected (token_revoked)"},
	}, {
		name:  "an inactive account is a permanent auth error",
		steps: []step{lookup(200, `{"ok":false,"error":"account_inactive"}`)},
		kind:  vendorapi.Auth,
		text:  []string{"account_inactive"},
	}, {
		name:       "ratelimited with HTTP 429 and Retry-After goes back to the queue with that wait",
		steps:      []step{{Method: "GET", Path: "/api/users.lookupByEmail", Query: url.Values{"email": {slEmail}}, Status: 429, Header: map[string]string{"Retry-After": "30"}, Body: slLimited}},
		kind:       vendorapi.RateLimited,
		retryAfter: 30 * time.Second,
		text:       []string{"ratelimited"},
	}, {
		name:       "ratelimited with HTTP 200 waits a minute, the tiers' window",
		steps:      []step{lookup(200, slUser(slTeam)), reset(200, slLimited)},
		kind:       vendorapi.RateLimited,
		retryAfter: time.Minute,
	}, {
		name:  "internal_error with HTTP 200 is transient",
		steps: []step{lookup(200, slUser(slTeam)), reset(200, slInternal)},
		kind:  vendorapi.Transient,
	}, {
		name:  "fatal_error is transient: the reset may be sent again",
		steps: []step{lookup(200, slUser(slTeam)), reset(200, `{"ok":false,"error":"fatal_error"}`)},
		kind:  vendorapi.Transient,
	}, {
		name:  "service_unavailable with HTTP 503 is transient",
		steps: []step{lookup(503, `{"ok":false,"error":"service_unavailable"}`)},
		kind:  vendorapi.Transient,
		text:  []string{"service_unavailable"},
	}, {
		name:  "the primary owner's sessions cannot be reset by an admin: permanent",
		steps: []step{lookup(200, slUser(slTeam)), reset(200, `{"ok":false,"error":"cannot_reset_primary_owner"}`)},
		kind:  vendorapi.Invalid,
		text:  []string{"primary owner"},
	}, {
		name:  "an unknown error code is permanent and quoted",
		steps: []step{lookup(200, `{"ok":false,"error":"something_new"}`)},
		kind:  vendorapi.Invalid,
		text:  []string{`"something_new"`},
	}, {
		name:  "an answer that is not slack's is invalid and points at base_url",
		steps: []step{lookup(200, `{"ok":true}`)},
		kind:  vendorapi.Invalid,
		text:  []string{"check base_url"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(slackFake(t, resetBody, tt.steps...))
			t.Cleanup(srv.Close)
			c, err := openSlack(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			ctx, detail := connectors.WithReport(t.Context())
			got, err := c.Revoke(ctx, offboard.Subject{Email: slEmail})
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
			if strings.Contains(err.Error(), slToken) {
				t.Errorf("error holds the token: %q", err)
			}
		})
	}
}

func TestSlackCheck(t *testing.T) {
	tests := []struct {
		name string
		body string
		kind vendorapi.Kind
	}{
		{"a valid token passes", `{"ok":true,"url":"https://acme.enterprise.slack.com/","team":"Acme","user":"admin","team_id":"E0001","user_id":"W0ADMIN","is_enterprise_install":true}`, 0},
		{"a wrong token fails with an auth error", slBadAuth, vendorapi.Auth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(slackFake(t, map[string]map[string]any{"/api/auth.test": {}},
				step{Method: "POST", Path: "/api/auth.test", Status: 200, Body: tt.body}))
			t.Cleanup(srv.Close)
			c, err := openSlack(srv.URL)
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
			if !vendorapi.IsKind(err, tt.kind) {
				t.Fatalf("Check error = %v, want kind %v", err, tt.kind)
			}
		})
	}
}

func TestSlackSettings(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]any
		want     []string
	}{
		{"token is required", map[string]any{}, []string{"(slack).token: required"}},
		{"a bot token is refused", map[string]any{"token": "xoxb-123-456-abcdef"}, []string{"(slack).token: a bot or app-level token cannot reset sessions"}},
		{"a base_url with /api is refused", map[string]any{"token": slToken, "base_url": "https://slack.com/api"}, []string{"(slack).base_url: give the root without /api"}},
		{"a base_url with credentials is refused", map[string]any{"token": slToken, "base_url": "https://u:p@slack.com"}, []string{"(slack).base_url: must not hold credentials"}},
		{"an unknown key is reported", map[string]any{"token": slToken, "org": "x"}, []string{"(slack).org: unknown key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conformance.WantBuildErrors(t, types, "slack", tt.settings, tt.want, slToken, "xoxb-123-456-abcdef")
		})
	}
	t.Run("base_url defaults to https://slack.com", func(t *testing.T) {
		if _, err := connectors.Build([]connectors.Spec{{Name: "slack", Type: "slack", Settings: map[string]any{"token": slToken}}}, types, connectors.Deps{}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSlackConformance(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		New:     openSlack,
		Secret:  slToken,
		Subject: offboard.Subject{Email: slEmail},
		Handler: func(t *testing.T, s conformance.Scenario) http.Handler {
			switch s {
			case conformance.Success:
				return slackFake(t, resetBody, lookup(200, slUser(slTeam)), reset(200, slOK), list(200, slNone))
			case conformance.NotFound:
				return slackFake(t, nil, lookup(200, slNoUser))
			case conformance.RateLimited:
				l := lookup(429, slLimited)
				l.Header = map[string]string{"Retry-After": "30"}
				return slackFake(t, nil, l)
			case conformance.ServerError:
				return slackFake(t, nil, lookup(503, `{"ok":false,"error":"service_unavailable"}`))
			case conformance.Unauthorized:
				// Slack answers a bad token with HTTP 200 and invalid_auth.
				return slackFake(t, nil, lookup(200, slBadAuth))
			}
			return conformance.Hanging()
		},
	})
}
