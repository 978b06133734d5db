package okta

import (
	"crypto/sha256"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/offboarder/offboarder/simulator/fake"
)

// The Okta fake's org authorization server token endpoint for an OAuth 2.0
// service app: client credentials with a private_key_jwt client assertion,
// issuing opaque, scoped access tokens that the Management API routes take
// as "Authorization: Bearer …". Sources:
//
//   - Service apps: https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/main/
//   - The assertion's claims: https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/create-sign-jwt/
//   - The token request and answer: https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/get-access-token/
//   - Refusals: https://support.okta.com/help/s/article/error-occurs-during-authentication-due-to-invalid-client-assertion-signature
//     and https://support.okta.com/help/s/article/okta-client-assertion-error-invalid-key-id
//   - Scopes on the API: https://support.okta.com/help/s/article/insufficient-scope-error-when-making-a-request-to-an-oauth-or-management-endpoint
//
// DPoP, which Okta requires by default of new service apps, is
// Config.DPoP (dpop.go); without it the fake behaves as an app
// with "Require DPoP" cleared, and ignores a DPoP header.

const (
	oktaTokenPath     = "/oauth2/v1/token"
	oktaAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	oktaTokenLife     = time.Hour // "The lifetime for this token is fixed at one hour."
	oktaMaxAssertion  = time.Hour // an assertion's exp "must be a maximum of only an hour in the future"
	oktaClockSkew     = time.Minute
	oktaReadScope     = "okta.users.read"
	oktaManageScope   = "okta.users.manage"
)

// oktaGrantable are the scopes the simulated service app was granted.
var oktaGrantable = []string{oktaReadScope, oktaManageScope, oktaLogsScope}

// oktaGrant is what an issued access token allows.
type oktaGrant struct {
	scopes  []string
	expires time.Time
	jkt     string // the thumbprint of the DPoP key it is bound to, or ""
}

// token trades a client assertion for an access token. The request is
// grant_type=client_credentials, scope, client_assertion_type and
// client_assertion (client_id optional, but the assertion's iss if
// given). A client that fails to authenticate is 401 invalid_client; a
// scope the app was not granted is 400 invalid_scope.
// https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/get-access-token/
func (o *okta) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		fake.OAuth2Fail(w, http.StatusBadRequest, "invalid_request", "The request body is not a form.")
		return
	}
	p := r.PostForm
	if p.Get("grant_type") != "client_credentials" {
		fake.OAuth2Fail(w, http.StatusBadRequest, "unsupported_grant_type",
			"The authorization grant type is not supported by the authorization server. Configured grant types: [client_credentials].")
		return
	}
	cfg := o.config()
	if p.Get("client_assertion_type") != oktaAssertionType || p.Get("client_assertion") == "" {
		fake.OAuth2Fail(w, http.StatusUnauthorized, "invalid_client",
			"Client authentication failed. Either the client or the client credentials are invalid.")
		return
	}
	if why := o.checkAssertion(p.Get("client_assertion"), p.Get("client_id"), fake.CallerURL(r, oktaPrefix+oktaTokenPath), cfg); why != "" {
		fake.OAuth2Fail(w, http.StatusUnauthorized, "invalid_client", why)
		return
	}
	jkt := ""
	if cfg.DPoP {
		if jkt = o.tokenProof(w, r); jkt == "" {
			return
		}
	}
	scopes := strings.Fields(p.Get("scope"))
	if len(scopes) == 0 {
		fake.OAuth2Fail(w, http.StatusBadRequest, "invalid_scope",
			"The authorization server resource does not have any configured default scopes, 'scope' must be provided.")
		return
	}
	for _, sc := range scopes {
		if !slices.Contains(oktaGrantable, sc) {
			fake.OAuth2Fail(w, http.StatusBadRequest, "invalid_scope", "The following scopes were requested, but not granted: "+sc)
			return
		}
	}
	access := "sim-okta-at-" + fake.RandomHex(24)
	now := time.Now()
	o.mu.Lock()
	for k, g := range o.grants { // forget expired tokens
		if now.After(g.expires) {
			delete(o.grants, k)
		}
	}
	o.grants[sha256.Sum256([]byte(access))] = oktaGrant{scopes: scopes, expires: now.Add(oktaTokenLife), jkt: jkt}
	o.mu.Unlock()
	tokenType := "Bearer"
	if jkt != "" {
		tokenType = "DPoP"
	}
	fake.WriteJSON(w, http.StatusOK, map[string]any{"token_type": tokenType, "expires_in": int(oktaTokenLife.Seconds()),
		"access_token": access, "scope": strings.Join(scopes, " ")})
}

// checkAssertion verifies a client assertion as Okta describes it: signed
// with the app's key (RS256, ES256, ES384 or ES512), iss and sub the client
// id, aud this endpoint, exp ahead but at most an hour, and a jti not seen
// before. It answers "" or why the client is refused.
func (o *okta) checkAssertion(assertion, clientID, aud string, cfg Config) string {
	tok, err := jwt.ParseSigned(assertion, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.ES384, jose.ES512})
	if err != nil {
		return "The client_assertion token is malformed."
	}
	var c jwt.Claims
	if cfg.PublicKey == nil || tok.Claims(cfg.PublicKey, &c) != nil {
		return "The client_assertion signature is invalid."
	}
	now := time.Now()
	switch {
	case c.Issuer != cfg.ClientID || c.Subject != cfg.ClientID || (clientID != "" && clientID != c.Issuer):
		return "Client authentication failed. Either the client or the client credentials are invalid."
	case !c.Audience.Contains(aud):
		return "The audience claim for client_assertion must be the endpoint invoked for the request."
	case c.Expiry == nil || !c.Expiry.Time().After(now.Add(-oktaClockSkew)):
		return "The client_assertion token is expired."
	case c.Expiry.Time().After(now.Add(oktaMaxAssertion + oktaClockSkew)):
		return "The client_assertion token has an expiration too far into the future."
	case c.NotBefore != nil && c.NotBefore.Time().After(now.Add(oktaClockSkew)):
		return "The client_assertion token is not yet valid."
	}
	if c.ID == "" {
		return ""
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for id, exp := range o.jtis { // forget assertions that can no longer be replayed
		if now.After(exp.Add(oktaClockSkew)) {
			delete(o.jtis, id)
		}
	}
	if _, seen := o.jtis[c.ID]; seen {
		return "The client_assertion token has already been used."
	}
	o.jtis[c.ID] = c.Expiry.Time()
	return ""
}

// grant returns the grant of the call's access token, if it is live, with
// the scheme it came with ("Bearer" or "DPoP") and the token.
func (o *okta) grant(r *http.Request) (oktaGrant, string, string, bool) {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if (scheme != "Bearer" && scheme != "DPoP") || token == "" {
		return oktaGrant{}, "", "", false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	g, ok := o.grants[sha256.Sum256([]byte(token))]
	return g, scheme, token, ok && time.Now().Before(g.expires)
}

// allowed reports whether the call may use a route that needs scope, and
// otherwise answers 403 with the WWW-Authenticate insufficient_scope
// challenge Okta sends. An SSWS token may do anything; an access token
// needs scope, or okta.users.manage, which includes reading.
func (o *okta) allowed(w http.ResponseWriter, r *http.Request, scope string) bool {
	g, scheme, token, oauth := o.grant(r)
	if oauth && g.jkt != "" && !o.apiProof(w, r, g, scheme, token) {
		return false
	}
	if !oauth || slices.Contains(g.scopes, scope) || slices.Contains(g.scopes, oktaManageScope) {
		return true
	}
	base := oktaBase(r)
	w.Header().Set("WWW-Authenticate", `Bearer authorization_uri="`+base+`/oauth2/v1/authorize", realm="`+base+
		`", scope="`+scope+`", error="insufficient_scope", error_description="The access token provided does not contain the required scopes.", resource="`+
		strings.TrimPrefix(r.URL.Path, oktaPrefix)+`"`)
	w.WriteHeader(http.StatusForbidden)
	return false
}
