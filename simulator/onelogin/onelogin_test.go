package onelogin

import (
	"encoding/base64"
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

// oneloginBearer fetches an access token from f as the onelogin connector
// does (x/oauth2 client credentials, a form body).
func oneloginBearer(t *testing.T, f *fixture) string {
	t.Helper()
	cc := &clientcredentials.Config{ClientID: defaultOneLoginClientID, ClientSecret: defaultOneLoginSecret,
		TokenURL: f.srv.URL + "/onelogin/auth/oauth2/v2/token", AuthStyle: oauth2.AuthStyleInParams}
	tok, err := cc.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + tok.AccessToken
}

// postToken posts a JSON token request with the given Authorization header.
func postToken(t *testing.T, f *fixture, auth, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", f.srv.URL+"/onelogin/auth/oauth2/v2/token", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", auth)
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// checkOneLoginV1 asserts body is the v1 error with that code and message.
func checkOneLoginV1(t *testing.T, body []byte, code int, message string) {
	t.Helper()
	var e struct {
		Status struct {
			Error   bool   `json:"error"`
			Code    int    `json:"code"`
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"status"`
	}
	if err := json.Unmarshal(body, &e); err != nil || !e.Status.Error || e.Status.Code != code || e.Status.Type == "" || e.Status.Message != message {
		t.Errorf("error body %s, want the v1 status %d %q", body, code, message)
	}
}

// checkOneLoginV2 asserts body is the v2 error with that status and name.
func checkOneLoginV2(t *testing.T, body []byte, status int, name string) {
	t.Helper()
	var e map[string]any
	if err := json.Unmarshal(body, &e); err != nil || e["statusCode"] != float64(status) || e["name"] != name || e["message"] == "" {
		t.Errorf("error body %s, want the v2 error %d %s", body, status, name)
	}
}

func oneloginIDOf(t *testing.T, f *fixture, auth, email string) string {
	t.Helper()
	_, body := f.sim.Do(t, "GET", "/onelogin/api/2/users?email="+url.QueryEscape(email), auth, "")
	var users []struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(body, &users); err != nil || len(users) != 1 {
		t.Fatalf("users = %s", body)
	}
	return strconv.FormatInt(users[0].ID, 10)
}

func TestOneLoginTokenEndpoint(t *testing.T) {
	t.Run("a form-encoded client credentials grant gets a ten-hour bearer token the api accepts", func(t *testing.T) {
		f := demo(t, options{})
		cc := &clientcredentials.Config{ClientID: defaultOneLoginClientID, ClientSecret: defaultOneLoginSecret,
			TokenURL: f.srv.URL + "/onelogin/auth/oauth2/v2/token", AuthStyle: oauth2.AuthStyleInParams}
		tok, err := cc.Token(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Until(tok.Expiry); d < 9*time.Hour || tok.Type() != "Bearer" {
			t.Errorf("token expires in %v, type %q", d, tok.Type())
		}
		if resp, body := f.sim.Do(t, "GET", "/onelogin/api/2/users?limit=1", "Bearer "+tok.AccessToken, ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("users = %d %s", resp.StatusCode, body)
		}
	})
	t.Run("a JSON grant with the pair in OneLogin's Authorization header or HTTP Basic is accepted", func(t *testing.T) {
		f := demo(t, options{ClientID: "cid", ClientSecret: "csecret"})
		for _, auth := range []string{"client_id:cid, client_secret:csecret", "Basic " + base64.StdEncoding.EncodeToString([]byte("cid:csecret"))} {
			status, out := postToken(t, f, auth, `{"grant_type":"client_credentials"}`)
			if status != http.StatusOK || out["access_token"] == nil || out["token_type"] != "bearer" || out["expires_in"] != 36000.0 || out["account_id"] == nil {
				t.Errorf("%s: token = %d %v", strings.Fields(auth)[0], status, out)
			}
		}
	})
	tests := []struct {
		name, auth, body string
		status           int
		message          string
	}{
		{"a wrong secret is 401 Authentication Failure", "client_id:sim-onelogin-client, client_secret:wrong", `{"grant_type":"client_credentials"}`, 401, "Authentication Failure"},
		{"another grant type is 400", "client_id:sim-onelogin-client, client_secret:sim-onelogin-secret", `{"grant_type":"password"}`, 400, "grant_type is incorrect/absent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := demo(t, options{})
			status, out := postToken(t, f, tt.auth, tt.body)
			b, _ := json.Marshal(out)
			if status != tt.status {
				t.Errorf("status = %d", status)
			}
			checkOneLoginV1(t, b, tt.status, tt.message)
		})
	}
}

func TestOneLoginAPI(t *testing.T) {
	t.Run("an email search matches the whole address in any case, and fields picks the attributes", func(t *testing.T) {
		f := demo(t, options{})
		auth := oneloginBearer(t, f)
		_, body := f.sim.Do(t, "GET", "/onelogin/api/2/users?email=Alice%40example.com&fields=id,email", auth, "")
		var users []map[string]any
		if err := json.Unmarshal(body, &users); err != nil || len(users) != 1 || len(users[0]) != 2 || users[0]["email"] != "alice@example.com" {
			t.Fatalf("users = %s", body)
		}
		if _, body := f.sim.Do(t, "GET", "/onelogin/api/2/users?email=lice%40example.com", auth, ""); string(body) != "[]\n" {
			t.Errorf("part of an address = %s, want []", body)
		}
	})
	t.Run("a * in the email is a wildcard", func(t *testing.T) {
		f := demo(t, options{})
		_, body := f.sim.Do(t, "GET", "/onelogin/api/2/users?email=*%40example.com&fields=id", oneloginBearer(t, f), "")
		var users []map[string]any
		if err := json.Unmarshal(body, &users); err != nil || len(users) != 3 {
			t.Errorf("users = %s, want alice, bob and carol", body)
		}
	})
	t.Run("limit and page page through the users with the pagination headers", func(t *testing.T) {
		f := demo(t, options{})
		resp, body := f.sim.Do(t, "GET", "/onelogin/api/2/users?limit=2&page=2", oneloginBearer(t, f), "")
		var users []map[string]any
		if err := json.Unmarshal(body, &users); err != nil || len(users) != 1 {
			t.Errorf("page 2 = %s", body)
		}
		h := resp.Header
		if h.Get("Total-Count") != "3" || h.Get("Total-Pages") != "2" || h.Get("Current-Page") != "2" || h.Get("Page-Items") != "1" {
			t.Errorf("headers = %v", h)
		}
	})
	t.Run("logging a user out ends their session and answers the v1 success status", func(t *testing.T) {
		f := demo(t, options{})
		auth := oneloginBearer(t, f)
		id := oneloginIDOf(t, f, auth, "alice@example.com")
		resp, body := f.sim.Do(t, "PUT", "/onelogin/api/1/users/"+id+"/logout", auth, "")
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"type":"success"`) {
			t.Fatalf("logout = %d %s", resp.StatusCode, body)
		}
		if n := f.sim.Sessions("onelogin", "alice@example.com"); n != 0 {
			t.Errorf("sessions = %d", n)
		}
		if n := f.sim.Sessions("onelogin", "bob@example.com"); n != 2 {
			t.Errorf("bob's sessions = %d", n)
		}
	})
	t.Run("the v1 bearer:<token> form is accepted too", func(t *testing.T) {
		f := demo(t, options{})
		token := strings.TrimPrefix(oneloginBearer(t, f), "Bearer ")
		id := oneloginIDOf(t, f, "bearer "+token, "bob@example.com")
		if resp, body := f.sim.Do(t, "PUT", "/onelogin/api/1/users/"+id+"/logout", "bearer:"+token, ""); resp.StatusCode != http.StatusOK {
			t.Errorf("logout = %d %s", resp.StatusCode, body)
		}
	})
	t.Run("an unknown user is 404 and an id that is not an integer 400, in the v1 shape", func(t *testing.T) {
		f := demo(t, options{})
		auth := oneloginBearer(t, f)
		resp, body := f.sim.Do(t, "PUT", "/onelogin/api/1/users/1/logout", auth, "")
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("unknown = %d", resp.StatusCode)
		}
		checkOneLoginV1(t, body, 404, "User not found")
		resp, body = f.sim.Do(t, "PUT", "/onelogin/api/1/users/abc/logout", auth, "")
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"description":"ID is incorrect"`) {
			t.Errorf("not an integer = %d %s", resp.StatusCode, body)
		}
	})
	t.Run("a missing or forged token is 401 in the v2 shape", func(t *testing.T) {
		f := demo(t, options{})
		for _, auth := range []string{"", "Bearer forged"} {
			resp, body := f.sim.Do(t, "GET", "/onelogin/api/2/users", auth, "")
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%q: status = %d", auth, resp.StatusCode)
			}
			checkOneLoginV2(t, body, 401, "UnauthorizedError")
		}
	})
}

func TestOneLoginKnobs(t *testing.T) {
	t.Run("every answer carries the rate-limit headers, the reset in seconds left, and over the limit it is 429", func(t *testing.T) {
		f := demo(t, options{RateLimit: 2})
		clock := time.Unix(1_700_000_000, 0)
		f.sim.SetClock(func() time.Time { return clock })
		auth := oneloginBearer(t, f) // the token call counts too
		clock = clock.Add(1500 * time.Millisecond)
		for i, want := range []struct{ status, remaining int }{{200, 1}, {200, 0}, {429, 0}} {
			resp, body := f.sim.Do(t, "GET", "/onelogin/api/2/users?email=bob%40example.com", auth, "")
			if resp.StatusCode != want.status {
				t.Fatalf("call %d: status = %d, want %d", i+1, resp.StatusCode, want.status)
			}
			h := resp.Header
			if h.Get("X-RateLimit-Limit") != "2" || h.Get("X-RateLimit-Remaining") != strconv.Itoa(want.remaining) ||
				h.Get("X-RateLimit-Reset") != "1" {
				t.Errorf("call %d: headers %v", i+1, h)
			}
			if want.status == http.StatusTooManyRequests {
				checkOneLoginV2(t, body, 429, "TooManyRequestsError")
			}
		}
	})
	t.Run("an error rate of 1 answers 503 and logs nobody out", func(t *testing.T) {
		f := demo(t, options{})
		auth := oneloginBearer(t, f)
		id := oneloginIDOf(t, f, auth, "alice@example.com")
		f.setOptions(options{ErrorRate: 1})
		resp, body := f.sim.Do(t, "PUT", "/onelogin/api/1/users/"+id+"/logout", auth, "")
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("status = %d", resp.StatusCode)
		}
		checkOneLoginV2(t, body, 503, "ServiceUnavailableError")
		if n := f.sim.Sessions("onelogin", "alice@example.com"); n != 2 {
			t.Errorf("sessions = %d", n)
		}
	})
	t.Run("calls are recorded with their user", func(t *testing.T) {
		f := demo(t, options{})
		auth := oneloginBearer(t, f)
		id := oneloginIDOf(t, f, auth, "carol@example.com")
		f.sim.Reset()
		f.sim.Do(t, "GET", "/onelogin/api/2/users?email=carol%40example.com", auth, "")
		f.sim.Do(t, "PUT", "/onelogin/api/1/users/"+id+"/logout", auth, "")
		got := f.sim.Calls()
		if len(got) != 2 || got[0].User != "carol@example.com" || got[1].User != "carol@example.com" ||
			got[1].Status != http.StatusOK || got[1].Vendor != "onelogin" || got[1].Path != "/api/1/users/"+id+"/logout" {
			t.Errorf("calls = %+v", got)
		}
	})
}

func TestOneLoginWildcard(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"alice@example.com", "alice@example.com", true},
		{"alice@example.com", "xalice@example.com", false},
		{"*@example.com", "alice@example.com", true},
		{"al*", "alice@example.com", true},
		{"a*e*m", "alice@example.com", true},
		{"a*z*m", "alice@example.com", false},
		{"ab*b", "ab", false},
		{"al?ce@example.com", "alice@example.com", false},
	}
	for _, tt := range tests {
		if got := oneloginMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("oneloginMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}
