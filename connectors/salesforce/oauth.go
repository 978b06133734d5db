package salesforce

import (
	"context"
	"crypto/rsa"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/offboarder/offboarder/vendorapi"
)

// Salesforce's OAuth documentation, cited below by these names:
//
//	[endpoints]    https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_endpoints.htm&type=5
//	               (https://login.salesforce.com/services/oauth2/token, a My Domain's
//	               /services/oauth2/token; test.salesforce.com for sandboxes)
//	[client-creds] https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_client_credentials_flow.htm&type=5
//	               and the worked request in https://developer.salesforce.com/docs/atlas.en-us.chatterapi.meta/chatterapi/quickstart_connecting.htm
//	               (POST https://MyDomainName.my.salesforce.com/services/oauth2/token with
//	               grant_type=client_credentials, client_id, client_secret; the answer holds
//	               access_token, instance_url, id, token_type, issued_at, signature — no expires_in)
//	[jwt-bearer]   https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_jwt_flow.htm&type=5
//	               (a JWT signed RS256 with iss = the consumer key, sub = the username,
//	               aud = https://login.salesforce.com or https://test.salesforce.com, exp
//	               within 3 minutes; POST grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer
//	               and assertion=…)
//	[session]      https://developer.salesforce.com/docs/atlas.en-us.api_meta.meta/api_meta/meta_profilesessionsetting.htm
//	               (sessionTimeout, minutes: 15, 30, 60, 120, 240, 480, 720 or 1440; the org-wide
//	               default is two hours, https://developer.salesforce.com/docs/atlas.en-us.api_meta.meta/api_meta/meta_error_handling_session_exp.htm)

const (
	defaultTokenURL = "https://login.salesforce.com/services/oauth2/token"
	tokenPath       = "/services/oauth2/token"
	jwtBearerGrant  = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	audProduction   = "https://login.salesforce.com"
	audSandbox      = "https://test.salesforce.com"
	// assertionLife is the validity of a JWT bearer assertion: Salesforce
	// wants exp within 3 minutes [jwt-bearer].
	assertionLife = 3 * time.Minute
	// tokenLife is how long an access token is used. Salesforce answers no
	// expires_in: a token lives as long as the run-as user's session, whose
	// timeout is 15 minutes at the shortest [session]; the shared client
	// fetches a new one a minute before this.
	tokenLife = 15 * time.Minute
)

// validateFlow checks that exactly one OAuth flow is configured: the client
// credentials flow (client_secret) or the JWT bearer flow (username and
// private_key).
func (c *Config) validateFlow() []error {
	secret, bearer := c.ClientSecret != "", c.Username != "" || c.PrivateKey != ""
	switch {
	case secret && bearer:
		return []error{vendorapi.FieldErr("client_secret", "give client_secret (client credentials flow) or username and private_key (JWT bearer flow), not both")}
	case !secret && !bearer:
		return []error{vendorapi.FieldErr("client_secret", "required, or username and private_key for the JWT bearer flow")}
	case secret:
		return nil
	}
	var errs []error
	if c.Username == "" {
		errs = append(errs, vendorapi.FieldErr("username", "required with private_key: the Salesforce username the token is issued for"))
	}
	if c.PrivateKey == "" {
		errs = append(errs, vendorapi.FieldErr("private_key", "required with username"))
	} else if _, err := signingKey(string(c.PrivateKey)); err != nil {
		errs = append(errs, vendorapi.KeyErr("private_key", err))
	}
	return errs
}

// tokenURL is token_url or its default. The client credentials flow is
// asked of the org's own My Domain [client-creds], so without token_url it
// goes to base_url's token endpoint; the JWT bearer flow goes to
// login.salesforce.com [endpoints].
func (c *Config) tokenURL() string {
	switch {
	case c.TokenURL != "":
		return c.TokenURL
	case c.ClientSecret != "":
		return strings.TrimSuffix(c.BaseURL, "/") + tokenPath
	}
	return defaultTokenURL
}

// tokenSource returns the vendorapi.ClientOptions.Token of the configured
// flow. A rejected client or assertion is answered 400 invalid_client or
// invalid_grant (e.g. "user hasn't approved this consumer"), which the
// shared client classifies as vendorapi.Auth.
//
// The answer's instance_url is not followed: base_url stays the one host
// API calls go to, so a token endpoint cannot send the connector's
// calls (and its token) elsewhere; a base_url that is not the org's
// instance fails at the first call (401 INVALID_SESSION_ID), which says to
// check it.
func (c *Config) tokenSource() (func(context.Context) (*oauth2.Token, error), error) {
	tokenURL := c.tokenURL()
	if c.ClientSecret != "" {
		// [client-creds]: grant_type=client_credentials with client_id and
		// client_secret in the form.
		return withLife(vendorapi.ClientCredentials(c.ClientID, c.ClientSecret, tokenURL, nil, nil)), nil
	}
	key, err := signingKey(string(c.PrivateKey))
	if err != nil {
		return nil, err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, errors.New("cannot sign with this key")
	}
	clientID, username, aud := c.ClientID, c.Username, audience(tokenURL)
	return withLife(func(ctx context.Context) (*oauth2.Token, error) {
		assertion, err := jwt.Signed(signer).Claims(jwt.Claims{
			Issuer:   clientID,
			Subject:  username,
			Audience: jwt.Audience{aud},
			Expiry:   jwt.NewNumericDate(time.Now().Add(assertionLife)),
		}).Serialize()
		if err != nil {
			return nil, errors.New("cannot sign the jwt bearer assertion")
		}
		// [jwt-bearer]: the form is grant_type and assertion alone; the
		// client credentials config carries it because x/oauth2 lets the
		// grant type be replaced, and reads the answer and its errors as
		// for any grant (*oauth2.RetrieveError).
		cc := clientcredentials.Config{
			TokenURL:       tokenURL,
			EndpointParams: url.Values{"grant_type": {jwtBearerGrant}, "assertion": {assertion}},
			AuthStyle:      oauth2.AuthStyleInParams,
		}
		return cc.Token(ctx)
	}), nil
}

// audience is the aud of a JWT bearer assertion for tokenURL: the sandbox
// login host for test.salesforce.com and a sandbox's My Domain
// (….sandbox.my.salesforce.com), else the production one [jwt-bearer].
func audience(tokenURL string) string {
	u, err := url.Parse(tokenURL)
	if err != nil {
		return audProduction
	}
	host := strings.ToLower(u.Hostname())
	if host == "test.salesforce.com" || strings.HasSuffix(host, ".sandbox.my.salesforce.com") {
		return audSandbox
	}
	return audProduction
}

// withLife gives the tokens fetch returns an expiry of tokenLife when the
// answer has none, as Salesforce's never do.
func withLife(fetch func(context.Context) (*oauth2.Token, error)) func(context.Context) (*oauth2.Token, error) {
	return func(ctx context.Context) (*oauth2.Token, error) {
		tok, err := fetch(ctx)
		if err == nil && tok != nil && tok.Expiry.IsZero() {
			tok.Expiry = time.Now().Add(tokenLife)
		}
		return tok, err
	}
}

// signingKey reads the JWT bearer flow's key: an RSA private key in PEM
// (PKCS #8 or PKCS #1) of at least 2048 bits, as RS256 wants. Its errors
// never echo the key.
func signingKey(s string) (*rsa.PrivateKey, error) {
	k, err := vendorapi.RSAKeyFromPEM(s)
	if err != nil {
		return nil, errors.New("must be an RSA private key in PEM (PKCS #8 or PKCS #1)")
	}
	if k.N.BitLen() < 2048 {
		return nil, errors.New("an RSA key must have at least 2048 bits")
	}
	return k, nil
}
