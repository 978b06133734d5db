package box

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

func start(t *testing.T, k fake.Knobs, c Config) *faketest.Server[Config] {
	t.Helper()
	s := faketest.Start(t, k, c, func(c func() Config, _ func() time.Time) fake.Vendor { return New(c) })
	s.Seed(0)
	return s
}

func tokenForm(id, secret, subjectType, enterprise string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret},
		"box_subject_type": {subjectType}, "box_subject_id": {enterprise}}
}

func bearer(t *testing.T, s *faketest.Server[Config]) string {
	t.Helper()
	status, out := s.PostForm(t, "/box/oauth2/token", tokenForm(DefaultClientID, DefaultClientSecret, "enterprise", DefaultEnterpriseID))
	if status != http.StatusOK || out["token_type"] != "bearer" || out["expires_in"] != 3600.0 {
		t.Fatalf("token = %d %v", status, out)
	}
	return "Bearer " + out["access_token"].(string)
}

// wantError checks Box's ClientError.
func wantError(t *testing.T, body []byte, status int, code, context string) {
	t.Helper()
	var e struct {
		Type, Code, Message, RequestID string
		Status                         int
		ContextInfo                    struct{ Message string } `json:"context_info"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Type != "error" || e.Status != status || e.Code != code || e.ContextInfo.Message != context {
		t.Errorf("error body %s, want a ClientError %d %s %q", body, status, code, context)
	}
}

func TestTokenEndpoint(t *testing.T) {
	s := start(t, fake.Knobs{}, Config{})
	for _, tt := range []struct {
		name string
		form url.Values
		code string
	}{
		{"a wrong secret is invalid_client", tokenForm(DefaultClientID, "x", "enterprise", DefaultEnterpriseID), "invalid_client"},
		{"another enterprise is invalid_grant", tokenForm(DefaultClientID, DefaultClientSecret, "enterprise", "42"), "invalid_grant"},
		{"a user subject is unauthorized_client", tokenForm(DefaultClientID, DefaultClientSecret, "user", "42"), "unauthorized_client"},
		{"another grant is invalid_request", url.Values{"grant_type": {"password"}}, "invalid_request"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if status, out := s.PostForm(t, "/box/oauth2/token", tt.form); status != http.StatusBadRequest || out["error"] != tt.code {
				t.Errorf("token = %d %v", status, out)
			}
		})
	}
	t.Run("an API call without a live token is 401 with the reason in the challenge", func(t *testing.T) {
		resp, body := s.Do(t, "GET", "/box/2.0/users", "Bearer nope", "")
		if resp.StatusCode != http.StatusUnauthorized || len(body) != 0 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("= %d %q %v", resp.StatusCode, body, resp.Header)
		}
	})
}

func TestUsersAndTermination(t *testing.T) {
	s := start(t, fake.Knobs{}, Config{})
	s.AddUser("alice@example.com.au", 1)
	auth := bearer(t, s)
	resp, body := s.Do(t, "GET", "/box/2.0/users?filter_term=ALICE%40example.com&user_type=all", auth, "")
	var page struct {
		TotalCount int `json:"total_count"`
		Entries    []struct{ ID, Login, Type string }
	}
	if err := json.Unmarshal(body, &page); err != nil || resp.StatusCode != http.StatusOK || page.TotalCount != 2 || len(page.Entries) != 2 {
		t.Fatalf("users = %d %s", resp.StatusCode, body)
	}
	id := page.Entries[0].ID
	if page.Entries[0].Login != "alice@example.com" {
		id = page.Entries[1].ID
	}
	resp, body = s.Do(t, "POST", "/box/2.0/users/terminate_sessions", auth, `{"user_ids":["`+id+`"],"user_logins":["alice@example.com"]}`)
	if resp.StatusCode != http.StatusAccepted || !strings.Contains(string(body), "check the admin") {
		t.Fatalf("terminate = %d %s", resp.StatusCode, body)
	}
	faketest.Eventually(t, "alice's sessions end", func() bool { return s.Sessions("box", "alice@example.com") == 0 })
	if n := s.Sessions("box", "alice@example.com.au"); n != 1 {
		t.Errorf("the other alice has %d sessions, want 1", n)
	}
	for _, tt := range []struct{ name, body, context string }{
		{"no users", `{"user_ids":[],"user_logins":[]}`, "Users can not be NULL or EMPTY"},
		{"a missing list", `{"user_ids":["1"]}`, "Users can not be NULL or EMPTY"},
		{"an id that is a number", `{"user_ids":[1],"user_logins":[]}`, "User id format is string"},
		{"not json", `user_ids=1`, "Supported payload format is JSON"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := s.Do(t, "POST", "/box/2.0/users/terminate_sessions", auth, tt.body)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d", resp.StatusCode)
			}
			wantError(t, body, 400, "bad_request", tt.context)
		})
	}
	t.Run("nobody of the enterprise is 404", func(t *testing.T) {
		resp, body := s.Do(t, "POST", "/box/2.0/users/terminate_sessions", auth, `{"user_ids":["1"],"user_logins":["dana@example.com"]}`)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("status %d", resp.StatusCode)
		}
		wantError(t, body, 404, "not_found", "")
	})
	t.Run("a limit over 1000 is refused", func(t *testing.T) {
		resp, body := s.Do(t, "GET", "/box/2.0/users?limit=1001", auth, "")
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d", resp.StatusCode)
		}
		wantError(t, body, 400, "bad_request", "Invalid value for limit or offset")
	})
}

func TestKnobs(t *testing.T) {
	s := start(t, fake.Knobs{RateLimit: 1}, Config{})
	auth := bearer(t, s)
	resp, body := s.Do(t, "GET", "/box/2.0/users", auth, "")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("over the limit = %d %v", resp.StatusCode, resp.Header)
	}
	wantError(t, body, 429, "rate_limit_exceeded", "")
	s.SetKnobs(fake.Knobs{ErrorRate: 1})
	resp, body = s.Do(t, "GET", "/box/2.0/users", auth, "")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a failing server = %d", resp.StatusCode)
	}
	wantError(t, body, 503, "unavailable", "")
}
