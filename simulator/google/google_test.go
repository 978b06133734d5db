package google

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2/jwt"
)

const (
	googleSA    = "offboarder@sim-project.iam.gserviceaccount.com"
	googleAdmin = "admin@example.com"
)

// googleKeys are two throwaway service-account keys, made once per test
// binary: the one the simulator trusts and another.
var googleKeys = sync.OnceValue(func() [2]*rsa.PrivateKey {
	var ks [2]*rsa.PrivateKey
	for i := range ks {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		ks[i] = k
	}
	return ks
})

// googleSim starts a simulator that trusts googleKeys()[0], with the demo
// users.
func googleSim(t *testing.T, o options) *fixture {
	t.Helper()
	o.Key = &googleKeys()[0].PublicKey
	return demo(t, o)
}

// signJWT signs claims with key as an RS256 JWT.
func signJWT(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	head, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": "k1"})
	body, _ := json.Marshal(claims)
	signed := base64.RawURLEncoding.EncodeToString(head) + "." + base64.RawURLEncoding.EncodeToString(body)
	digest := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// goodClaims are a good assertion's claims for f's token endpoint.
func goodClaims(f *fixture) map[string]any {
	now := time.Now().Unix()
	return map[string]any{"iss": googleSA, "sub": googleAdmin, "scope": googleScope,
		"aud": f.srv.URL + "/google/token", "iat": now, "exp": now + 3600}
}

// googleToken trades an assertion with claims for an access token.
func googleToken(t *testing.T, f *fixture, claims map[string]any) string {
	t.Helper()
	status, out := f.sim.PostForm(t, "/google/token", url.Values{
		"grant_type": {googleJWTBearer}, "assertion": {signJWT(t, googleKeys()[0], claims)}})
	tok, _ := out["access_token"].(string)
	if status != http.StatusOK || tok == "" || out["token_type"] != "Bearer" || out["expires_in"] != 3599.0 {
		t.Fatalf("token = %d %v", status, out)
	}
	return "Bearer " + tok
}

// checkGoogleError asserts body is Google's error with that code and reason.
func checkGoogleError(t *testing.T, body []byte, code int, status, reason string) {
	t.Helper()
	var e struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Status  string `json:"status"`
			Errors  []struct {
				Message, Domain, Reason string
			} `json:"errors"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %s: %v", body, err)
	}
	if e.Error.Code != code || e.Error.Status != status || e.Error.Message == "" || len(e.Error.Errors) != 1 ||
		e.Error.Errors[0].Reason != reason || e.Error.Errors[0].Domain == "" {
		t.Errorf("error body %s, want code %d, status %s, reason %s", body, code, status, reason)
	}
}

func TestGoogleTokenEndpoint(t *testing.T) {
	t.Run("an assertion as x/oauth2/jwt signs it gets an access token the directory accepts", func(t *testing.T) {
		f := googleSim(t, options{})
		der, _ := x509.MarshalPKCS8PrivateKey(googleKeys()[0])
		jc := &jwt.Config{Email: googleSA, PrivateKey: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
			Subject: googleAdmin, Scopes: []string{googleScope}, TokenURL: f.srv.URL + "/google/token"}
		tok, err := jc.TokenSource(t.Context()).Token()
		if err != nil {
			t.Fatal(err)
		}
		resp, body := f.sim.Do(t, "GET", "/google/admin/directory/v1/users/alice@example.com/tokens", "Bearer "+tok.AccessToken, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("tokens.list = %d %s", resp.StatusCode, body)
		}
	})
	tests := []struct {
		name   string
		key    int // index into googleKeys
		noKey  bool
		grant  string
		change func(c map[string]any)
		status int
		code   string
	}{
		{name: "an assertion signed by another key is refused", key: 1, status: 400, code: "invalid_grant"},
		{name: "with no key configured every assertion is refused", noKey: true, status: 400, code: "invalid_grant"},
		{name: "an assertion for another audience is refused", status: 400, code: "invalid_grant",
			change: func(c map[string]any) { c["aud"] = "https://oauth2.googleapis.com/token" }},
		{name: "an expired assertion is refused", status: 400, code: "invalid_grant",
			change: func(c map[string]any) {
				c["iat"], c["exp"] = time.Now().Add(-3*time.Hour).Unix(), time.Now().Add(-2*time.Hour).Unix()
			}},
		{name: "an assertion living longer than an hour is refused", status: 400, code: "invalid_grant",
			change: func(c map[string]any) { c["exp"] = time.Now().Add(2 * time.Hour).Unix() }},
		{name: "an assertion without scope is refused", status: 400, code: "invalid_scope",
			change: func(c map[string]any) { delete(c, "scope") }},
		{name: "another grant type is unsupported", grant: "client_credentials", status: 400, code: "unsupported_grant_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := googleSim(t, options{})
			if tt.noKey {
				f.setOptions(options{})
			}
			claims := goodClaims(f)
			if tt.change != nil {
				tt.change(claims)
			}
			grant := googleJWTBearer
			if tt.grant != "" {
				grant = tt.grant
			}
			status, out := f.sim.PostForm(t, "/google/token", url.Values{
				"grant_type": {grant}, "assertion": {signJWT(t, googleKeys()[tt.key], claims)}})
			if status != tt.status || out["error"] != tt.code || out["error_description"] == "" || out["access_token"] != nil {
				t.Errorf("token = %d %v, want %d %s", status, out, tt.status, tt.code)
			}
		})
	}
}

func TestGoogleDirectory(t *testing.T) {
	const tokensPath = "/google/admin/directory/v1/users/alice@example.com/tokens"
	t.Run("sign-out ends every session and answers no body", func(t *testing.T) {
		f := googleSim(t, options{})
		resp, body := f.sim.Do(t, "POST", "/google/admin/directory/v1/users/Alice@Example.com/signOut", googleToken(t, f, goodClaims(f)), "")
		if resp.StatusCode != http.StatusNoContent || len(body) != 0 {
			t.Fatalf("signOut = %d %q", resp.StatusCode, body)
		}
		if n := f.sim.Sessions("google", "alice@example.com"); n != 0 {
			t.Errorf("sessions = %d, want 0", n)
		}
		if n := f.sim.Sessions("google", "bob@example.com"); n != 2 {
			t.Errorf("bob's sessions = %d, want 2", n)
		}
	})
	t.Run("tokens are listed, deleted per client, and an empty list leaves items out", func(t *testing.T) {
		f := googleSim(t, options{})
		auth := googleToken(t, f, goodClaims(f))
		resp, body := f.sim.Do(t, "GET", tokensPath, auth, "")
		var list struct {
			Kind  string           `json:"kind"`
			Etag  string           `json:"etag"`
			Items []map[string]any `json:"items"`
		}
		if err := json.Unmarshal(body, &list); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("tokens.list = %d %s", resp.StatusCode, body)
		}
		if list.Kind != "admin#directory#tokenList" || list.Etag == "" || len(list.Items) != 2 {
			t.Fatalf("list = %+v", list)
		}
		for _, it := range list.Items {
			if it["kind"] != "admin#directory#token" || it["clientId"] == "" || it["userKey"] != googleID("alice@example.com") {
				t.Errorf("token = %v", it)
			}
			resp, body := f.sim.Do(t, "DELETE", tokensPath+"/"+url.PathEscape(it["clientId"].(string)), auth, "")
			if resp.StatusCode != http.StatusNoContent || len(body) != 0 {
				t.Errorf("tokens.delete = %d %q", resp.StatusCode, body)
			}
		}
		_, body = f.sim.Do(t, "GET", tokensPath, auth, "")
		if strings.Contains(string(body), `"items"`) || !strings.Contains(string(body), "admin#directory#tokenList") {
			t.Errorf("empty list = %s", body)
		}
	})
	t.Run("the admin the token acts as exists without being added", func(t *testing.T) {
		f := googleSim(t, options{})
		resp, body := f.sim.Do(t, "GET", "/google/admin/directory/v1/users/"+googleAdmin+"/tokens", googleToken(t, f, goodClaims(f)), "")
		if resp.StatusCode != http.StatusOK || strings.Contains(string(body), `"items"`) {
			t.Fatalf("the admin's tokens = %d %s", resp.StatusCode, body)
		}
		if n := f.sim.Sessions("google", googleAdmin); n != -1 {
			t.Errorf("the admin became a simulated user: %d sessions", n)
		}
	})
	t.Run("a user is found by id", func(t *testing.T) {
		f := googleSim(t, options{})
		path := "/google/admin/directory/v1/users/" + googleID("bob@example.com") + "/signOut"
		if resp, body := f.sim.Do(t, "POST", path, googleToken(t, f, goodClaims(f)), ""); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("signOut by id = %d %s", resp.StatusCode, body)
		}
		if n := f.sim.Sessions("google", "bob@example.com"); n != 0 {
			t.Errorf("sessions = %d", n)
		}
	})
	tests := []struct {
		name, method, path string
		claims             func(c map[string]any) // nil: a good token; "no token" below
		noToken            bool
		status             int
		gstatus, reason    string
	}{
		{name: "an unknown user is 404 notFound", method: "POST", path: "/google/admin/directory/v1/users/nobody@example.com/signOut",
			status: 404, gstatus: "NOT_FOUND", reason: "notFound"},
		{name: "deleting the tokens of a client the user has none of is 404", method: "DELETE", path: tokensPath + "/no-such-client",
			status: 404, gstatus: "NOT_FOUND", reason: "notFound"},
		{name: "a call without a token is 401 authError", method: "GET", path: tokensPath, noToken: true,
			status: 401, gstatus: "UNAUTHENTICATED", reason: "authError"},
		{name: "a token that acts as no user of the domain is 403 forbidden", method: "GET", path: tokensPath,
			claims: func(c map[string]any) { delete(c, "sub") }, status: 403, gstatus: "PERMISSION_DENIED", reason: "forbidden"},
		{name: "a token without the security scope is 403 insufficientPermissions", method: "GET", path: tokensPath,
			claims: func(c map[string]any) { c["scope"] = "https://www.googleapis.com/auth/admin.directory.user.readonly" },
			status: 403, gstatus: "PERMISSION_DENIED", reason: "insufficientPermissions"},
		{name: "an unknown path is 404", method: "GET", path: "/google/admin/directory/v1/groups",
			status: 404, gstatus: "NOT_FOUND", reason: "notFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := googleSim(t, options{})
			auth := ""
			if !tt.noToken {
				c := goodClaims(f)
				if tt.claims != nil {
					tt.claims(c)
				}
				auth = googleToken(t, f, c)
			}
			resp, body := f.sim.Do(t, tt.method, tt.path, auth, "")
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d %s, want %d", resp.StatusCode, body, tt.status)
			}
			checkGoogleError(t, body, tt.status, tt.gstatus, tt.reason)
			if n := f.sim.Sessions("google", "alice@example.com"); n != 2 {
				t.Errorf("a refused call changed alice's sessions: %d", n)
			}
		})
	}
}

func TestGoogleKnobs(t *testing.T) {
	t.Run("over the rate limit google answers 403 userRateLimitExceeded and 429 rateLimitExceeded in turn, with Retry-After", func(t *testing.T) {
		f := googleSim(t, options{RateLimit: 2})
		clock := time.Unix(1_700_000_000, 0)
		f.sim.SetClock(func() time.Time { return clock })
		auth := googleToken(t, f, goodClaims(f)) // the token call counts too
		clock = clock.Add(time.Second)
		want := []struct {
			status          int
			gstatus, reason string
		}{{200, "", ""}, {200, "", ""}, {403, "PERMISSION_DENIED", "userRateLimitExceeded"}, {429, "RESOURCE_EXHAUSTED", "rateLimitExceeded"}}
		for i, w := range want {
			resp, body := f.sim.Do(t, "GET", "/google/admin/directory/v1/users/alice@example.com/tokens", auth, "")
			if resp.StatusCode != w.status {
				t.Fatalf("call %d: status = %d, want %d", i+1, resp.StatusCode, w.status)
			}
			if w.status == http.StatusOK {
				if ra := resp.Header.Get("Retry-After"); ra != "" {
					t.Errorf("call %d: Retry-After %q on a success", i+1, ra)
				}
				continue
			}
			checkGoogleError(t, body, w.status, w.gstatus, w.reason)
			if ra := resp.Header.Get("Retry-After"); ra != "1" {
				t.Errorf("call %d: Retry-After = %q, want 1", i+1, ra)
			}
		}
	})
	t.Run("an error rate of 1 answers 503 backendError", func(t *testing.T) {
		f := googleSim(t, options{})
		auth := googleToken(t, f, goodClaims(f))
		f.setOptions(options{Key: &googleKeys()[0].PublicKey, ErrorRate: 1})
		resp, body := f.sim.Do(t, "POST", "/google/admin/directory/v1/users/alice@example.com/signOut", auth, "")
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("status = %d", resp.StatusCode)
		}
		checkGoogleError(t, body, 503, "UNAVAILABLE", "backendError")
		if n := f.sim.Sessions("google", "alice@example.com"); n != 2 {
			t.Errorf("a failed sign-out changed the sessions: %d", n)
		}
	})
	t.Run("calls are recorded with their user and without the prefix", func(t *testing.T) {
		f := googleSim(t, options{})
		auth := googleToken(t, f, goodClaims(f))
		f.sim.Reset()
		f.sim.Do(t, "POST", "/google/admin/directory/v1/users/"+googleID("carol@example.com")+"/signOut", auth, "")
		got := f.sim.Calls()
		if len(got) != 1 || got[0].Vendor != "google" || got[0].User != "carol@example.com" || got[0].Status != 204 ||
			got[0].Path != "/admin/directory/v1/users/"+googleID("carol@example.com")+"/signOut" {
			t.Errorf("calls = %+v", got)
		}
	})
}
