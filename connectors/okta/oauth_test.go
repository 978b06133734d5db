package okta_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/connectors/conformance"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// The token endpoint below is shaped from Okta's "Implement OAuth for Okta
// with a service app" guide
// (https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/main/):
// a client credentials request authenticated by a private_key_jwt client
// assertion (iss = sub = client id, aud = the token endpoint, exp at most an
// hour ahead), answered {"token_type":"Bearer","expires_in":3600,
// "access_token":…,"scope":…}, and refusals in OAuth's error shape, e.g.
// 401 {"error":"invalid_client","error_description":"The client_assertion
// signature is invalid."}
// (https://support.okta.com/help/s/article/error-occurs-during-authentication-due-to-invalid-client-assertion-signature).

const (
	oktaClientID    = "0oar95zt9zIpYuz6A0h7"
	oktaAccessToken = "eyJraWQiOiJ.okta-scoped-access-token.UfThlJ7w"
	oktaAssertion   = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

var oktaBearer = http.Header{
	"Authorization": {"Bearer " + oktaAccessToken},
	"User-Agent":    {"offboarder"},
	"Accept":        {"application/json"},
}

// oktaRSAKey is one 2048-bit key for the whole package: generating it is slow.
var oktaRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// pemPKCS8 encodes key as a PKCS #8 PEM block.
func pemPKCS8(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func newECKey(t *testing.T, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// oktaTokenFake is Okta's org authorization server token endpoint for one
// service app.
type oktaTokenFake struct {
	pub      crypto.PublicKey // the app's registered key
	kid      string           // the kid the assertion must carry, if any
	scope    string           // the scope the request must ask for
	path     string           // the endpoint's path; "" means /oauth2/v1/token
	status   int              // non-zero: answer this instead of a token
	body     string
	mu       sync.Mutex
	requests int
	jtis     map[string]bool
}

// handler serves the token endpoint, checking the grant and the assertion
// (signature, header, claims, no replay), and the scripted API elsewhere.
func (f *oktaTokenFake) handler(t *testing.T, steps ...step) http.Handler {
	t.Helper()
	path := f.path
	if path == "" {
		path = "/oauth2/v1/token"
	}
	scope := f.scope
	if scope == "" {
		scope = "okta.users.manage"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+path, func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.requests++
		w.Header().Set("Content-Type", "application/json")
		if err := r.ParseForm(); err != nil {
			t.Errorf("token request: %v", err)
		}
		p := r.PostForm
		if p.Get("grant_type") != "client_credentials" || p.Get("scope") != scope ||
			p.Get("client_assertion_type") != oktaAssertion || p.Get("client_id") != oktaClientID ||
			p.Has("client_secret") || r.Header.Get("Authorization") != "" {
			t.Errorf("token request form = %v (Authorization %q)", p, r.Header.Get("Authorization"))
		}
		if why := f.check(p.Get("client_assertion"), "http://"+r.Host+path); why != "" {
			t.Errorf("client assertion: %s", why)
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":"invalid_client","error_description":%q}`, why)
			return
		}
		if f.status != 0 {
			w.WriteHeader(f.status)
			fmt.Fprint(w, f.body)
			return
		}
		fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3600,"access_token":%q,"scope":%q}`, oktaAccessToken, scope)
	})
	mux.Handle("/", conformance.Script(t, oktaBearer, steps...))
	return mux
}

// check verifies a client assertion as Okta does, or says why not.
func (f *oktaTokenFake) check(assertion, aud string) string {
	tok, err := jwt.ParseSigned(assertion, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.ES384, jose.ES512})
	if err != nil {
		return "the client_assertion is malformed: " + err.Error()
	}
	if kid := tok.Headers[0].KeyID; kid != f.kid {
		return fmt.Sprintf("The client_assertion JWT kid is invalid (%q, want %q).", kid, f.kid)
	}
	var c jwt.Claims
	if err := tok.Claims(f.pub, &c); err != nil {
		return "The client_assertion signature is invalid."
	}
	if err := c.Validate(jwt.Expected{Issuer: oktaClientID, Subject: oktaClientID, AnyAudience: jwt.Audience{aud}}); err != nil {
		return "claims: " + err.Error()
	}
	switch {
	case c.Expiry == nil || c.IssuedAt == nil || c.Expiry.Time().Sub(c.IssuedAt.Time()) > time.Hour:
		return "exp must be at most an hour after iat"
	case c.ID == "" || f.jtis[c.ID]:
		return "the jti is missing or used again"
	}
	if f.jtis == nil {
		f.jtis = map[string]bool{}
	}
	f.jtis[c.ID] = true
	return ""
}

// openOktaOAuth opens an okta connector in service-app mode; extra settings
// are added to client_id and private_key.
func openOktaOAuth(baseURL, key string, extra map[string]any) (connectors.Connector, error) {
	settings := map[string]any{"base_url": baseURL, "client_id": oktaClientID, "private_key": key}
	for k, v := range extra {
		settings[k] = v
	}
	cs, err := connectors.Build([]connectors.Spec{{Name: "okta", Type: "okta", Settings: settings}}, types, connectors.Deps{})
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

func TestOktaServiceApp(t *testing.T) {
	revoked := []step{getLogin(oktaEmail, 200, activeUser), clearSessions(oktaID, 204, "")}
	tests := []struct {
		name  string
		key   func(t *testing.T) (string, crypto.PublicKey)
		extra map[string]any
		fake  *oktaTokenFake // kid, scope and path; nil means none
	}{{
		name: "an RSA key signs the assertion RS256",
		key: func(t *testing.T) (string, crypto.PublicKey) {
			return pemPKCS8(t, oktaRSAKey()), oktaRSAKey().Public()
		},
	}, {
		name: "an RSA key in PKCS #1 is read too",
		key: func(*testing.T) (string, crypto.PublicKey) {
			der := x509.MarshalPKCS1PrivateKey(oktaRSAKey())
			return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der})), oktaRSAKey().Public()
		},
	}, {
		name: "an EC key in SEC 1 signs ES256 and the key id goes in the header",
		key: func(t *testing.T) (string, crypto.PublicKey) {
			k := newECKey(t, elliptic.P256())
			der, err := x509.MarshalECPrivateKey(k)
			if err != nil {
				t.Fatal(err)
			}
			return string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})), k.Public()
		},
		extra: map[string]any{"key_id": "sim-key-1"},
		fake:  &oktaTokenFake{kid: "sim-key-1"},
	}, {
		name: "a P-384 key signs ES384",
		key: func(t *testing.T) (string, crypto.PublicKey) {
			k := newECKey(t, elliptic.P384())
			return pemPKCS8(t, k), k.Public()
		},
	}, {
		name: "scopes and token_url are sent as configured, the assertion's aud following token_url",
		key: func(t *testing.T) (string, crypto.PublicKey) {
			k := newECKey(t, elliptic.P256())
			return pemPKCS8(t, k), k.Public()
		},
		extra: map[string]any{"scopes": []any{"okta.users.read", "okta.users.manage"}, "token_url": "{base}/oauth2/aus1/v1/token"},
		fake:  &oktaTokenFake{scope: "okta.users.read okta.users.manage", path: "/oauth2/aus1/v1/token"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, pub := tt.key(t)
			fake := &oktaTokenFake{pub: pub}
			if tt.fake != nil {
				fake.kid, fake.scope, fake.path = tt.fake.kid, tt.fake.scope, tt.fake.path
			}
			srv := httptest.NewServer(fake.handler(t, revoked...))
			t.Cleanup(srv.Close)
			extra := map[string]any{}
			for k, v := range tt.extra {
				if s, ok := v.(string); ok {
					v = strings.ReplaceAll(s, "{base}", srv.URL)
				}
				extra[k] = v
			}
			c, err := openOktaOAuth(srv.URL, key, extra)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Revoke(t.Context(), offboard.Subject{Email: oktaEmail})
			if err != nil || got != offboard.Acknowledged {
				t.Fatalf("Revoke = %q, %v; want acknowledged", got, err)
			}
			if fake.requests != 1 {
				t.Errorf("%d token requests, want 1 for the two calls", fake.requests)
			}
		})
	}
}

func TestOktaServiceAppFetchesAFreshAssertionEachTime(t *testing.T) {
	fake := &oktaTokenFake{pub: oktaRSAKey().Public()}
	// The first token is rejected by the API (revoked, say): the vendorapi.Client
	// drops it, and the next attempt signs a new assertion, whose jti the
	// fake checks was not seen before.
	srv := httptest.NewServer(fake.handler(t,
		getLogin(oktaEmail, 401, invalidToken),
		getLogin(oktaEmail, 200, activeUser), clearSessions(oktaID, 204, "")))
	t.Cleanup(srv.Close)
	c, err := openOktaOAuth(srv.URL, pemPKCS8(t, oktaRSAKey()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Revoke(t.Context(), offboard.Subject{Email: oktaEmail}); !isAuth(err) {
		t.Fatalf("first Revoke: %v, want an auth error", err)
	}
	if got, err := c.Revoke(t.Context(), offboard.Subject{Email: oktaEmail}); err != nil || got != offboard.Acknowledged {
		t.Fatalf("second Revoke = %q, %v", got, err)
	}
	if fake.requests != 2 || len(fake.jtis) != 2 {
		t.Errorf("%d token requests with %d distinct assertions, want 2 and 2", fake.requests, len(fake.jtis))
	}
}

func isAuth(err error) bool {
	e, ok := errors.AsType[*vendorapi.Error](err)
	return ok && e.Kind == vendorapi.Auth
}

func TestOktaServiceAppTokenRefusals(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		kind   vendorapi.Kind
		text   []string
	}{
		{"a rejected assertion is a permanent auth error", 401,
			`{"error":"invalid_client","error_description":"The client_assertion signature is invalid."}`,
			vendorapi.Auth, []string{"okta: ", "credentials", "invalid_client", "signature is invalid"}},
		{"a client refused with 400 invalid_client is a permanent auth error too", 400,
			`{"error":"invalid_client","error_description":"The client_assertion JWT kid is invalid."}`,
			vendorapi.Auth, []string{"invalid_client", "kid is invalid"}},
		{"an app that requires DPoP is a permanent invalid error naming it", 400,
			`{"error":"invalid_dpop_proof","error_description":"The DPoP proof JWT header is missing."}`,
			vendorapi.Invalid, []string{"invalid_dpop_proof"}},
		{"a scope the app was not granted is a permanent invalid error", 400,
			`{"error":"invalid_scope","error_description":"The following scopes were requested, but not granted: okta.users.manage"}`,
			vendorapi.Invalid, []string{"invalid_scope", "okta.users.manage"}},
		{"a failing token endpoint is transient", 503,
			`{"errorCode":"E0000010","errorSummary":"Service is in read-only mode"}`, vendorapi.Transient, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &oktaTokenFake{pub: oktaRSAKey().Public(), status: tt.status, body: tt.body}
			srv := httptest.NewServer(fake.handler(t)) // no API call may follow
			t.Cleanup(srv.Close)
			key := pemPKCS8(t, oktaRSAKey())
			c, err := openOktaOAuth(srv.URL, key, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Revoke(t.Context(), offboard.Subject{Email: oktaEmail})
			e, ok := errors.AsType[*vendorapi.Error](err)
			if !ok || e.Kind != tt.kind || e.Status != tt.status {
				t.Fatalf("error = %v, want kind %v with status %d", err, tt.kind, tt.status)
			}
			for _, s := range tt.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(fmt.Sprintf("%#v", err), key) {
				t.Errorf("error holds the key: %q", err)
			}
		})
	}
}

func TestOktaServiceAppCheck(t *testing.T) {
	fake := &oktaTokenFake{pub: oktaRSAKey().Public()}
	srv := httptest.NewServer(fake.handler(t,
		step{Method: "GET", Path: "/api/v1/users", Query: url.Values{"limit": {"1"}}, Status: 200, Body: "[" + activeUser + "]"}))
	t.Cleanup(srv.Close)
	c, err := openOktaOAuth(srv.URL, pemPKCS8(t, oktaRSAKey()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.(connectors.Checker).Check(t.Context()); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

func TestOktaForgetDevices(t *testing.T) {
	for _, forget := range []bool{true, false} {
		t.Run(fmt.Sprintf("forget_devices %v is sent as forgetDevices=%v", forget, forget), func(t *testing.T) {
			clear := clearSessions(oktaID, 204, "")
			clear.Query = url.Values{"oauthTokens": {"true"}, "forgetDevices": {fmt.Sprint(forget)}}
			srv := httptest.NewServer(conformance.Script(t, oktaHeaders, getLogin(oktaEmail, 200, activeUser), clear))
			t.Cleanup(srv.Close)
			cs, err := connectors.Build([]connectors.Spec{{Name: "okta", Type: "okta", Settings: map[string]any{
				"base_url": srv.URL, "token": oktaToken, "forget_devices": forget,
			}}}, types, connectors.Deps{})
			if err != nil {
				t.Fatal(err)
			}
			if got, err := cs[0].Revoke(t.Context(), offboard.Subject{Email: oktaEmail}); err != nil || got != offboard.Acknowledged {
				t.Fatalf("Revoke = %q, %v", got, err)
			}
		})
	}
}

func TestOktaConfigAuthModes(t *testing.T) {
	rsaPEM := pemPKCS8(t, oktaRSAKey())
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	const base = "https://example.okta.com"
	tests := []struct {
		name     string
		settings map[string]any
		want     []string // every line of the error, after "connectors[0] (okta)."
	}{
		{"a token and a service app together are refused",
			map[string]any{"token": "t", "client_id": oktaClientID, "private_key": rsaPEM},
			[]string{"token: give either token or client_id + private_key, not both"}},
		{"neither a token nor a service app is refused",
			map[string]any{},
			[]string{"token: required, or client_id + private_key for an OAuth service app"}},
		{"a client id without a key is refused",
			map[string]any{"client_id": oktaClientID},
			[]string{"private_key: required with client_id"}},
		{"a key without a client id is refused",
			map[string]any{"private_key": rsaPEM},
			[]string{"client_id: required with private_key"}},
		{"a key that is no PEM is refused without echoing it",
			map[string]any{"client_id": oktaClientID, "private_key": "not-a-key-SECRETVALUE"},
			[]string{"private_key: not a PEM private key"}},
		{"an RSA key under 2048 bits is refused",
			map[string]any{"client_id": oktaClientID, "private_key": pemPKCS8(t, small)},
			[]string{"private_key: an RSA key must have at least 2048 bits"}},
		{"an EC key on P-224 is refused",
			map[string]any{"client_id": oktaClientID, "private_key": pemPKCS8(t, newECKey(t, elliptic.P224()))},
			[]string{"private_key: an EC key must be on P-256, P-384 or P-521"}},
		{"an Ed25519 key is refused",
			map[string]any{"client_id": oktaClientID, "private_key": pemPKCS8(t, ed)},
			[]string{"private_key: must be an RSA or EC private key in PEM (PKCS #8, PKCS #1 or SEC 1)"}},
		{"service-app keys next to a token are refused",
			map[string]any{"token": "t", "key_id": "k", "scopes": []any{"okta.users.read"}, "token_url": base + "/oauth2/v1/token"},
			[]string{"key_id: only used with client_id + private_key, not with token",
				"scopes: only used with client_id + private_key, not with token",
				"token_url: only used with client_id + private_key, not with token"}},
		{"an empty scope list is refused",
			map[string]any{"client_id": oktaClientID, "private_key": rsaPEM, "scopes": []any{}},
			[]string{"scopes: give at least one scope, or leave scopes out for okta.users.manage"}},
		{"a scope with a space is refused",
			map[string]any{"client_id": oktaClientID, "private_key": rsaPEM, "scopes": []any{"okta.users.read okta.users.manage"}},
			[]string{"scopes[0]: must be one scope name, e.g. okta.users.manage"}},
		{"a token_url that is no url is refused",
			map[string]any{"client_id": oktaClientID, "private_key": rsaPEM, "token_url": "/oauth2/v1/token"},
			[]string{"token_url: must be an http or https url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.settings["base_url"] = base
			_, err := connectors.Build([]connectors.Spec{{Name: "okta", Type: "okta", Settings: tt.settings}}, types, connectors.Deps{})
			if err == nil {
				t.Fatal("Build: want an error")
			}
			var want []string
			for _, w := range tt.want {
				want = append(want, "connectors[0] (okta)."+w)
			}
			if got := err.Error(); got != strings.Join(want, "\n") {
				t.Errorf("Build error:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
			}
			for _, secret := range []string{"SECRETVALUE", "PRIVATE KEY"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("Build error holds key material: %v", err)
				}
			}
		})
	}
}

func TestOktaServiceAppConformance(t *testing.T) {
	key := pemPKCS8(t, oktaRSAKey())
	conformance.Run(t, conformance.Harness{
		New:     func(base string) (connectors.Connector, error) { return openOktaOAuth(base, key, nil) },
		Secret:  key,
		Subject: offboard.Subject{Email: oktaEmail},
		Handler: func(t *testing.T, s conformance.Scenario) http.Handler {
			fake := &oktaTokenFake{pub: oktaRSAKey().Public()}
			switch s {
			case conformance.Success:
				return fake.handler(t, getLogin(oktaEmail, 200, activeUser), clearSessions(oktaID, 204, ""))
			case conformance.NotFound:
				return fake.handler(t, getLogin(oktaEmail, 404, userNotFound), search(oktaEmail, 200, "[]"))
			case conformance.RateLimited:
				return fake.handler(t, rateLimited(30*time.Second))
			case conformance.ServerError:
				return fake.handler(t, getLogin(oktaEmail, 500, internalError))
			case conformance.Unauthorized:
				return fake.handler(t, getLogin(oktaEmail, 401, invalidToken))
			}
			return conformance.Hanging()
		},
	})
}
