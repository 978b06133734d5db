package keycloak

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// keycloakBearer fetches a service account's token from f as the keycloak
// connector does (x/oauth2 client credentials, credentials in the form).
func keycloakBearer(t *testing.T, f *fixture) string {
	t.Helper()
	cc := &clientcredentials.Config{ClientID: defaultKeycloakClientID, ClientSecret: defaultKeycloakSecret,
		TokenURL: f.srv.URL + "/keycloak/realms/demo/protocol/openid-connect/token", AuthStyle: oauth2.AuthStyleInParams}
	tok, err := cc.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + tok.AccessToken
}

// checkKeycloakError asserts body is Keycloak's {"error": msg}.
func checkKeycloakError(t *testing.T, body []byte, msg string) {
	t.Helper()
	var e map[string]string
	if err := json.Unmarshal(body, &e); err != nil || e["error"] != msg {
		t.Errorf("error body %s, want {\"error\":%q}", body, msg)
	}
}

func keycloakUserPath(email string) string {
	return "/keycloak/admin/realms/demo/users/" + keycloakUUID("user:"+email)
}

func TestKeycloakTokenEndpoint(t *testing.T) {
	good := url.Values{"grant_type": {"client_credentials"}, "client_id": {defaultKeycloakClientID}, "client_secret": {defaultKeycloakSecret}}
	t.Run("client credentials as x/oauth2 sends them get a token the admin api accepts", func(t *testing.T) {
		f := demo(t, options{})
		if resp, body := f.sim.Do(t, "GET", "/keycloak/admin/realms/demo/users?max=1", keycloakBearer(t, f), ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("users = %d %s", resp.StatusCode, body)
		}
	})
	t.Run("client credentials as HTTP Basic are accepted too, with the configured realm and client", func(t *testing.T) {
		f := demo(t, options{Realm: "acme", ClientID: "cid", ClientSecret: "csecret"})
		cc := &clientcredentials.Config{ClientID: "cid", ClientSecret: "csecret", AuthStyle: oauth2.AuthStyleInHeader,
			TokenURL: f.srv.URL + "/keycloak/realms/acme/protocol/openid-connect/token"}
		tok, err := cc.Token(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if tok.TokenType != "Bearer" || time.Until(tok.Expiry) > 5*time.Minute {
			t.Errorf("token = %+v", tok)
		}
		resp, _ := f.sim.Do(t, "GET", "/keycloak/admin/realms/acme/users?max=1", "Bearer "+tok.AccessToken, "")
		if resp.StatusCode != http.StatusOK {
			t.Errorf("users in the configured realm = %d", resp.StatusCode)
		}
	})
	tests := []struct {
		name   string
		path   string
		change func(v url.Values)
		status int
		code   string
	}{
		{"a wrong client secret is 401 unauthorized_client", "", func(v url.Values) { v.Set("client_secret", "wrong") }, 401, "unauthorized_client"},
		{"an unknown client is 401 unauthorized_client", "", func(v url.Values) { v.Set("client_id", "other") }, 401, "unauthorized_client"},
		{"another grant type is 400 unsupported_grant_type", "", func(v url.Values) { v.Set("grant_type", "password") }, 400, "unsupported_grant_type"},
		{"no grant type is 400 invalid_request", "", func(v url.Values) { v.Del("grant_type") }, 400, "invalid_request"},
		{"an unknown realm is 404 Realm does not exist", "/keycloak/realms/other/protocol/openid-connect/token", func(url.Values) {}, 404, "Realm does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := demo(t, options{})
			v := url.Values{}
			for k, vs := range good {
				v[k] = append([]string(nil), vs...)
			}
			tt.change(v)
			path := tt.path
			if path == "" {
				path = "/keycloak/realms/demo/protocol/openid-connect/token"
			}
			status, out := f.sim.PostForm(t, path, v)
			if status != tt.status || out["error"] != tt.code || out["access_token"] != nil {
				t.Errorf("token = %d %v, want %d %s", status, out, tt.status, tt.code)
			}
		})
	}
}

func TestKeycloakAdminAPI(t *testing.T) {
	t.Run("an exact email search finds only that user, in any case", func(t *testing.T) {
		f := demo(t, options{})
		auth := keycloakBearer(t, f)
		_, body := f.sim.Do(t, "GET", "/keycloak/admin/realms/demo/users?email=Alice%40example.com&exact=true&briefRepresentation=true", auth, "")
		var users []map[string]any
		if err := json.Unmarshal(body, &users); err != nil || len(users) != 1 {
			t.Fatalf("users = %s", body)
		}
		if users[0]["id"] != keycloakUUID("user:alice@example.com") || users[0]["email"] != "alice@example.com" || users[0]["username"] != "alice" {
			t.Errorf("user = %v", users[0])
		}
		_, body = f.sim.Do(t, "GET", "/keycloak/admin/realms/demo/users?email=lice%40example.com&exact=true", auth, "")
		if string(body) != "[]\n" {
			t.Errorf("an exact search for part of an email = %s, want []", body)
		}
	})
	t.Run("without exact an email search matches a substring", func(t *testing.T) {
		f := demo(t, options{})
		_, body := f.sim.Do(t, "GET", "/keycloak/admin/realms/demo/users?email=%40example.com", keycloakBearer(t, f), "")
		var users []map[string]any
		if err := json.Unmarshal(body, &users); err != nil || len(users) != 3 {
			t.Errorf("users = %s, want alice, bob and carol", body)
		}
	})
	t.Run("first and max page through the users", func(t *testing.T) {
		f := demo(t, options{})
		auth := keycloakBearer(t, f)
		var page1, page2 []map[string]any
		_, b1 := f.sim.Do(t, "GET", "/keycloak/admin/realms/demo/users?max=2", auth, "")
		_, b2 := f.sim.Do(t, "GET", "/keycloak/admin/realms/demo/users?first=2&max=2", auth, "")
		if json.Unmarshal(b1, &page1) != nil || json.Unmarshal(b2, &page2) != nil || len(page1) != 2 || len(page2) != 1 || page2[0]["id"] == page1[0]["id"] {
			t.Errorf("pages = %s and %s", b1, b2)
		}
		resp, body := f.sim.Do(t, "GET", "/keycloak/admin/realms/demo/users?max=two", auth, "")
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("max=two = %d", resp.StatusCode)
		}
		checkKeycloakError(t, body, "HTTP 404 Not Found")
	})
	t.Run("logout ends the online sessions and leaves the offline tokens", func(t *testing.T) {
		f := demo(t, options{})
		auth := keycloakBearer(t, f)
		user := keycloakUserPath("alice@example.com")
		_, body := f.sim.Do(t, "GET", user+"/sessions", auth, "")
		var sessions []map[string]any
		if json.Unmarshal(body, &sessions) != nil || len(sessions) != 2 || sessions[0]["userId"] != keycloakUUID("user:alice@example.com") {
			t.Fatalf("sessions before = %s", body)
		}
		if resp, body := f.sim.Do(t, "POST", user+"/logout", auth, ""); resp.StatusCode != http.StatusNoContent || len(body) != 0 {
			t.Fatalf("logout = %d %s", resp.StatusCode, body)
		}
		if _, body := f.sim.Do(t, "GET", user+"/sessions", auth, ""); string(body) != "[]\n" {
			t.Errorf("sessions after = %s", body)
		}
		if n := f.sim.Sessions("keycloak", "alice@example.com"); n != 0 {
			t.Errorf("Sessions = %d", n)
		}
		_, body = f.sim.Do(t, "GET", user+"/consents", auth, "")
		if !strings.Contains(string(body), `"key":"Offline Token"`) || !strings.Contains(string(body), `"clientId":"`+keycloakOfflineApp+`"`) {
			t.Errorf("consents after a logout = %s, want the offline tokens still there", body)
		}
	})
	t.Run("revoking the consent revokes the offline tokens, once", func(t *testing.T) {
		f := demo(t, options{})
		auth := keycloakBearer(t, f)
		user := keycloakUserPath("bob@example.com")
		if resp, _ := f.sim.Do(t, "DELETE", user+"/consents/"+keycloakOfflineApp, auth, ""); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("revoke = %d", resp.StatusCode)
		}
		if _, body := f.sim.Do(t, "GET", user+"/consents", auth, ""); string(body) != "[]\n" {
			t.Errorf("consents after = %s", body)
		}
		resp, body := f.sim.Do(t, "DELETE", user+"/consents/"+keycloakOfflineApp, auth, "")
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("second revoke = %d", resp.StatusCode)
		}
		checkKeycloakError(t, body, "Consent nor offline token not found")
		resp, body = f.sim.Do(t, "DELETE", user+"/consents/no-such-client", auth, "")
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("unknown client = %d", resp.StatusCode)
		}
		checkKeycloakError(t, body, "Client not found")
	})
	tests := []struct {
		name, method, path, auth, want string
		status                         int
	}{
		{"an unknown user is 404 User not found", "POST", "/keycloak/admin/realms/demo/users/00000000-0000-4000-a000-000000000000/logout", "", "User not found", 404},
		{"another realm is 404 Realm not found.", "GET", "/keycloak/admin/realms/other/users", "", "Realm not found.", 404},
		{"an unknown path is 404", "GET", "/keycloak/admin/realms/demo/nothing", "", "HTTP 404 Not Found", 404},
		{"no bearer token is 401", "GET", "/keycloak/admin/realms/demo/users", "none", "HTTP 401 Unauthorized", 401},
		{"a bearer token it did not issue is 401", "GET", "/keycloak/admin/realms/demo/users", "Bearer forged", "HTTP 401 Unauthorized", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := demo(t, options{})
			auth := tt.auth
			switch auth {
			case "":
				auth = keycloakBearer(t, f)
			case "none":
				auth = ""
			}
			resp, body := f.sim.Do(t, tt.method, tt.path, auth, "")
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d %s, want %d", resp.StatusCode, body, tt.status)
			}
			checkKeycloakError(t, body, tt.want)
		})
	}
}

func TestKeycloakKnobs(t *testing.T) {
	t.Run("over the rate limit it is 429 with Retry-After, as a proxy in front would answer", func(t *testing.T) {
		f := demo(t, options{RateLimit: 1})
		clock := time.Unix(1_700_000_000, 0)
		f.sim.SetClock(func() time.Time { return clock })
		auth := keycloakBearer(t, f) // the token call counts too
		clock = clock.Add(time.Second)
		for i, want := range []int{200, 429} {
			resp, body := f.sim.Do(t, "GET", "/keycloak/admin/realms/demo/users?max=1", auth, "")
			if resp.StatusCode != want {
				t.Fatalf("call %d: status = %d, want %d", i+1, resp.StatusCode, want)
			}
			if want == 429 {
				if resp.Header.Get("Retry-After") != "1" {
					t.Errorf("Retry-After = %q", resp.Header.Get("Retry-After"))
				}
				checkKeycloakError(t, body, "HTTP 429 Too Many Requests")
			}
		}
	})
	t.Run("an error rate of 1 answers 503 and logs nobody out", func(t *testing.T) {
		f := demo(t, options{})
		auth := keycloakBearer(t, f)
		f.setOptions(options{ErrorRate: 1})
		resp, body := f.sim.Do(t, "POST", keycloakUserPath("alice@example.com")+"/logout", auth, "")
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("status = %d", resp.StatusCode)
		}
		checkKeycloakError(t, body, "unknown_error")
		if n := f.sim.Sessions("keycloak", "alice@example.com"); n != 2 {
			t.Errorf("sessions = %d", n)
		}
	})
	t.Run("calls are recorded with their user", func(t *testing.T) {
		f := demo(t, options{})
		auth := keycloakBearer(t, f)
		f.sim.Reset()
		f.sim.Do(t, "GET", "/keycloak/admin/realms/demo/users?email=carol%40example.com&exact=true", auth, "")
		f.sim.Do(t, "POST", keycloakUserPath("carol@example.com")+"/logout", auth, "")
		got := f.sim.Calls()
		if len(got) != 2 || got[0].User != "carol@example.com" || got[1].User != "carol@example.com" ||
			got[1].Status != http.StatusNoContent || got[1].Vendor != "keycloak" || got[1].Path != "/admin/realms/demo/users/"+keycloakUUID("user:carol@example.com")+"/logout" {
			t.Errorf("calls = %+v", got)
		}
	})
}
