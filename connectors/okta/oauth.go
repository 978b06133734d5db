package okta

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/offboarder/offboarder/vendorapi"
)

// Okta's service-app mode: a private_key_jwt client assertion, traded for a
// scoped access token by the client credentials grant at the org
// authorization server [service-app][assertion][get-token]. The citations
// are those of okta.go.

const (
	oktaTokenPath = "/oauth2/v1/token"
	// assertionLife is how long a client assertion is valid; Okta takes
	// at most an hour [assertion], and each one is used once, at once.
	assertionLife     = 5 * time.Minute
	oktaAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// defaultScopes are requested when scopes is not set: clearing
// sessions needs okta.users.manage [sessions], which also reads users.
var defaultScopes = []string{"okta.users.manage"}

// validateOAuth checks the service-app keys of c.
func (c *Config) validateOAuth() []error {
	var errs []error
	if c.ClientID == "" {
		errs = append(errs, vendorapi.FieldErr("client_id", "required with private_key"))
	}
	if c.PrivateKey == "" {
		errs = append(errs, vendorapi.FieldErr("private_key", "required with client_id"))
	} else if _, _, err := signingKey(string(c.PrivateKey)); err != nil {
		errs = append(errs, vendorapi.KeyErr("private_key", err))
	}
	if c.TokenURL != "" {
		if err := vendorapi.CheckURL(c.TokenURL); err != nil {
			errs = append(errs, vendorapi.KeyErr("token_url", err))
		}
	}
	if c.Scopes != nil && len(c.Scopes) == 0 {
		errs = append(errs, vendorapi.FieldErr("scopes", "give at least one scope, or leave scopes out for okta.users.manage"))
	}
	for i, s := range c.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") {
			errs = append(errs, vendorapi.FieldErr(fmt.Sprintf("scopes[%d]", i), "must be one scope name, e.g. okta.users.manage"))
		}
	}
	return errs
}

// tokenURL is token_url, else the org authorization server's endpoint.
func (c *Config) tokenURL() string {
	if c.TokenURL != "" {
		return c.TokenURL
	}
	return strings.TrimSuffix(c.BaseURL, "/") + oktaTokenPath
}

// tokenSource returns the vendorapi.ClientOptions.Token of a service app: every call
// signs a fresh client assertion and makes one client credentials request
// [get-token]:
//
//	grant_type=client_credentials&scope=…&client_id=…
//	&client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer
//	&client_assertion=<JWT: iss = sub = client_id, aud = token_url, jti, iat, exp>
//
// Okta answers a rejected assertion 401 invalid_client ("The
// client_assertion signature is invalid." [bad-sig], "The client_assertion
// JWT kid is invalid." [kid]); the shared vendorapi.Client classifies it as vendorapi.Auth.
//
// With dpop (the dpop key), every token request carries a DPoP proof and a
// nonce challenge is answered (dpop.go); Okta then issues token_type
// "DPoP". Without it, a service app that requires DPoP answers 400
// invalid_dpop_proof ("The DPoP proof JWT header is missing.") [okta-dpop],
// which the error then says how to fix.
func (c *Config) tokenSource(dpop *vendorapi.DPoP) (func(context.Context) (*oauth2.Token, error), error) {
	key, alg, err := signingKey(string(c.PrivateKey))
	if err != nil {
		return nil, err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: c.KeyID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, errors.New("cannot sign with this key")
	}
	clientID, tokenURL, scopes := c.ClientID, c.tokenURL(), c.Scopes
	if len(scopes) == 0 {
		scopes = defaultScopes
	}
	if _, err := signAssertion(signer, clientID, tokenURL, time.Now()); err != nil {
		return nil, err
	}
	fetch := fetchToken(signer, clientID, tokenURL, scopes, dpop != nil)
	if dpop != nil {
		hc := func(ctx context.Context) *http.Client { c, _ := ctx.Value(oauth2.HTTPClient).(*http.Client); return c }
		return func(ctx context.Context) (*oauth2.Token, error) {
			ctx = context.WithValue(ctx, oauth2.HTTPClient, dpop.TokenClient(hc(ctx)))
			tok, err := fetch(ctx)
			if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok && re.ErrorCode == "use_dpop_nonce" && dpop.LastNonce() != "" {
				// The nonce challenge [okta-dpop]: once more, with the
				// nonce and a new assertion.
				tok, err = fetch(ctx)
			}
			return tok, err
		}, nil
	}
	return fetch, nil
}

// fetchToken returns a function that makes one client credentials request
// with a fresh client assertion.
func fetchToken(signer jose.Signer, clientID, tokenURL string, scopes []string, dpop bool) func(context.Context) (*oauth2.Token, error) {
	return func(ctx context.Context) (*oauth2.Token, error) {
		assertion, err := signAssertion(signer, clientID, tokenURL, time.Now())
		if err != nil {
			return nil, err
		}
		cc := clientcredentials.Config{
			ClientID: clientID,
			TokenURL: tokenURL,
			Scopes:   scopes,
			EndpointParams: url.Values{
				"client_assertion_type": {oktaAssertionType},
				"client_assertion":      {assertion},
			},
			// No secret: client_id goes in the form, and nothing is probed
			// in an Authorization header first.
			AuthStyle: oauth2.AuthStyleInParams,
		}
		tok, err := cc.Token(ctx)
		if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok && !dpop && re.ErrorCode == "invalid_dpop_proof" {
			re.ErrorDescription += " (the service app requires DPoP: set dpop: true)"
		}
		return tok, err
	}
}

// signAssertion signs one client assertion [assertion]: iss and sub are the
// client id, aud the token endpoint, jti a fresh random id (so that no two
// requests carry the same assertion), iat now and exp assertionLife on.
func signAssertion(signer jose.Signer, clientID, tokenURL string, now time.Time) (string, error) {
	id := make([]byte, 18)
	if _, err := rand.Read(id); err != nil {
		return "", errors.New("cannot make a client assertion id")
	}
	s, err := jwt.Signed(signer).Claims(jwt.Claims{
		Issuer:   clientID,
		Subject:  clientID,
		Audience: jwt.Audience{tokenURL},
		ID:       base64.RawURLEncoding.EncodeToString(id),
		IssuedAt: jwt.NewNumericDate(now),
		Expiry:   jwt.NewNumericDate(now.Add(assertionLife)),
	}).Serialize()
	if err != nil {
		return "", errors.New("cannot sign the client assertion")
	}
	return s, nil
}

// signingKey parses a PEM private key and picks its JWS algorithm: RS256
// for RSA (at least 2048 bits), ES256, ES384 or ES512 for EC on P-256,
// P-384 or P-521. It reads PKCS #8 ("PRIVATE KEY"), PKCS #1 ("RSA PRIVATE
// KEY") and SEC 1 ("EC PRIVATE KEY"). Its errors never echo the key.
func signingKey(s string) (crypto.Signer, jose.SignatureAlgorithm, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, "", errors.New("not a PEM private key")
	}
	var ec *ecdsa.PrivateKey
	if block.Type == "EC PRIVATE KEY" {
		k, err := x509.ParseECPrivateKey(block.Bytes)
		if err != nil {
			return nil, "", errors.New("cannot be parsed as an EC private key")
		}
		ec = k
	} else if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		ec, _ = k.(*ecdsa.PrivateKey)
	}
	if ec != nil {
		switch ec.Curve {
		case elliptic.P256():
			return ec, jose.ES256, nil
		case elliptic.P384():
			return ec, jose.ES384, nil
		case elliptic.P521():
			return ec, jose.ES512, nil
		}
		return nil, "", errors.New("an EC key must be on P-256, P-384 or P-521")
	}
	rk, err := vendorapi.RSAKeyFromPEM(s)
	if err != nil {
		return nil, "", errors.New("must be an RSA or EC private key in PEM (PKCS #8, PKCS #1 or SEC 1)")
	}
	if rk.N.BitLen() < 2048 {
		return nil, "", errors.New("an RSA key must have at least 2048 bits")
	}
	return rk, jose.RS256, nil
}
