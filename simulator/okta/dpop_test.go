package okta

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/offboarder/offboarder/simulator/fake"
)

// dpopKey is a client's DPoP key, and proof makes its proofs by hand from
// RFC 9449 §4.2: typ dpop+jwt, the public key as jwk, jti htm htu iat and,
// when given, ath and nonce.
type dpopKey struct{ key *ecdsa.PrivateKey }

func newDPoPKey(t *testing.T) dpopKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return dpopKey{k}
}

func (k dpopKey) proof(t *testing.T, method, htu, token, nonce string) string {
	t.Helper()
	claims := map[string]any{"jti": fake.RandomHex(12), "htm": method, "htu": htu, "iat": time.Now().Unix()}
	if token != "" {
		sum := sha256.Sum256([]byte(token))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.key},
		(&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// dpopDo makes a request with an Authorization value and DPoP proofs.
func dpopDo(t *testing.T, f *fixture, method, path string, form url.Values, auth string, proofs ...string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, f.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestOktaDPoP(t *testing.T) {
	const tokenPath = "/okta/oauth2/v1/token"
	dpopApp := func(t *testing.T) *fixture {
		f := start(t, options{PublicKey: oktaAppKey().Public(), DPoP: true})
		f.sim.Seed(0)
		f.sim.AddUser("isaac+ops@example.com", 2)
		return f
	}
	form := func(t *testing.T, f *fixture) url.Values {
		return oktaTokenForm(oktaAssert(t, oktaAppKey(), oktaClaims(f)), "okta.users.manage")
	}
	// token runs the documented exchange: a first proof is answered
	// use_dpop_nonce with the nonce; a new assertion and a proof with the
	// nonce get a DPoP-bound token.
	token := func(t *testing.T, f *fixture, k dpopKey) string {
		t.Helper()
		htu := f.srv.URL + tokenPath
		resp, body := dpopDo(t, f, "POST", tokenPath, form(t, f), "", k.proof(t, "POST", htu, "", ""))
		nonce := resp.Header.Get("DPoP-Nonce")
		if resp.StatusCode != http.StatusBadRequest || nonce == "" ||
			body != `{"error":"use_dpop_nonce","error_description":"Authorization server requires nonce in DPoP proof."}`+"\n" {
			t.Fatalf("first proof: %d nonce %q %s", resp.StatusCode, nonce, body)
		}
		resp, body = dpopDo(t, f, "POST", tokenPath, form(t, f), "", k.proof(t, "POST", htu, "", nonce))
		var out map[string]any
		_ = json.Unmarshal([]byte(body), &out)
		tok, _ := out["access_token"].(string)
		if resp.StatusCode != http.StatusOK || out["token_type"] != "DPoP" || tok == "" {
			t.Fatalf("with the nonce: %d %s", resp.StatusCode, body)
		}
		return tok
	}
	refusedWith := func(t *testing.T, resp *http.Response, why string) {
		t.Helper()
		ch := resp.Header.Get("WWW-Authenticate")
		if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(ch, "DPoP ") ||
			!strings.Contains(ch, `error="invalid_dpop_proof"`) || !strings.Contains(ch, why) {
			t.Fatalf("want 400 invalid_dpop_proof %q, got %d %q", why, resp.StatusCode, ch)
		}
	}

	t.Run("a token request without a proof is refused as Okta's article shows", func(t *testing.T) {
		f := dpopApp(t)
		status, out := f.sim.PostForm(t, tokenPath, form(t, f))
		if status != http.StatusBadRequest || out["error"] != "invalid_dpop_proof" || out["error_description"] != "The DPoP proof JWT header is missing." {
			t.Fatalf("%d %v", status, out)
		}
	})

	t.Run("the assertion answered use_dpop_nonce has been used", func(t *testing.T) {
		f := dpopApp(t)
		k := newDPoPKey(t)
		htu := f.srv.URL + tokenPath
		same := form(t, f)
		resp, _ := dpopDo(t, f, "POST", tokenPath, same, "", k.proof(t, "POST", htu, "", ""))
		resp, body := dpopDo(t, f, "POST", tokenPath, same, "", k.proof(t, "POST", htu, "", resp.Header.Get("DPoP-Nonce")))
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "already been used") {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})

	t.Run("bad token-request proofs", func(t *testing.T) {
		f := dpopApp(t)
		k := newDPoPKey(t)
		htu := f.srv.URL + tokenPath
		for name, proof := range map[string]string{
			"DPoP proof JWT cannot be parsed.":              "not.a.jwt",
			"'htm' claim in the DPoP proof JWT is invalid.": k.proof(t, "GET", htu, "", ""),
			"'htu' claim in the DPoP proof JWT is invalid.": k.proof(t, "POST", f.srv.URL+"/okta/oauth2/default/v1/token", "", ""),
		} {
			status, out := 0, map[string]any{}
			resp, body := dpopDo(t, f, "POST", tokenPath, form(t, f), "", proof)
			status = resp.StatusCode
			_ = json.Unmarshal([]byte(body), &out)
			if status != http.StatusBadRequest || out["error"] != "invalid_dpop_proof" || out["error_description"] != name {
				t.Errorf("%s: %d %s", name, status, body)
			}
		}
	})

	t.Run("the API wants the DPoP scheme and a proof that binds each call", func(t *testing.T) {
		f := dpopApp(t)
		k := newDPoPKey(t)
		tok := token(t, f, k)
		path := "/okta/api/v1/users?limit=1"
		htu := f.srv.URL + "/okta/api/v1/users"

		resp, body := dpopDo(t, f, "GET", path, nil, "DPoP "+tok, k.proof(t, "GET", htu, tok, ""))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("a good proof: %d %s", resp.StatusCode, body)
		}
		replayed := k.proof(t, "GET", htu, tok, "")
		if resp, _ := dpopDo(t, f, "GET", path, nil, "DPoP "+tok, replayed); resp.StatusCode != http.StatusOK {
			t.Fatalf("first use: %d", resp.StatusCode)
		}
		resp, _ = dpopDo(t, f, "GET", path, nil, "DPoP "+tok, replayed)
		refusedWith(t, resp, "already been used")
		resp, _ = dpopDo(t, f, "GET", path, nil, "Bearer "+tok)
		refusedWith(t, resp, "DPoP-bound")
		resp, _ = dpopDo(t, f, "GET", path, nil, "DPoP "+tok)
		refusedWith(t, resp, "The DPoP proof JWT header is missing.")
		resp, _ = dpopDo(t, f, "GET", path, nil, "DPoP "+tok, k.proof(t, "GET", htu, "another token", ""))
		refusedWith(t, resp, "'ath' claim")
		resp, _ = dpopDo(t, f, "GET", path, nil, "DPoP "+tok, newDPoPKey(t).proof(t, "GET", htu, tok, ""))
		refusedWith(t, resp, "does not match the key")
		resp, _ = dpopDo(t, f, "DELETE", "/okta/api/v1/users/x/sessions", nil, "DPoP "+tok, k.proof(t, "GET", f.srv.URL+"/okta/api/v1/users/x/sessions", tok, ""))
		refusedWith(t, resp, "'htm' claim")
		if n := f.sim.Sessions("okta", "alice@example.com"); n != 2 {
			t.Errorf("a refused call changed something: %d sessions", n)
		}

		// The path is compared percent-decoded: a login sent as %2B
		// matches an htu that holds "+", and not one that holds "%2B".
		escaped := "/okta/api/v1/users/isaac%2Bops@example.com"
		resp, _ = dpopDo(t, f, "GET", escaped, nil, "DPoP "+tok, k.proof(t, "GET", f.srv.URL+escaped, tok, ""))
		refusedWith(t, resp, "'htu' claim in the DPoP proof JWT is invalid.")
		resp, body = dpopDo(t, f, "GET", escaped, nil, "DPoP "+tok, k.proof(t, "GET", f.srv.URL+"/okta/api/v1/users/isaac+ops@example.com", tok, ""))
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"login":"isaac+ops@example.com"`) {
			t.Fatalf("decoded htu: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("an app without DPoP ignores a proof and issues Bearer tokens, never usable as DPoP", func(t *testing.T) {
		f := oktaServiceApp(t)
		k := newDPoPKey(t)
		resp, body := dpopDo(t, f, "POST", tokenPath, form(t, f), "", k.proof(t, "POST", f.srv.URL+tokenPath, "", ""))
		var out map[string]any
		_ = json.Unmarshal([]byte(body), &out)
		tok, _ := out["access_token"].(string)
		if resp.StatusCode != http.StatusOK || out["token_type"] != "Bearer" {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		if resp, _ := dpopDo(t, f, "GET", "/okta/api/v1/users?limit=1", nil, "DPoP "+tok, k.proof(t, "GET", f.srv.URL+"/okta/api/v1/users", tok, "")); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("an unbound token as DPoP: %d", resp.StatusCode)
		}
	})
}

// FuzzOktaDPoPProof: the fake's proof check takes anything without a panic
// and accepts only a proof signed by the key in its own header for this
// htm and htu; the seeds are in testdata/fuzz/FuzzOktaDPoPProof.
func FuzzOktaDPoPProof(f *testing.F) {
	f.Add(`eyJhbGciOiJFUzI1NiIsImp3ayI6eyJrdHkiOiJFQyJ9LCJ0eXAiOiJkcG9wK2p3dCJ9.e30.c2ln`)
	f.Add("not.a.jwt")
	o := newOkta(func() Config { return Config{} })
	f.Fuzz(func(t *testing.T, proof string) {
		jkt, c, why := o.checkProof(proof, "GET", "http://sim/okta/api/v1/users")
		if why == "" && (jkt == "" || c.HTM != "GET" || c.HTU != "http://sim/okta/api/v1/users" || c.JTI == "") {
			t.Fatalf("accepted %q: %q %+v", proof, jkt, c)
		}
	})
}
