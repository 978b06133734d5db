package slack

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
	"github.com/offboarder/offboarder/simulator/fake/faketest"
)

const bearer = "Bearer " + DefaultToken

// start serves the Slack fake alone, with alice, bob and carol (2 sessions
// each: a browser and a phone).
func start(t *testing.T, k fake.Knobs, c Config) *faketest.Server[Config] {
	t.Helper()
	sim := faketest.Start(t, k, c, New)
	sim.Seed(0)
	return sim
}

// call sends one method with a JSON body (or none) and decodes the answer.
func call(t *testing.T, sim *faketest.Server[Config], method, auth, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, sim.HTTP.URL+"/slack/api/"+method, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := sim.HTTP.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: answer is not json: %v", method, err)
	}
	return resp.StatusCode, resp.Header, out
}

// lookup finds a user by email with GET, as the connector does.
func lookup(t *testing.T, sim *faketest.Server[Config], email, auth string) (int, map[string]any) {
	t.Helper()
	resp, body := sim.Do(t, "GET", "/slack/api/users.lookupByEmail?email="+url.QueryEscape(email), auth, "")
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("lookup: %s", body)
	}
	return resp.StatusCode, out
}

func userID(t *testing.T, sim *faketest.Server[Config], email string) string {
	t.Helper()
	_, out := lookup(t, sim, email, bearer)
	u, _ := out["user"].(map[string]any)
	id, _ := u["id"].(string)
	if id == "" {
		t.Fatalf("no user for %s: %v", email, out)
	}
	return id
}

func wantError(t *testing.T, status int, out map[string]any, wantStatus int, code string) {
	t.Helper()
	if status != wantStatus || out["ok"] != false || out["error"] != code {
		t.Errorf("answer = %d %v, want %d {\"ok\":false,\"error\":%q}", status, out, wantStatus, code)
	}
}

func TestSlackLookupByEmail(t *testing.T) {
	sim := start(t, fake.Knobs{}, Config{})
	t.Run("a member is found by email in any case, with the workspaces of a grid user", func(t *testing.T) {
		status, out := lookup(t, sim, "Alice@Example.com", bearer)
		u, _ := out["user"].(map[string]any)
		eu, _ := u["enterprise_user"].(map[string]any)
		if status != 200 || out["ok"] != true || !strings.HasPrefix(u["id"].(string), "W") || u["team_id"] != slackTeam {
			t.Fatalf("lookup = %d %v", status, out)
		}
		if teams, _ := eu["teams"].([]any); len(teams) != 1 || teams[0] != slackTeam {
			t.Errorf("enterprise_user = %v", eu)
		}
	})
	t.Run("no such member is users_not_found with HTTP 200", func(t *testing.T) {
		status, out := lookup(t, sim, "nobody@example.com", bearer)
		wantError(t, status, out, 200, "users_not_found")
	})
	t.Run("no token or a wrong one is invalid_auth with HTTP 200", func(t *testing.T) {
		status, out := lookup(t, sim, "alice@example.com", "")
		wantError(t, status, out, 200, "invalid_auth")
		status, out = lookup(t, sim, "alice@example.com", "Bearer xoxp-wrong")
		wantError(t, status, out, 200, "invalid_auth")
	})
	t.Run("the token is taken as a form argument too", func(t *testing.T) {
		status, out := sim.PostForm(t, "/slack/api/users.lookupByEmail", url.Values{"token": {DefaultToken}, "email": {"bob@example.com"}})
		if status != 200 || out["ok"] != true {
			t.Errorf("lookup with a form token = %d %v", status, out)
		}
	})
	t.Run("the configured token replaces the default", func(t *testing.T) {
		sim := start(t, fake.Knobs{}, Config{Token: "xoxp-configured"})
		if _, out := lookup(t, sim, "alice@example.com", "Bearer xoxp-configured"); out["ok"] != true {
			t.Errorf("lookup with the configured token = %v", out)
		}
		status, out := lookup(t, sim, "alice@example.com", bearer)
		wantError(t, status, out, 200, "invalid_auth")
	})
}

func TestSlackSessions(t *testing.T) {
	t.Run("a reset wipes every session, and the list by user and team is then empty", func(t *testing.T) {
		sim := start(t, fake.Knobs{}, Config{})
		id := userID(t, sim, "alice@example.com")
		_, _, out := call(t, sim, "admin.users.session.list", bearer, `{"user_id":"`+id+`","team_id":"`+slackTeam+`"}`)
		if ss, _ := out["active_sessions"].([]any); len(ss) != 2 {
			t.Fatalf("sessions before = %v", out)
		}
		if status, _, out := call(t, sim, "admin.users.session.reset", bearer, `{"user_id":"`+id+`"}`); status != 200 || out["ok"] != true {
			t.Fatalf("reset = %d %v", status, out)
		}
		if n := sim.Sessions("slack", "alice@example.com"); n != 0 {
			t.Errorf("Sessions = %d", n)
		}
		_, _, out = call(t, sim, "admin.users.session.list", bearer, `{"user_id":"`+id+`","team_id":"`+slackTeam+`"}`)
		if ss, _ := out["active_sessions"].([]any); out["ok"] != true || len(ss) != 0 {
			t.Errorf("sessions after = %v", out)
		}
		if n := sim.Sessions("slack", "bob@example.com"); n != 2 {
			t.Errorf("bob's sessions = %d, want 2", n)
		}
	})
	t.Run("mobile_only leaves the browser's session, web_only the phone's", func(t *testing.T) {
		sim := start(t, fake.Knobs{}, Config{})
		a, b := userID(t, sim, "alice@example.com"), userID(t, sim, "bob@example.com")
		call(t, sim, "admin.users.session.reset", bearer, `{"user_id":"`+a+`","mobile_only":true}`)
		call(t, sim, "admin.users.session.reset", bearer, `{"user_id":"`+b+`","web_only":true}`)
		_, _, out := call(t, sim, "admin.users.session.list", bearer, `{"user_id":"`+a+`","team_id":"`+slackTeam+`"}`)
		ss, _ := out["active_sessions"].([]any)
		if len(ss) != 1 || ss[0].(map[string]any)["created"].(map[string]any)["device_hardware"] != "Mac" {
			t.Errorf("alice after mobile_only = %v", out)
		}
		_, _, out = call(t, sim, "admin.users.session.list", bearer, `{"user_id":"`+b+`","team_id":"`+slackTeam+`"}`)
		ss, _ = out["active_sessions"].([]any)
		if len(ss) != 1 || ss[0].(map[string]any)["created"].(map[string]any)["device_hardware"] != "iPhone" {
			t.Errorf("bob after web_only = %v", out)
		}
	})
	t.Run("the whole org's sessions page through with the cursor", func(t *testing.T) {
		sim := start(t, fake.Knobs{}, Config{})
		seen, cursor := 0, ""
		for range 10 {
			body := `{"limit":4`
			if cursor != "" {
				body += `,"cursor":"` + cursor + `"`
			}
			_, _, out := call(t, sim, "admin.users.session.list", bearer, body+"}")
			ss, _ := out["active_sessions"].([]any)
			seen += len(ss)
			cursor, _ = out["response_metadata"].(map[string]any)["next_cursor"].(string)
			if cursor == "" {
				break
			}
		}
		if seen != 6 {
			t.Errorf("listed %d sessions across the pages, want 6", seen)
		}
	})
	tests := []struct{ name, method, body, code string }{
		{"a user_id without team_id is invalid_arguments", "admin.users.session.list", `{"user_id":"W1"}`, "invalid_arguments"},
		{"a limit over 1000 is invalid_limit", "admin.users.session.list", `{"limit":1001}`, "invalid_limit"},
		{"a cursor it did not give is invalid_cursor", "admin.users.session.list", `{"cursor":"%%%"}`, "invalid_cursor"},
		{"a reset of an unknown user is user_not_found", "admin.users.session.reset", `{"user_id":"W00000000"}`, "user_not_found"},
		{"a reset without user_id is invalid_arguments", "admin.users.session.reset", `{}`, "invalid_arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := start(t, fake.Knobs{}, Config{})
			status, _, out := call(t, sim, tt.method, bearer, tt.body)
			wantError(t, status, out, 200, tt.code)
		})
	}
}

func TestSlackEdges(t *testing.T) {
	t.Run("auth.test answers the org admin", func(t *testing.T) {
		sim := start(t, fake.Knobs{}, Config{})
		if status, _, out := call(t, sim, "auth.test", bearer, ""); status != 200 || out["ok"] != true || out["is_enterprise_install"] != true {
			t.Errorf("auth.test = %d %v", status, out)
		}
	})
	t.Run("an unknown method is 404 unknown_method", func(t *testing.T) {
		sim := start(t, fake.Knobs{}, Config{})
		status, _, out := call(t, sim, "users.nothing", bearer, "")
		wantError(t, status, out, 404, "unknown_method")
	})
	t.Run("over the rate limit is 429 ratelimited with Retry-After in seconds", func(t *testing.T) {
		sim := start(t, fake.Knobs{RateLimit: 1}, Config{})
		sim.SetClock(func() time.Time { return time.Unix(1_800_000_000, 200_000_000) })
		call(t, sim, "auth.test", bearer, "")
		status, h, out := call(t, sim, "auth.test", bearer, "")
		wantError(t, status, out, 429, "ratelimited")
		if h.Get("Retry-After") != "1" {
			t.Errorf("Retry-After = %q, want 1", h.Get("Retry-After"))
		}
	})
	t.Run("a drawn failure is 503 service_unavailable", func(t *testing.T) {
		sim := start(t, fake.Knobs{ErrorRate: 1}, Config{})
		status, _, out := call(t, sim, "auth.test", bearer, "")
		wantError(t, status, out, 503, "service_unavailable")
	})
}
