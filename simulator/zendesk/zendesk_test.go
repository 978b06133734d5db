package zendesk

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/offboarder/offboarder/simulator/fake"
)

// zendeskError decodes Zendesk's {"error":…,"description":…}.
func zendeskError(t *testing.T, body []byte) (code, description string) {
	t.Helper()
	var e struct {
		Error       string `json:"error"`
		Description string `json:"description"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %s is not zendesk's json: %v", body, err)
	}
	return e.Error, e.Description
}

type searchPage struct {
	Users []struct {
		ID     int64  `json:"id"`
		Email  string `json:"email"`
		Role   string `json:"role"`
		Active bool   `json:"active"`
	} `json:"users"`
	NextPage *string `json:"next_page"`
	Count    int     `json:"count"`
}

func (f *fixture) search(t *testing.T, query string) searchPage {
	t.Helper()
	resp, body := f.sim.Do(t, "GET", "/zendesk/api/v2/users/search.json?query="+url.QueryEscape(query), admin, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("search %q = %d %s", query, resp.StatusCode, body)
	}
	var p searchPage
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *fixture) sessionsPath(t *testing.T, email string) string {
	t.Helper()
	p := f.search(t, "email:"+email)
	if len(p.Users) != 1 {
		t.Fatalf("search for %s found %d users", email, len(p.Users))
	}
	return "/zendesk/api/v2/users/" + strconv.FormatInt(p.Users[0].ID, 10) + "/sessions"
}

func TestZendeskAuth(t *testing.T) {
	tests := []struct {
		name   string
		auth   string
		status int
	}{
		{"the admin's api token is taken", admin, 200},
		{"a wrong token is 401", basic(DefaultEmail, "wrong"), 401},
		{"another admin's address with the token is 401", basic("other@example.com", DefaultToken), 401},
		{"the token as a password, without /token, is 401", "Basic " + base64.StdEncoding.EncodeToString([]byte(DefaultEmail+":"+DefaultToken)), 401},
		{"no credentials is 401", "", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := demo(t, fake.Knobs{})
			resp, body := f.sim.Do(t, "GET", "/zendesk/api/v2/users/me.json", tt.auth, "")
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d %s, want %d", resp.StatusCode, body, tt.status)
			}
			if tt.status == 401 {
				if code, _ := zendeskError(t, body); code != "Couldn't authenticate you" {
					t.Errorf("401 body %s", body)
				}
			}
		})
	}
	t.Run("the configured admin and token replace the defaults", func(t *testing.T) {
		f := start(t, fake.Knobs{}, Config{Email: "ops@example.com", Token: "tok-1"})
		if resp, _ := f.sim.Do(t, "GET", "/zendesk/api/v2/users/me", basic("ops@example.com", "tok-1"), ""); resp.StatusCode != 200 {
			t.Errorf("configured credentials: %d", resp.StatusCode)
		}
		if resp, _ := f.sim.Do(t, "GET", "/zendesk/api/v2/users/me", admin, ""); resp.StatusCode != 401 {
			t.Errorf("default credentials once others are configured: %d", resp.StatusCode)
		}
	})
}

func TestZendeskShowSelf(t *testing.T) {
	f := demo(t, fake.Knobs{})
	_, body := f.sim.Do(t, "GET", "/zendesk/api/v2/users/me.json", admin, "")
	var me struct {
		User struct {
			ID    *int64 `json:"id"`
			Email string `json:"email"`
			Role  string `json:"role"`
		} `json:"user"`
	}
	if err := json.Unmarshal(body, &me); err != nil || me.User.ID == nil || me.User.Role != "admin" || me.User.Email != DefaultEmail {
		t.Fatalf("me = %s (%v)", body, err)
	}
}

func TestZendeskSearch(t *testing.T) {
	f := demo(t, fake.Knobs{})
	f.sim.AddUser("ab.alice@example.com", 0)
	t.Run("email: matches the whole address in any case, quoted or not", func(t *testing.T) {
		for _, q := range []string{"email:alice@example.com", `email:"ALICE@example.com"`, "type:user email:alice@example.com"} {
			p := f.search(t, q)
			if len(p.Users) != 1 || p.Users[0].Email != "alice@example.com" || !p.Users[0].Active || p.Users[0].Role != "end-user" || p.Count != 1 {
				t.Errorf("%s: %+v", q, p)
			}
		}
	})
	t.Run("an unknown address finds nobody", func(t *testing.T) {
		if p := f.search(t, "email:dana@example.com"); len(p.Users) != 0 || p.Count != 0 {
			t.Errorf("%+v", p)
		}
	})
	t.Run("a bare word matches part of the email", func(t *testing.T) {
		if p := f.search(t, "alice"); len(p.Users) != 2 {
			t.Errorf("%+v", p)
		}
	})
	t.Run("per_page pages through the hits with next_page", func(t *testing.T) {
		resp, body := f.sim.Do(t, "GET", "/zendesk/api/v2/users/search.json?query=example&per_page=3", admin, "")
		var p searchPage
		if err := json.Unmarshal(body, &p); err != nil || resp.StatusCode != 200 || len(p.Users) != 3 || p.Count != 4 || p.NextPage == nil || !strings.Contains(*p.NextPage, "page=2") {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		_, body = f.sim.Do(t, "GET", "/zendesk/api/v2/users/search.json?query=example&per_page=3&page=2", admin, "")
		p = searchPage{}
		if err := json.Unmarshal(body, &p); err != nil || len(p.Users) != 1 || p.NextPage != nil {
			t.Fatalf("page 2: %s", body)
		}
	})
	t.Run("no query is 400", func(t *testing.T) {
		if resp, body := f.sim.Do(t, "GET", "/zendesk/api/v2/users/search.json", admin, ""); resp.StatusCode != 400 {
			t.Errorf("%d %s", resp.StatusCode, body)
		}
	})
}

func TestZendeskSessions(t *testing.T) {
	f := demo(t, fake.Knobs{})
	path := f.sessionsPath(t, "alice@example.com")
	list := func(p string) int {
		t.Helper()
		resp, body := f.sim.Do(t, "GET", p, admin, "")
		var l struct {
			Sessions []struct {
				ID     int64 `json:"id"`
				UserID int64 `json:"user_id"`
			} `json:"sessions"`
			Count int `json:"count"`
		}
		if err := json.Unmarshal(body, &l); err != nil || resp.StatusCode != 200 || l.Count != len(l.Sessions) {
			t.Fatalf("list = %d %s", resp.StatusCode, body)
		}
		return len(l.Sessions)
	}
	if n := list(path + ".json"); n != 2 {
		t.Fatalf("alice lists %d sessions, want 2", n)
	}
	resp, body := f.sim.Do(t, "DELETE", path+".json", admin, "")
	if resp.StatusCode != http.StatusNoContent || len(body) != 0 {
		t.Fatalf("bulk delete = %d %s, want 204 and no body", resp.StatusCode, body)
	}
	if n := list(path); n != 0 {
		t.Errorf("after the delete %d sessions are listed", n)
	}
	if n := f.sim.Sessions("zendesk", "alice@example.com"); n != 0 {
		t.Errorf("Sessions = %d after the delete", n)
	}
	if n := f.sim.Sessions("zendesk", "bob@example.com"); n != 2 {
		t.Errorf("bob lost sessions: %d", n)
	}
	t.Run("a second delete is 204 again", func(t *testing.T) {
		if resp, _ := f.sim.Do(t, "DELETE", path, admin, ""); resp.StatusCode != http.StatusNoContent {
			t.Errorf("%d", resp.StatusCode)
		}
	})
	t.Run("an unknown user is 404 RecordNotFound", func(t *testing.T) {
		for _, m := range []string{"GET", "DELETE"} {
			resp, body := f.sim.Do(t, m, "/zendesk/api/v2/users/1/sessions.json", admin, "")
			if code, desc := zendeskError(t, body); resp.StatusCode != 404 || code != "RecordNotFound" || desc != "Not found" {
				t.Errorf("%s: %d %s", m, resp.StatusCode, body)
			}
		}
	})
	t.Run("the record names the user of each call", func(t *testing.T) {
		for _, c := range f.sim.Calls() {
			if strings.Contains(c.Path, "/sessions") && !strings.Contains(c.Path, "/users/1/") && c.User != "alice@example.com" {
				t.Errorf("%s %s recorded for %q", c.Method, c.Path, c.User)
			}
		}
	})
}

func TestZendeskErrorsAndLimits(t *testing.T) {
	t.Run("an unknown path is 404 InvalidEndpoint", func(t *testing.T) {
		f := demo(t, fake.Knobs{})
		resp, body := f.sim.Do(t, "GET", "/zendesk/api/v2/tickets.json", admin, "")
		if code, _ := zendeskError(t, body); resp.StatusCode != 404 || code != "InvalidEndpoint" {
			t.Errorf("%d %s", resp.StatusCode, body)
		}
	})
	t.Run("over the rate limit is 429 in text/plain with Retry-After and the quota headers", func(t *testing.T) {
		f := demo(t, fake.Knobs{RateLimit: 1})
		first, _ := f.sim.Do(t, "GET", "/zendesk/api/v2/users/me.json", admin, "")
		if first.Header.Get("X-Rate-Limit") != "1" || first.Header.Get("X-Rate-Limit-Remaining") != "0" {
			t.Errorf("quota headers %v", first.Header)
		}
		var resp *http.Response
		var body []byte
		for range 3 { // the window may turn between two calls
			if resp, body = f.sim.Do(t, "GET", "/zendesk/api/v2/users/me.json", admin, ""); resp.StatusCode == 429 {
				break
			}
		}
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") || !strings.Contains(string(body), "per minute exceeded") {
			t.Errorf("%d %v %s", resp.StatusCode, resp.Header, body)
		}
	})
	t.Run("a drawn failure is 503 in zendesk's error shape", func(t *testing.T) {
		f := demo(t, fake.Knobs{ErrorRate: 1})
		resp, body := f.sim.Do(t, "GET", "/zendesk/api/v2/users/me.json", admin, "")
		if code, _ := zendeskError(t, body); resp.StatusCode != 503 || code != "unavailable" {
			t.Errorf("%d %s", resp.StatusCode, body)
		}
	})
}
