package google

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

// token trades a service account's signed assertion for an access token:
// grant_type urn:ietf:params:oauth:grant-type:jwt-bearer and an RS256 JWT
// with iss, scope, aud (this endpoint), iat and exp (at most an hour apart)
// and, to act as a user of the domain, sub. Errors are OAuth's (RFC 6749
// §5.2): invalid_grant for a bad assertion, invalid_scope for none.
// https://developers.google.com/identity/protocols/oauth2/service-account#authorizingrequests
func (g *google) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != googleJWTBearer {
		fake.OAuth2Fail(w, http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "+r.PostForm.Get("grant_type"))
		return
	}
	claims, why := googleAssertion(r.PostForm.Get("assertion"), g.config().Key)
	if why != "" {
		fake.OAuth2Fail(w, http.StatusBadRequest, "invalid_grant", why)
		return
	}
	now := time.Now()
	iat, exp := time.Unix(claims.Iat, 0), time.Unix(claims.Exp, 0)
	switch {
	case claims.Aud != fake.CallerURL(r, "/google/token"):
		fake.OAuth2Fail(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT: Failed audience check.")
		return
	case claims.Iss == "":
		fake.OAuth2Fail(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT: No issuer.")
		return
	case exp.Sub(iat) > googleMaxJWTLife || iat.After(now.Add(googleClockSkew)) || !exp.After(now.Add(-googleClockSkew)):
		fake.OAuth2Fail(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.")
		return
	case strings.TrimSpace(claims.Scope) == "":
		fake.OAuth2Fail(w, http.StatusBadRequest, "invalid_scope", "Empty or missing scope not allowed.")
		return
	}
	access := "ya29.sim-" + fake.RandomHex(24)
	g.mu.Lock()
	for k, gr := range g.grants { // forget expired tokens
		if now.After(gr.expires) {
			delete(g.grants, k)
		}
	}
	g.grants[sha256.Sum256([]byte(access))] = googleGrant{sub: fake.NormalEmail(claims.Sub), scopes: strings.Fields(claims.Scope),
		expires: now.Add(googleTokenLife)}
	g.mu.Unlock()
	fake.WriteJSON(w, http.StatusOK, map[string]any{"access_token": access, "expires_in": int(googleTokenLife.Seconds()), "token_type": "Bearer"})
}

// googleClaims are the assertion's claims the token endpoint reads.
type googleClaims struct {
	Iss   string `json:"iss"`
	Sub   string `json:"sub"`
	Scope string `json:"scope"`
	Aud   string `json:"aud"`
	Iat   int64  `json:"iat"`
	Exp   int64  `json:"exp"`
}

// googleAssertion checks an RS256 JWT against key and returns its claims,
// or why it is refused in Google's words.
func googleAssertion(assertion string, key *rsa.PublicKey) (googleClaims, string) {
	var c googleClaims
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return c, "Invalid JWT: Malformed."
	}
	var head struct {
		Alg string `json:"alg"`
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &head) != nil || json.Unmarshal(cb, &c) != nil {
		return c, "Invalid JWT: Malformed."
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if head.Alg != "RS256" || key == nil || rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig) != nil {
		return c, "Invalid JWT Signature."
	}
	return c, ""
}

// grant returns the grant of the call's bearer token, if it is live.
func (g *google) grant(r *http.Request) (googleGrant, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return googleGrant{}, false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	gr, ok := g.grants[sha256.Sum256([]byte(token))]
	return gr, ok && time.Now().Before(gr.expires)
}
