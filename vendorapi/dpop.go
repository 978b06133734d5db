package vendorapi

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

// DPoP: OAuth 2.0 Demonstrating Proof of Possession, RFC 9449, cited below
// as [dpop] with its section. A DPoP-bound access token is useless without
// the private key it is bound to: every request that presents it carries a
// fresh proof, a JWT signed with that key.
//
//	[dpop]      https://datatracker.ietf.org/doc/html/rfc9449
//	[okta-dpop] https://developer.okta.com/docs/guides/dpop/oktaresourceserver/main/
//	[okta-htu]  https://github.com/okta/okta-sdk-python/issues/541 and
//	            https://github.com/okta/okta-sdk-nodejs/issues/521

// DPoP holds the key a connector's DPoP-bound tokens are bound to and
// makes the proofs. The key is made when the connector opens and lives in
// memory only: a restart makes a new key, and the next token is bound to
// it. It is safe for concurrent use.
type DPoP struct {
	signer jose.Signer

	mu       sync.Mutex
	nonce    string // the authorization server's last DPoP-Nonce [dpop §8]
	apiNonce string // the resource server's, kept apart [dpop §9]
}

// NewDPoP makes a fresh P-256 key and a prover for it.
func NewDPoP() (*DPoP, error) {
	// ES256 on P-256: the algorithm every DPoP server must support in
	// practice, and a key that is cheap to make and to sign with.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, errors.New("cannot make a DPoP key")
	}
	// [dpop §4.2]: typ "dpop+jwt", an asymmetric alg, and the public key
	// in the jwk header (go-jose embeds the public part only).
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		return nil, errors.New("cannot sign with the DPoP key")
	}
	return &DPoP{signer: signer}, nil
}

// dpopClaims are a proof's claims [dpop §4.2].
type dpopClaims struct {
	ID       string `json:"jti"`
	Method   string `json:"htm"`
	URL      string `json:"htu"`
	IssuedAt int64  `json:"iat"`
	// ATH is base64url(SHA-256(access token)), on requests that present a
	// token [dpop §7].
	ATH   string `json:"ath,omitempty"`
	Nonce string `json:"nonce,omitempty"`
}

// proof returns a fresh proof for a request of method to u. htu is u
// without query and fragment [dpop §4.2], its path percent-decoded: Okta
// decodes the request's path before comparing it with htu, so a path that
// carries an escaped character (a login's "+" as %2B, say) fails as
// "'htu' claim in the DPoP proof JWT is invalid" unless htu holds the
// decoded form [okta-htu]. accessToken, when not "", is bound by its hash
// (ath); nonce, when not "", is the server's.
func (p *DPoP) proof(method string, u *url.URL, accessToken, nonce string) (string, error) {
	id := make([]byte, 18)
	if _, err := rand.Read(id); err != nil {
		return "", errors.New("cannot make a DPoP proof id")
	}
	htu := u.Scheme + "://" + u.Host + u.Path
	c := dpopClaims{ID: base64.RawURLEncoding.EncodeToString(id), Method: method, URL: htu,
		IssuedAt: time.Now().Unix(), Nonce: nonce}
	if accessToken != "" {
		h := sha256.Sum256([]byte(accessToken))
		c.ATH = base64.RawURLEncoding.EncodeToString(h[:])
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	jws, err := p.signer.Sign(payload)
	if err != nil {
		return "", errors.New("cannot sign a DPoP proof")
	}
	return jws.CompactSerialize()
}

// LastNonce returns the authorization server's last DPoP-Nonce, or "".
func (p *DPoP) LastNonce() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.nonce
}

// keepNonce remembers the nonce an answer carries, if any: the server may
// hand out a new one on any answer [dpop §8.2].
func (p *DPoP) keepNonce(h http.Header) {
	if n := h.Get("DPoP-Nonce"); n != "" {
		p.mu.Lock()
		p.nonce = n
		p.mu.Unlock()
	}
}

// TokenClient returns hc with every request carrying a proof, for the token
// endpoint, and the nonce of every answer kept. A 400 use_dpop_nonce answer
// with a DPoP-Nonce header is the server asking for its nonce [dpop §8];
// Okta asks on the first token request of a key [okta-dpop]. The caller
// asks again (with a new client assertion: Okta refuses one used before).
func (p *DPoP) TokenClient(hc *http.Client) *http.Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	c := *hc
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = dpopTokenTransport{p: p, next: next}
	return &c
}

type dpopTokenTransport struct {
	p    *DPoP
	next http.RoundTripper
}

// RoundTrip sends a copy of req with a fresh proof (with the last nonce
// known) and keeps the nonce of the answer.
func (t dpopTokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	proof, err := t.p.proof(req.Method, req.URL, "", t.p.LastNonce())
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Header.Set("DPoP", proof)
	resp, err := t.next.RoundTrip(r)
	if err == nil {
		t.p.keepNonce(resp.Header)
	}
	return resp, err
}

// Authorize is a ClientOptions.Authorize: a DPoP token goes as
// "Authorization: DPoP <token>" with a proof that binds it (ath) to this
// request [dpop §7.1]; a server that answered a Bearer token anyway gets it
// as Bearer, as token_type says.
func (p *DPoP) Authorize(req *http.Request, tok *oauth2.Token) error {
	if !strings.EqualFold(tok.Type(), "DPoP") {
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		return nil
	}
	p.mu.Lock()
	nonce := p.apiNonce
	p.mu.Unlock()
	proof, err := p.proof(req.Method, req.URL, tok.AccessToken, nonce)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "DPoP "+tok.AccessToken)
	req.Header.Set("DPoP", proof)
	return nil
}

// Answered is a ClientOptions.Answered: it keeps the nonce a resource
// server hands out on any answer [dpop §8.2, §9], and reports a 401 whose
// DPoP challenge is use_dpop_nonce with a DPoP-Nonce header — the server
// asking for its nonce [dpop §9] — so that the request goes once more, at
// once, with a proof that carries it, rather than failing as rejected
// credentials.
func (p *DPoP) Answered(status int, h http.Header) (again bool) {
	n := h.Get("DPoP-Nonce")
	if n == "" {
		return false
	}
	p.mu.Lock()
	p.apiNonce = n
	p.mu.Unlock()
	if status != http.StatusUnauthorized {
		return false
	}
	for _, ch := range h.Values("WWW-Authenticate") {
		scheme, _, _ := strings.Cut(strings.TrimSpace(ch), " ")
		if code, _ := challengeParams(ch); strings.EqualFold(scheme, "DPoP") && code == "use_dpop_nonce" {
			return true
		}
	}
	return false
}
