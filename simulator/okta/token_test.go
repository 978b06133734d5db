package okta

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/offboarder/offboarder/simulator/fake"
)

// oktaAppKey is the simulated service app's EC key; oktaAppRSA an RSA one,
// made once because it is slow.
var (
	oktaAppKey = sync.OnceValue(func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
	oktaAppRSA = sync.OnceValue(func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	})
)

// oktaAssert signs claims with key (ES256 for EC, RS256 for RSA).
func oktaAssert(t *testing.T, key any, claims jwt.Claims) string {
	t.Helper()
	alg := jose.ES256
	if _, ok := key.(*rsa.PrivateKey); ok {
		alg = jose.RS256
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// oktaClaims are a good assertion's claims for f's token endpoint.
func oktaClaims(f *fixture) jwt.Claims {
	now := time.Now()
	return jwt.Claims{Issuer: DefaultClientID, Subject: DefaultClientID, Audience: jwt.Audience{f.srv.URL + "/okta/oauth2/v1/token"},
		ID: fake.RandomHex(8), IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(5 * time.Minute))}
}

// oktaTokenForm is a token request with assertion.
func oktaTokenForm(assertion, scope string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "scope": {scope}, "client_id": {DefaultClientID},
		"client_assertion_type": {oktaAssertionType}, "client_assertion": {assertion}}
}

// oktaBearer gets an access token for scope and answers its Authorization value.
func oktaBearer(t *testing.T, f *fixture, scope string) string {
	t.Helper()
	status, out := f.sim.PostForm(t, "/okta/oauth2/v1/token", oktaTokenForm(oktaAssert(t, oktaAppKey(), oktaClaims(f)), scope))
	tok, _ := out["access_token"].(string)
	if status != http.StatusOK || tok == "" || out["token_type"] != "Bearer" || out["expires_in"] != 3600.0 || out["scope"] != scope {
		t.Fatalf("token = %d %v", status, out)
	}
	return "Bearer " + tok
}

func oktaServiceApp(t *testing.T) *fixture {
	t.Helper()
	f := start(t, options{PublicKey: oktaAppKey().Public()})
	f.sim.Seed(0)
	return f
}

func TestOktaTokenEndpoint(t *testing.T) {
	alice := oktaID("00u", "alice@example.com")
	t.Run("a signed assertion gets a token that lists users and clears sessions", func(t *testing.T) {
		f := oktaServiceApp(t)
		bearer := oktaBearer(t, f, "okta.users.manage")
		if resp, body := f.sim.Do(t, "GET", "/okta/api/v1/users?limit=1", bearer, ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("list = %d %s", resp.StatusCode, body)
		}
		if resp, body := f.sim.Do(t, "DELETE", "/okta/api/v1/users/"+alice+"/sessions?oauthTokens=true", bearer, ""); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("clear = %d %s", resp.StatusCode, body)
		}
		if n := f.sim.Sessions("okta", "alice@example.com"); n != 0 {
			t.Errorf("sessions = %d", n)
		}
	})
	t.Run("an RSA key signing RS256 is accepted, with a configured client id", func(t *testing.T) {
		f := start(t, options{ClientID: "0oa1service", PublicKey: oktaAppRSA().Public()})
		c := oktaClaims(f)
		c.Issuer, c.Subject = "0oa1service", "0oa1service"
		form := oktaTokenForm(oktaAssert(t, oktaAppRSA(), c), "okta.users.read")
		form.Set("client_id", "0oa1service")
		if status, out := f.sim.PostForm(t, "/okta/oauth2/v1/token", form); status != http.StatusOK {
			t.Fatalf("token = %d %v", status, out)
		}
	})
	t.Run("a read-only token may list users but not clear sessions", func(t *testing.T) {
		f := oktaServiceApp(t)
		bearer := oktaBearer(t, f, "okta.users.read")
		if resp, _ := f.sim.Do(t, "GET", "/okta/api/v1/users/alice@example.com", bearer, ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("get = %d", resp.StatusCode)
		}
		resp, _ := f.sim.Do(t, "DELETE", "/okta/api/v1/users/"+alice+"/sessions", bearer, "")
		if ch := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != http.StatusForbidden ||
			!strings.Contains(ch, `error="insufficient_scope"`) || !strings.Contains(ch, `scope="okta.users.manage"`) {
			t.Fatalf("clear = %d, WWW-Authenticate %q", resp.StatusCode, ch)
		}
		if n := f.sim.Sessions("okta", "alice@example.com"); n != 2 {
			t.Errorf("sessions = %d", n)
		}
	})
	t.Run("a bearer token the endpoint did not issue is E0000011", func(t *testing.T) {
		f := oktaServiceApp(t)
		resp, body := f.sim.Do(t, "GET", "/okta/api/v1/users?limit=1", "Bearer sim-okta-at-made-up", "")
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status = %d", resp.StatusCode)
		}
		checkOktaError(t, body, "E0000011")
	})
	t.Run("the same assertion twice is refused the second time", func(t *testing.T) {
		f := oktaServiceApp(t)
		form := oktaTokenForm(oktaAssert(t, oktaAppKey(), oktaClaims(f)), "okta.users.manage")
		if status, _ := f.sim.PostForm(t, "/okta/oauth2/v1/token", form); status != http.StatusOK {
			t.Fatalf("first = %d", status)
		}
		status, out := f.sim.PostForm(t, "/okta/oauth2/v1/token", form)
		if status != http.StatusUnauthorized || out["error"] != "invalid_client" || !strings.Contains(out["error_description"].(string), "already been used") {
			t.Fatalf("second = %d %v", status, out)
		}
	})
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		form   func(f *fixture) url.Values
		status int
		code   string
		desc   string
	}{
		{"an assertion signed by another key", func(f *fixture) url.Values {
			return oktaTokenForm(oktaAssert(t, other, oktaClaims(f)), "okta.users.manage")
		}, 401, "invalid_client", "The client_assertion signature is invalid."},
		{"an assertion from another client", func(f *fixture) url.Values {
			c := oktaClaims(f)
			c.Issuer, c.Subject = "0oaSOMEONEELSE", "0oaSOMEONEELSE"
			return oktaTokenForm(oktaAssert(t, oktaAppKey(), c), "okta.users.manage")
		}, 401, "invalid_client", "Client authentication failed"},
		{"an assertion for another audience", func(f *fixture) url.Values {
			c := oktaClaims(f)
			c.Audience = jwt.Audience{"https://example.okta.com/oauth2/default/v1/token"}
			return oktaTokenForm(oktaAssert(t, oktaAppKey(), c), "okta.users.manage")
		}, 401, "invalid_client", "The audience claim for client_assertion must be the endpoint invoked for the request."},
		{"an expired assertion", func(f *fixture) url.Values {
			c := oktaClaims(f)
			c.Expiry = jwt.NewNumericDate(time.Now().Add(-time.Hour))
			return oktaTokenForm(oktaAssert(t, oktaAppKey(), c), "okta.users.manage")
		}, 401, "invalid_client", "The client_assertion token is expired."},
		{"an assertion valid for more than an hour", func(f *fixture) url.Values {
			c := oktaClaims(f)
			c.Expiry = jwt.NewNumericDate(time.Now().Add(3 * time.Hour))
			return oktaTokenForm(oktaAssert(t, oktaAppKey(), c), "okta.users.manage")
		}, 401, "invalid_client", "too far into the future"},
		{"no assertion", func(*fixture) url.Values {
			return url.Values{"grant_type": {"client_credentials"}, "scope": {"okta.users.manage"}, "client_id": {DefaultClientID}}
		}, 401, "invalid_client", "Client authentication failed"},
		{"a malformed assertion", func(*fixture) url.Values {
			return oktaTokenForm("not.a.jwt", "okta.users.manage")
		}, 401, "invalid_client", "malformed"},
		{"another grant type", func(f *fixture) url.Values {
			v := oktaTokenForm(oktaAssert(t, oktaAppKey(), oktaClaims(f)), "okta.users.manage")
			v.Set("grant_type", "password")
			return v
		}, 400, "unsupported_grant_type", "Configured grant types: [client_credentials]"},
		{"a scope the app was not granted", func(f *fixture) url.Values {
			return oktaTokenForm(oktaAssert(t, oktaAppKey(), oktaClaims(f)), "okta.users.manage okta.apps.manage")
		}, 400, "invalid_scope", "requested, but not granted: okta.apps.manage"},
		{"no scope", func(f *fixture) url.Values {
			return oktaTokenForm(oktaAssert(t, oktaAppKey(), oktaClaims(f)), "")
		}, 400, "invalid_scope", "'scope' must be provided"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is "+tt.code, func(t *testing.T) {
			f := oktaServiceApp(t)
			status, out := f.sim.PostForm(t, "/okta/oauth2/v1/token", tt.form(f))
			desc, _ := out["error_description"].(string)
			if status != tt.status || out["error"] != tt.code || !strings.Contains(desc, tt.desc) || out["access_token"] != nil {
				t.Errorf("token = %d %v, want %d %s (%q)", status, out, tt.status, tt.code, tt.desc)
			}
		})
	}
	t.Run("without a configured public key no assertion is accepted", func(t *testing.T) {
		f := demo(t, options{})
		status, out := f.sim.PostForm(t, "/okta/oauth2/v1/token", oktaTokenForm(oktaAssert(t, oktaAppKey(), oktaClaims(f)), "okta.users.manage"))
		if status != http.StatusUnauthorized || out["error"] != "invalid_client" {
			t.Errorf("token = %d %v", status, out)
		}
	})
}
