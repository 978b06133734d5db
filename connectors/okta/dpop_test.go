package okta_test

import (
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// The fake below is an Okta org whose service app requires DPoP, shaped
// from Okta's guide (https://developer.okta.com/docs/guides/dpop/oktaresourceserver/main/),
// the support article "The DPoP Proof JWT Header Is Missing"
// (https://support.okta.com/help/s/article/the-dpop-proof-jwt-header-is-missing),
// the devforum thread on client credentials with DPoP
// (https://devforum.okta.com/t/client-credentials-oauth-for-okta-with-dpop-enabled/30239)
// and RFC 9449: the token endpoint wants a DPoP proof (typ dpop+jwt, the
// public key in jwk, htm POST, htu the endpoint, jti, iat), answers the
// first one 400 {"error":"use_dpop_nonce"} with a DPoP-Nonce header, then
// issues token_type "DPoP" bound to the key's thumbprint; the API wants
// "Authorization: DPoP <token>" and a proof per call whose htm and htu are
// the call's, whose ath is the token's SHA-256 and whose key is the bound
// one, never a jti twice. Okta compares htu with the request's path
// percent-decoded, and refuses a proof at the API with 400 and a DPoP
// challenge that carries the reason, as two reports show
// (https://github.com/okta/okta-sdk-python/issues/541,
// https://github.com/okta/okta-sdk-nodejs/issues/453 and /521).

const oktaDPoPNonce = "eyJ7S_zG.yH2JdVU8s4N9Q"

// oktaDPoPFake is that org.
type oktaDPoPFake struct {
	t      *testing.T
	tokens oktaTokenFake // checks the client assertion

	mu       sync.Mutex
	bound    string          // the thumbprint the token is bound to
	jtis     map[string]bool // proofs seen
	tokenReq int             // token requests
	apiCalls int             // API calls that passed the checks
	refused  []string        // why API calls were refused
	apiNonce string          // when set, the API wants this nonce in proofs [RFC 9449 §9]
	rotate   string          // when set, the next successful API answer hands it out as the new nonce
	nonceAsk int             // 401 use_dpop_nonce answers of the API
	bearer   bool            // answer token_type Bearer, as an app without DPoP would
}

// verify checks a DPoP proof as RFC 9449 §4.3 says and returns its key's
// thumbprint, or says why it is refused.
func (f *oktaDPoPFake) verify(proof, method, htu, token, nonce string) (string, string) {
	jws, err := jose.ParseSignedCompact(proof, []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.ES512, jose.RS256, jose.RS384, jose.RS512})
	if err != nil {
		return "", "the DPoP proof is not a JWS: " + err.Error()
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "dpop+jwt" {
		return "", fmt.Sprintf("typ %q, want dpop+jwt", typ)
	}
	if h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() {
		return "", "no public jwk in the header"
	}
	payload, err := jws.Verify(h.JSONWebKey)
	if err != nil {
		return "", "the DPoP proof signature is invalid"
	}
	var c struct {
		JTI   string `json:"jti"`
		HTM   string `json:"htm"`
		HTU   string `json:"htu"`
		IAT   int64  `json:"iat"`
		ATH   string `json:"ath"`
		Nonce string `json:"nonce"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return "", "claims: " + err.Error()
	}
	ath := ""
	if token != "" {
		sum := sha256.Sum256([]byte(token))
		ath = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	switch {
	case c.HTM != method:
		return "", fmt.Sprintf("htm %q, want %q", c.HTM, method)
	case c.HTU != htu:
		return "", fmt.Sprintf("htu %q, want %q", c.HTU, htu)
	case c.JTI == "" || f.jtis[c.JTI]:
		return "", "jti missing or used again"
	case time.Since(time.Unix(c.IAT, 0)).Abs() > time.Minute:
		return "", "iat is not now"
	case c.ATH != ath:
		return "", fmt.Sprintf("ath %q, want %q", c.ATH, ath)
	case c.Nonce != nonce:
		return "", "use_dpop_nonce"
	}
	f.jtis[c.JTI] = true
	tp, err := h.JSONWebKey.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", "thumbprint: " + err.Error()
	}
	return string(tp), ""
}

func (f *oktaDPoPFake) handler() http.Handler {
	t := f.t
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/v1/token", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.tokenReq++
		w.Header().Set("Content-Type", "application/json")
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		if why := f.tokens.check(r.PostForm.Get("client_assertion"), "http://"+r.Host+"/oauth2/v1/token"); why != "" {
			t.Errorf("client assertion: %s", why)
		}
		proof := r.Header.Get("DPoP")
		if proof == "" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_dpop_proof","error_description":"The DPoP proof JWT header is missing."}`)
			return
		}
		tp, why := f.verify(proof, http.MethodPost, "http://"+r.Host+"/oauth2/v1/token", "", oktaDPoPNonce)
		if why == "use_dpop_nonce" {
			w.Header().Set("DPoP-Nonce", oktaDPoPNonce)
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"use_dpop_nonce","error_description":"Authorization server requires nonce in DPoP proof."}`)
			return
		}
		if why != "" {
			t.Errorf("token request proof: %s", why)
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":"invalid_dpop_proof","error_description":%q}`, why)
			return
		}
		typ := "DPoP"
		if f.bearer {
			typ = "Bearer"
		}
		f.bound = tp
		fmt.Fprintf(w, `{"token_type":%q,"expires_in":3600,"access_token":%q,"scope":"okta.users.manage"}`, typ, oktaAccessToken)
	})
	api := func(want func(w http.ResponseWriter)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.bearer {
				if got := r.Header.Get("Authorization"); got != "Bearer "+oktaAccessToken || r.Header.Get("DPoP") != "" {
					t.Errorf("a Bearer token went as %q with DPoP %q", got, r.Header.Get("DPoP"))
				}
			} else {
				if got := r.Header.Get("Authorization"); got != "DPoP "+oktaAccessToken {
					t.Errorf("Authorization = %q, want the DPoP scheme", got)
				}
				tp, why := f.verify(r.Header.Get("DPoP"), r.Method, "http://"+r.Host+r.URL.Path, oktaAccessToken, f.apiNonce)
				if why == "use_dpop_nonce" { // RFC 9449 §9's example answer
					f.nonceAsk++
					w.Header().Set("DPoP-Nonce", f.apiNonce)
					w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`)
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				if f.rotate != "" {
					f.apiNonce, f.rotate = f.rotate, ""
					w.Header().Set("DPoP-Nonce", f.apiNonce)
				}
				if why == "" && tp != f.bound {
					why = "the proof's key is not the one the token is bound to"
				}
				if why != "" {
					f.refused = append(f.refused, why)
					w.Header().Set("WWW-Authenticate", `DPoP algs="RS256 RS384 RS512 ES256 ES384 ES512", authorization_uri="http://`+r.Host+
						`/oauth2/v1/authorize", realm="http://`+r.Host+`", scope="okta.users.manage", error="invalid_dpop_proof", error_description=`+
						strconv.Quote(why)+`, resource="`+r.URL.Path+`"`)
					w.WriteHeader(http.StatusBadRequest)
					return
				}
			}
			f.apiCalls++
			want(w)
		}
	}
	mux.HandleFunc("GET /api/v1/users/{login}", func(w http.ResponseWriter, r *http.Request) {
		api(func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, oktaUser(oktaID, "ACTIVE", r.PathValue("login"), r.PathValue("login")))
		})(w, r)
	})
	mux.HandleFunc("DELETE /api/v1/users/{id}/sessions", api(func(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) }))
	return mux
}

func TestOktaDPoP(t *testing.T) {
	key := pemPKCS8(t, oktaRSAKey())
	start := func(t *testing.T, bearer bool) (*oktaDPoPFake, string) {
		f := &oktaDPoPFake{t: t, tokens: oktaTokenFake{pub: oktaRSAKey().Public()}, jtis: map[string]bool{}, bearer: bearer}
		srv := httptest.NewServer(f.handler())
		t.Cleanup(srv.Close)
		return f, srv.URL
	}

	t.Run("a service app that requires DPoP: nonce challenge, DPoP token, a proof per call", func(t *testing.T) {
		f, base := start(t, false)
		c, err := openOktaOAuth(base, key, map[string]any{"dpop": true})
		if err != nil {
			t.Fatal(err)
		}
		for _, who := range []string{oktaEmail, oktaEmail} { // the second reuses the token
			if out, err := c.Revoke(t.Context(), offboard.Subject{Email: who}); err != nil || out != offboard.Acknowledged {
				t.Fatalf("Revoke = %q, %v", out, err)
			}
		}
		if f.tokenReq != 2 {
			t.Errorf("%d token requests, want 2 (the nonce challenge, then the token)", f.tokenReq)
		}
		if f.apiCalls != 4 || len(f.refused) > 0 {
			t.Errorf("%d API calls passed the DPoP checks, want 4; refused: %q", f.apiCalls, f.refused)
		}
	})

	// A resource server may want its own nonce [RFC 9449 §9]: its 401
	// challenge is met at once with the same token, and a new nonce handed
	// out on a later answer [§8.2] is used from then on.
	t.Run("the API asks for a nonce, then rotates it", func(t *testing.T) {
		f, base := start(t, false)
		f.apiNonce = "resource-nonce-1"
		c, err := openOktaOAuth(base, key, map[string]any{"dpop": true})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if i == 1 {
				f.mu.Lock()
				f.rotate = "resource-nonce-2"
				f.mu.Unlock()
			}
			if out, err := c.Revoke(t.Context(), offboard.Subject{Email: oktaEmail}); err != nil || out != offboard.Acknowledged {
				t.Fatalf("Revoke %d = %q, %v", i, out, err)
			}
		}
		if f.nonceAsk != 1 || f.tokenReq != 2 || f.apiCalls != 6 || len(f.refused) > 0 {
			t.Errorf("nonce asked %d times (want 1), %d token requests (want 2), %d API calls (want 6), refused %q",
				f.nonceAsk, f.tokenReq, f.apiCalls, f.refused)
		}
	})

	// A login with "+" goes as %2B in the path (Okta asks for it); Okta
	// decodes the path before comparing it with htu.
	t.Run("a login that is escaped in the path", func(t *testing.T) {
		f, base := start(t, false)
		c, err := openOktaOAuth(base, key, map[string]any{"dpop": true})
		if err != nil {
			t.Fatal(err)
		}
		if out, err := c.Revoke(t.Context(), offboard.Subject{Email: "isaac+ops@example.org"}); err != nil || out != offboard.Acknowledged {
			t.Fatalf("Revoke = %q, %v; refused: %q", out, err, f.refused)
		}
	})

	// A refused proof is a permanent error that carries Okta's reason,
	// which is only in the challenge.
	t.Run("a proof refused at the API", func(t *testing.T) {
		f, base := start(t, false)
		c, err := openOktaOAuth(base, key, map[string]any{"dpop": true})
		if err != nil {
			t.Fatal(err)
		}
		// The first revoke fetches the token (binding it); then the binding
		// is spoilt.
		if _, err := c.Revoke(t.Context(), offboard.Subject{Email: oktaEmail}); err != nil {
			t.Fatal(err)
		}
		f.mu.Lock()
		f.bound = "another key"
		f.mu.Unlock()
		_, err = c.Revoke(t.Context(), offboard.Subject{Email: oktaEmail})
		if err == nil || vendorapi.Retryable(err) || !strings.Contains(err.Error(), "invalid_dpop_proof") ||
			!strings.Contains(err.Error(), "not the one the token is bound to") {
			t.Fatalf("error = %v, want a permanent error with Okta's reason", err)
		}
	})

	t.Run("without dpop the token request is refused and the error says to set it", func(t *testing.T) {
		f, base := start(t, false)
		c, err := openOktaOAuth(base, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Revoke(t.Context(), offboard.Subject{Email: oktaEmail})
		e, ok := errors.AsType[*vendorapi.Error](err)
		if !ok || vendorapi.Retryable(err) || !strings.Contains(err.Error(), "The DPoP proof JWT header is missing.") ||
			!strings.Contains(err.Error(), "set dpop: true") {
			t.Fatalf("error = %v, want a permanent error that says to set dpop: true", err)
		}
		if e.Kind == vendorapi.Transient || f.apiCalls != 0 {
			t.Errorf("kind %v, %d API calls", e.Kind, f.apiCalls)
		}
		if strings.Contains(err.Error(), "PRIVATE KEY") {
			t.Error("the error holds the private key")
		}
	})

	t.Run("a Bearer token answered to a DPoP request goes as Bearer, without proofs", func(t *testing.T) {
		f, base := start(t, true)
		c, err := openOktaOAuth(base, key, map[string]any{"dpop": true})
		if err != nil {
			t.Fatal(err)
		}
		if out, err := c.Revoke(t.Context(), offboard.Subject{Email: oktaEmail}); err != nil || out != offboard.Acknowledged {
			t.Fatalf("Revoke = %q, %v", out, err)
		}
		if f.apiCalls != 2 {
			t.Errorf("%d API calls, want 2", f.apiCalls)
		}
	})

	t.Run("dpop needs a service app", func(t *testing.T) {
		_, err := connectors.Build([]connectors.Spec{{Name: "okta", Type: "okta", Settings: map[string]any{
			"base_url": "https://example.okta.com", "token": "00abc", "dpop": true}}}, types, connectors.Deps{})
		if err == nil || !strings.Contains(err.Error(), "dpop") {
			t.Fatalf("Build = %v, want an error naming dpop", err)
		}
	})
}
