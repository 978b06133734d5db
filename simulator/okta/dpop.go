package okta

import (
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/offboarder/offboarder/simulator/fake"
)

// DPoP at the Okta fake (Config.DPoP): a service app with "Require
// Demonstrating Proof of Possession (DPoP) header in token requests"
// selected, the default for new service apps. Sources:
//
//   - Okta's guide: https://developer.okta.com/docs/guides/dpop/oktaresourceserver/main/
//   - RFC 9449 (proof syntax §4.2, checks §4.3, tokens §5–§7, nonces §8):
//     https://datatracker.ietf.org/doc/html/rfc9449
//   - The token endpoint's refusals: https://support.okta.com/help/s/article/the-dpop-proof-jwt-header-is-missing
//     ("The DPoP proof JWT header is missing.") and the devforum thread
//     https://devforum.okta.com/t/client-credentials-oauth-for-okta-with-dpop-enabled/30239
//     (400 use_dpop_nonce, "Authorization server requires nonce in DPoP
//     proof.", with a DPoP-Nonce header, on the first proof).
//   - The API's refusals, as reported against Okta's SDKs: 400 with the
//     reason only in a DPoP challenge, e.g. error="invalid_dpop_proof",
//     error_description="'htu' claim in the DPoP proof JWT is invalid."
//     (https://github.com/okta/okta-sdk-nodejs/issues/453); Okta compares
//     htu with the request path percent-decoded
//     (https://github.com/okta/okta-sdk-python/issues/541). Refusals those
//     sources do not quote follow the same wording.
//
// The token endpoint checks the client assertion before the proof, so an
// assertion answered use_dpop_nonce has been used: the retry needs a new
// one, as every assertion does (its jti is never accepted twice).

const (
	oktaDPoPAlgs  = "RS256 RS384 RS512 ES256 ES384 ES512" // dpop_signing_alg_values_supported
	oktaProofSkew = time.Minute
)

var oktaProofAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512}

// oktaProof is a DPoP proof's claims [RFC 9449 §4.2].
type oktaProof struct {
	JTI   string `json:"jti"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   int64  `json:"iat"`
	ATH   string `json:"ath"`
	Nonce string `json:"nonce"`
}

// checkProof verifies a proof for a request of method to htu as RFC 9449
// §4.3 lists: one well-formed JWS, typ dpop+jwt, a supported asymmetric
// alg, a public jwk that verifies the signature, htm and htu the
// request's, iat now within a minute, a jti not seen before. It answers the
// key's thumbprint and the claims, or why the proof is refused.
func (o *okta) checkProof(proof, method, htu string) (string, oktaProof, string) {
	var c oktaProof
	jws, err := jose.ParseSignedCompact(proof, oktaProofAlgs)
	if err != nil || len(jws.Signatures) != 1 {
		return "", c, "DPoP proof JWT cannot be parsed."
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "dpop+jwt" {
		return "", c, "'typ' header in the DPoP proof JWT is invalid."
	}
	if h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() || !h.JSONWebKey.Valid() {
		return "", c, "'jwk' header in the DPoP proof JWT is invalid."
	}
	payload, err := jws.Verify(h.JSONWebKey)
	if err != nil {
		return "", c, "The DPoP proof JWT signature is invalid."
	}
	if json.Unmarshal(payload, &c) != nil {
		return "", c, "DPoP proof JWT cannot be parsed."
	}
	now := time.Now()
	switch {
	case c.HTM != method:
		return "", c, "'htm' claim in the DPoP proof JWT is invalid."
	case c.HTU != htu:
		return "", c, "'htu' claim in the DPoP proof JWT is invalid."
	case c.IAT == 0 || time.Unix(c.IAT, 0).Sub(now).Abs() > oktaProofSkew:
		return "", c, "'iat' claim in the DPoP proof JWT is invalid."
	case c.JTI == "":
		return "", c, "'jti' claim in the DPoP proof JWT is invalid."
	}
	tp, err := h.JSONWebKey.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", c, "'jwk' header in the DPoP proof JWT is invalid."
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for id, seen := range o.proofs { // forget proofs too old to be replayed
		if now.Sub(seen) > 2*oktaProofSkew {
			delete(o.proofs, id)
		}
	}
	if _, seen := o.proofs[c.JTI]; seen {
		return "", c, "'jti' claim in the DPoP proof JWT has already been used."
	}
	o.proofs[c.JTI] = now
	return base64.RawURLEncoding.EncodeToString(tp), c, ""
}

// dpopNonce is the nonce the token endpoint wants in proofs; it changes
// every few minutes and the previous one stays good for as long [RFC 9449
// §8].
func (o *okta) dpopNonce(nonce string) (current string, ok bool) {
	const life = 5 * time.Minute
	o.mu.Lock()
	defer o.mu.Unlock()
	if now := time.Now(); o.nonce == "" || now.After(o.nonceAt.Add(life)) {
		o.prevNonce, o.nonce, o.nonceAt = o.nonce, fake.RandomHex(16), now
	}
	return o.nonce, nonce != "" && (nonce == o.nonce || nonce == o.prevNonce)
}

// tokenProof checks the token request's proof; it answers the thumbprint
// the token is to be bound to, or writes the refusal and answers "".
func (o *okta) tokenProof(w http.ResponseWriter, r *http.Request) string {
	proof := r.Header.Values("DPoP")
	if len(proof) == 0 {
		fake.OAuth2Fail(w, http.StatusBadRequest, "invalid_dpop_proof", "The DPoP proof JWT header is missing.")
		return ""
	}
	if len(proof) > 1 {
		fake.OAuth2Fail(w, http.StatusBadRequest, "invalid_dpop_proof", "DPoP proof JWT cannot be parsed.")
		return ""
	}
	jkt, c, why := o.checkProof(proof[0], http.MethodPost, oktaBase(r)+oktaTokenPath)
	if why != "" {
		fake.OAuth2Fail(w, http.StatusBadRequest, "invalid_dpop_proof", why)
		return ""
	}
	if nonce, ok := o.dpopNonce(c.Nonce); !ok {
		w.Header().Set("DPoP-Nonce", nonce)
		fake.OAuth2Fail(w, http.StatusBadRequest, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof.")
		return ""
	}
	return jkt
}

// apiProof checks the proof of an API call that presents a DPoP-bound
// token; a refusal is 400 with a DPoP challenge that says why.
func (o *okta) apiProof(w http.ResponseWriter, r *http.Request, g oktaGrant, scheme, token string) bool {
	why := ""
	proof := r.Header.Values("DPoP")
	switch {
	case scheme != "DPoP":
		why = "The access token is DPoP-bound; present it with the DPoP authentication scheme."
	case len(proof) == 0:
		why = "The DPoP proof JWT header is missing."
	case len(proof) > 1:
		why = "DPoP proof JWT cannot be parsed."
	default:
		// htu is compared with the path percent-decoded, as Okta does.
		jkt, c, bad := o.checkProof(proof[0], r.Method, oktaBase(r)+strings.TrimPrefix(r.URL.Path, oktaPrefix))
		sum := sha256.Sum256([]byte(token))
		switch {
		case bad != "":
			why = bad
		case c.ATH != base64.RawURLEncoding.EncodeToString(sum[:]):
			why = "'ath' claim in the DPoP proof JWT is invalid."
		case jkt != g.jkt:
			why = "The DPoP proof JWT key does not match the key the access token is bound to."
		}
	}
	if why == "" {
		return true
	}
	base := oktaBase(r)
	w.Header().Set("WWW-Authenticate", `DPoP algs="`+oktaDPoPAlgs+`", authorization_uri="`+base+`/oauth2/v1/authorize", realm="`+base+
		`", error="invalid_dpop_proof", error_description=`+strconv.Quote(why)+`, resource="`+strings.TrimPrefix(r.URL.Path, oktaPrefix)+`"`)
	w.WriteHeader(http.StatusBadRequest)
	return false
}
