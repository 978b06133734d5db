package zoom

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/offboarder/offboarder/simulator/fake"
	"github.com/offboarder/offboarder/simulator/fake/faketest"
)

// start serves the Zoom fake alone, with alice, bob and carol (2 sessions
// each).
func start(t *testing.T, k fake.Knobs, c Config) *faketest.Server[Config] {
	t.Helper()
	sim := faketest.Start(t, k, c, func(c func() Config, _ func() time.Time) fake.Vendor { return New(c) })
	sim.Seed(0)
	return sim
}

// app is the Server-to-Server OAuth app as the zoom connector presents it:
// account_credentials in the form, the client as HTTP Basic.
func app(sim *faketest.Server[Config], account, id, secret string) *clientcredentials.Config {
	return &clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: sim.HTTP.URL + "/zoom/oauth/token",
		AuthStyle:      oauth2.AuthStyleInHeader,
		EndpointParams: url.Values{"grant_type": {"account_credentials"}, "account_id": {account}}}
}

func bearer(t *testing.T, sim *faketest.Server[Config]) string {
	t.Helper()
	tok, err := app(sim, DefaultAccountID, DefaultClientID, DefaultClientSecret).Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + tok.AccessToken
}

func wantZoomError(t *testing.T, resp *http.Response, body []byte, status, code int) {
	t.Helper()
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if resp.StatusCode != status || json.Unmarshal(body, &e) != nil || e.Code != code || e.Message == "" {
		t.Errorf("answer = %d %s, want %d with code %d", resp.StatusCode, body, status, code)
	}
}

func TestZoomToken(t *testing.T) {
	t.Run("the app's account_credentials grant gets a bearer token of an hour that the api accepts", func(t *testing.T) {
		sim := start(t, fake.Knobs{}, Config{})
		tok, err := app(sim, DefaultAccountID, DefaultClientID, DefaultClientSecret).Token(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if left := time.Until(tok.Expiry); left > time.Hour || left < 59*time.Minute {
			t.Errorf("token lives %v, want an hour", left)
		}
		if resp, body := sim.Do(t, "GET", "/zoom/v2/users?page_size=1", "Bearer "+tok.AccessToken, ""); resp.StatusCode != 200 {
			t.Errorf("list users = %d %s", resp.StatusCode, body)
		}
	})
	t.Run("the parameters in the query string, as zoom's page shows them, are taken too", func(t *testing.T) {
		sim := start(t, fake.Knobs{}, Config{AccountID: "acct", ClientID: "cid", ClientSecret: "csecret"})
		req, _ := http.NewRequestWithContext(t.Context(), "POST", sim.HTTP.URL+"/zoom/oauth/token?grant_type=account_credentials&account_id=acct", nil)
		req.SetBasicAuth("cid", "csecret")
		resp, err := sim.HTTP.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("token = %d", resp.StatusCode)
		}
	})
	tests := []struct {
		name, account, id, secret, grant, code string
		status                                 int
	}{
		{"a wrong secret is 401 invalid_client", DefaultAccountID, DefaultClientID, "wrong", "account_credentials", "invalid_client", 401},
		{"another account is 400 invalid_request", "other", DefaultClientID, DefaultClientSecret, "account_credentials", "invalid_request", 400},
		{"the client_credentials grant is 400 unsupported_grant_type", DefaultAccountID, DefaultClientID, DefaultClientSecret, "client_credentials", "unsupported_grant_type", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := start(t, fake.Knobs{}, Config{})
			cc := app(sim, tt.account, tt.id, tt.secret)
			cc.EndpointParams.Set("grant_type", tt.grant)
			_, err := cc.Token(t.Context())
			re, ok := err.(*oauth2.RetrieveError)
			if !ok || re.Response.StatusCode != tt.status || re.ErrorCode != tt.code {
				t.Errorf("token error = %v, want %d %s", err, tt.status, tt.code)
			}
		})
	}
}

func TestZoomUsers(t *testing.T) {
	t.Run("a user is found by email in any case and by id, signing in with sso", func(t *testing.T) {
		sim := start(t, fake.Knobs{}, Config{})
		auth := bearer(t, sim)
		_, body := sim.Do(t, "GET", "/zoom/v2/users/Alice@Example.com", auth, "")
		var u struct {
			ID         string `json:"id"`
			Email      string `json:"email"`
			LoginTypes []int  `json:"login_types"`
		}
		if err := json.Unmarshal(body, &u); err != nil || len(u.ID) != 22 || u.Email != "alice@example.com" || len(u.LoginTypes) != 1 || u.LoginTypes[0] != 101 {
			t.Fatalf("user = %s", body)
		}
		if resp, _ := sim.Do(t, "GET", "/zoom/v2/users/"+u.ID, auth, ""); resp.StatusCode != 200 {
			t.Errorf("by id = %d", resp.StatusCode)
		}
	})
	t.Run("revoking the sso token ends every session of that user only, and an unknown user is 404 code 1001", func(t *testing.T) {
		sim := start(t, fake.Knobs{}, Config{})
		auth := bearer(t, sim)
		if resp, body := sim.Do(t, "DELETE", "/zoom/v2/users/alice@example.com/token", auth, ""); resp.StatusCode != 204 || len(body) != 0 {
			t.Fatalf("revoke = %d %s", resp.StatusCode, body)
		}
		if n := sim.Sessions("zoom", "alice@example.com"); n != 0 {
			t.Errorf("alice has %d sessions", n)
		}
		if n := sim.Sessions("zoom", "bob@example.com"); n != 2 {
			t.Errorf("bob has %d sessions", n)
		}
		resp, body := sim.Do(t, "DELETE", "/zoom/v2/users/nobody@example.com/token", auth, "")
		wantZoomError(t, resp, body, 404, 1001)
		resp, body = sim.Do(t, "GET", "/zoom/v2/users/nobody@example.com", auth, "")
		wantZoomError(t, resp, body, 404, 1001)
	})
	t.Run("the users list pages with next_page_token", func(t *testing.T) {
		sim := start(t, fake.Knobs{}, Config{})
		auth := bearer(t, sim)
		seen, token := 0, ""
		for range 5 {
			_, body := sim.Do(t, "GET", "/zoom/v2/users?page_size=2&next_page_token="+token, auth, "")
			var page struct {
				Users []map[string]any `json:"users"`
				Next  string           `json:"next_page_token"`
			}
			if err := json.Unmarshal(body, &page); err != nil {
				t.Fatal(err)
			}
			seen += len(page.Users)
			if token = page.Next; token == "" {
				break
			}
		}
		if seen != 3 {
			t.Errorf("listed %d users, want 3", seen)
		}
	})
}

func TestZoomEdges(t *testing.T) {
	t.Run("no token or one it did not issue is 401 code 124", func(t *testing.T) {
		sim := start(t, fake.Knobs{}, Config{})
		resp, body := sim.Do(t, "GET", "/zoom/v2/users/alice@example.com", "", "")
		wantZoomError(t, resp, body, 401, 124)
		resp, body = sim.Do(t, "GET", "/zoom/v2/users/alice@example.com", "Bearer forged", "")
		wantZoomError(t, resp, body, 401, 124)
	})
	t.Run("over the rate limit is 429 code 429 with the QPS headers and no Retry-After", func(t *testing.T) {
		sim := start(t, fake.Knobs{RateLimit: 1}, Config{})
		sim.SetClock(func() time.Time { return time.Unix(1_800_000_000, 0) })
		auth := bearer(t, sim) // the token request uses up the second's one call
		resp, body := sim.Do(t, "GET", "/zoom/v2/users/alice@example.com", auth, "")
		wantZoomError(t, resp, body, 429, 429)
		if resp.Header.Get("X-RateLimit-Type") != "QPS" || resp.Header.Get("X-RateLimit-Remaining") != "0" || resp.Header.Get("Retry-After") != "" {
			t.Errorf("headers = %v", resp.Header)
		}
		if !strings.Contains(string(body), "per-second") {
			t.Errorf("body = %s", body)
		}
	})
	t.Run("a drawn failure is 503 in zoom's error body", func(t *testing.T) {
		sim := start(t, fake.Knobs{ErrorRate: 1}, Config{})
		resp, body := sim.Do(t, "GET", "/zoom/v2/users", "", "")
		wantZoomError(t, resp, body, 503, 503)
	})
}
