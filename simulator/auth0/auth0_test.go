package auth0

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// auth0Bearer fetches a Management API token from f as the auth0 connector
// does (x/oauth2 client credentials, credentials in the body).
func auth0Bearer(t *testing.T, f *fixture) string {
	t.Helper()
	cc := &clientcredentials.Config{ClientID: DefaultClientID, ClientSecret: DefaultClientSecret,
		TokenURL: f.srv.URL + "/auth0/oauth/token", AuthStyle: oauth2.AuthStyleInParams,
		EndpointParams: url.Values{"audience": {f.srv.URL + "/auth0/api/v2/"}}}
	tok, err := cc.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + tok.AccessToken
}

// checkAuth0Error asserts body is the Management API's error.
func checkAuth0Error(t *testing.T, body []byte, status int, code string) {
	t.Helper()
	var e map[string]any
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %s: %v", body, err)
	}
	if e["statusCode"] != float64(status) || e["error"] == "" || e["message"] == "" {
		t.Errorf("error body %s, want statusCode %d with error and message", body, status)
	}
	if code != "" && e["errorCode"] != code {
		t.Errorf("errorCode = %v, want %s", e["errorCode"], code)
	}
}

func auth0UserPath(email string) string {
	return "/auth0/api/v2/users/" + url.PathEscape("auth0|"+auth0Hex("user:"+email, 12))
}

func TestAuth0TokenEndpoint(t *testing.T) {
	good := func(f *fixture) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {DefaultClientID},
			"client_secret": {DefaultClientSecret}, "audience": {f.srv.URL + "/auth0/api/v2/"}}
	}
	t.Run("client credentials as x/oauth2 sends them get a token the management api accepts", func(t *testing.T) {
		f := demo(t, options{})
		if resp, body := f.sim.Do(t, "GET", "/auth0/api/v2/users?per_page=1", auth0Bearer(t, f), ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("users = %d %s", resp.StatusCode, body)
		}
	})
	t.Run("a JSON body with configured credentials is accepted too", func(t *testing.T) {
		f := demo(t, options{ClientID: "cid", ClientSecret: "csecret"})
		body := `{"grant_type":"client_credentials","client_id":"cid","client_secret":"csecret","audience":"` + f.srv.URL + `/auth0/api/v2/"}`
		req, _ := http.NewRequestWithContext(t.Context(), "POST", f.srv.URL+"/auth0/oauth/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != http.StatusOK || out["access_token"] == nil || out["token_type"] != "Bearer" || out["expires_in"] != 86400.0 {
			t.Errorf("token = %d %v", resp.StatusCode, out)
		}
	})
	tests := []struct {
		name   string
		change func(v url.Values)
		status int
		code   string
	}{
		{"a wrong client secret is 401 access_denied", func(v url.Values) { v.Set("client_secret", "wrong") }, 401, "access_denied"},
		{"an unknown client is 401 access_denied", func(v url.Values) { v.Set("client_id", "other") }, 401, "access_denied"},
		{"another audience is 403 access_denied", func(v url.Values) { v.Set("audience", "https://api.example.com/") }, 403, "access_denied"},
		{"no audience is 403 access_denied", func(v url.Values) { v.Del("audience") }, 403, "access_denied"},
		{"another grant type is refused", func(v url.Values) { v.Set("grant_type", "password") }, 403, "unauthorized_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := demo(t, options{})
			v := good(f)
			tt.change(v)
			status, out := f.sim.PostForm(t, "/auth0/oauth/token", v)
			if status != tt.status || out["error"] != tt.code || out["error_description"] == "" || out["access_token"] != nil {
				t.Errorf("token = %d %v, want %d %s", status, out, tt.status, tt.code)
			}
		})
	}
}

func TestAuth0ManagementAPI(t *testing.T) {
	t.Run("users-by-email finds the user by the exact email only", func(t *testing.T) {
		f := demo(t, options{})
		auth := auth0Bearer(t, f)
		_, body := f.sim.Do(t, "GET", "/auth0/api/v2/users-by-email?email=alice%40example.com&fields=user_id,email&include_fields=true", auth, "")
		var users []map[string]any
		if err := json.Unmarshal(body, &users); err != nil || len(users) != 1 {
			t.Fatalf("users = %s", body)
		}
		if id, _ := users[0]["user_id"].(string); !strings.HasPrefix(id, "auth0|") || users[0]["email"] != "alice@example.com" || len(users[0]) != 2 {
			t.Errorf("user = %v", users[0])
		}
		_, body = f.sim.Do(t, "GET", "/auth0/api/v2/users-by-email?email=Alice%40example.com", auth, "")
		if string(body) != "[]\n" {
			t.Errorf("a search in another case = %s, want []", body)
		}
	})
	t.Run("deleting sessions and refresh tokens is accepted and both lists read back empty", func(t *testing.T) {
		f := demo(t, options{})
		auth := auth0Bearer(t, f)
		user := auth0UserPath("alice@example.com")
		for _, what := range []string{"/sessions", "/refresh-tokens"} {
			resp, body := f.sim.Do(t, "GET", user+what, auth, "")
			if resp.StatusCode != http.StatusOK || strings.Count(string(body), `"user_id"`) != 2 {
				t.Fatalf("GET %s = %d %s", what, resp.StatusCode, body)
			}
			if resp, body := f.sim.Do(t, "DELETE", user+what, auth, ""); resp.StatusCode != http.StatusAccepted {
				t.Fatalf("DELETE %s = %d %s", what, resp.StatusCode, body)
			}
		}
		_, sessions := f.sim.Do(t, "GET", user+"/sessions", auth, "")
		_, tokens := f.sim.Do(t, "GET", user+"/refresh-tokens", auth, "")
		if string(sessions) != `{"sessions":[]}`+"\n" || string(tokens) != `{"tokens":[]}`+"\n" {
			t.Errorf("after the deletes: %s %s", sessions, tokens)
		}
		if n := f.sim.Sessions("auth0", "alice@example.com"); n != 0 {
			t.Errorf("sessions = %d", n)
		}
	})
	t.Run("a session list pages with take and next", func(t *testing.T) {
		f := start(t, options{})
		f.sim.AddUser("dana@example.com", 3)
		auth := auth0Bearer(t, f)
		var page struct {
			Sessions []map[string]any `json:"sessions"`
			Next     string           `json:"next"`
		}
		_, body := f.sim.Do(t, "GET", auth0UserPath("dana@example.com")+"/sessions?take=2", auth, "")
		if err := json.Unmarshal(body, &page); err != nil || len(page.Sessions) != 2 || page.Next == "" {
			t.Fatalf("first page = %s", body)
		}
		_, body = f.sim.Do(t, "GET", auth0UserPath("dana@example.com")+"/sessions?take=2&from="+page.Next, auth, "")
		if strings.Contains(string(body), `"next"`) || strings.Count(string(body), `"id"`) != 1 {
			t.Errorf("last page = %s", body)
		}
	})
	tests := []struct {
		name, method, path string
		noToken            bool
		status             int
		code               string
	}{
		{"deleting the sessions of an unknown user is 404 inexistent_user", "DELETE", "/auth0/api/v2/users/auth0%7Cnobody/sessions", false, 404, "inexistent_user"},
		{"reading the refresh tokens of an unknown user is 404", "GET", "/auth0/api/v2/users/auth0%7Cnobody/refresh-tokens", false, 404, "inexistent_user"},
		{"users-by-email without an email is 400", "GET", "/auth0/api/v2/users-by-email", false, 400, "invalid_query_string"},
		{"a call without a token is 401", "GET", "/auth0/api/v2/users", true, 401, ""},
		{"an unknown path is 404", "GET", "/auth0/api/v2/roles", false, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := demo(t, options{})
			auth := ""
			if !tt.noToken {
				auth = auth0Bearer(t, f)
			}
			resp, body := f.sim.Do(t, tt.method, tt.path, auth, "")
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d %s, want %d", resp.StatusCode, body, tt.status)
			}
			checkAuth0Error(t, body, tt.status, tt.code)
		})
	}
}

func TestAuth0Knobs(t *testing.T) {
	t.Run("every answer carries the rate-limit headers and over the limit it is 429 too_many_requests", func(t *testing.T) {
		f := demo(t, options{RateLimit: 2})
		clock := time.Unix(1_700_000_000, 0)
		f.sim.SetClock(func() time.Time { return clock })
		auth := auth0Bearer(t, f) // the token call counts too
		clock = clock.Add(time.Second)
		for i, want := range []struct{ status, remaining int }{{200, 1}, {200, 0}, {429, 0}} {
			resp, body := f.sim.Do(t, "GET", "/auth0/api/v2/users-by-email?email=bob%40example.com", auth, "")
			if resp.StatusCode != want.status {
				t.Fatalf("call %d: status = %d, want %d", i+1, resp.StatusCode, want.status)
			}
			h := resp.Header
			if h.Get("X-RateLimit-Limit") != "2" || h.Get("X-RateLimit-Remaining") != strconv.Itoa(want.remaining) ||
				h.Get("X-RateLimit-Reset") != "1700000002" {
				t.Errorf("call %d: headers %v", i+1, h)
			}
			if want.status == http.StatusTooManyRequests {
				checkAuth0Error(t, body, 429, "too_many_requests")
			}
		}
	})
	t.Run("an error rate of 1 answers 503 and deletes nothing", func(t *testing.T) {
		f := demo(t, options{})
		auth := auth0Bearer(t, f)
		f.setOptions(options{ErrorRate: 1})
		resp, body := f.sim.Do(t, "DELETE", auth0UserPath("alice@example.com")+"/sessions", auth, "")
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("status = %d", resp.StatusCode)
		}
		checkAuth0Error(t, body, 503, "")
		if n := f.sim.Sessions("auth0", "alice@example.com"); n != 2 {
			t.Errorf("sessions = %d", n)
		}
	})
	t.Run("calls are recorded with their user", func(t *testing.T) {
		f := demo(t, options{})
		auth := auth0Bearer(t, f)
		f.sim.Reset()
		f.sim.Do(t, "GET", "/auth0/api/v2/users-by-email?email=carol%40example.com", auth, "")
		f.sim.Do(t, "DELETE", auth0UserPath("carol@example.com")+"/refresh-tokens", auth, "")
		got := f.sim.Calls()
		if len(got) != 2 || got[0].User != "carol@example.com" || got[1].User != "carol@example.com" ||
			got[1].Status != http.StatusAccepted || got[1].Vendor != "auth0" {
			t.Errorf("calls = %+v", got)
		}
	})
}
