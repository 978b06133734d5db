package vendorapi

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"
)

// What every Google API call shares — the google connector's and the google
// source's alike. Google's documentation, cited below by these names:
//
//	[limits]      https://developers.google.com/workspace/admin/directory/v1/limits
//	[errors]      https://developers.google.com/workspace/admin/directory/v1/limits (error body: code, message, errors[].reason)
//	              and https://cloud.google.com/apis/design/errors (status, the canonical code)
//	[sa]          https://developers.google.com/identity/protocols/oauth2/service-account
//	[retry-after] https://github.com/googleworkspace/cli/issues/777 (Google's rate-limit answers often carry Retry-After)

// GoogleServiceAccount is the part of a service account's JSON key that
// offboarder reads; the google connector and the google source share it.
type GoogleServiceAccount struct {
	Type         string `json:"type"`
	ClientEmail  string `json:"client_email"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	TokenURI     string `json:"token_uri"`
}

// ParseGoogleServiceAccount parses a service account's JSON key and checks
// that it holds an RSA private key; its errors never echo the key.
func ParseGoogleServiceAccount(raw string) (GoogleServiceAccount, error) {
	var k GoogleServiceAccount
	if err := json.Unmarshal([]byte(raw), &k); err != nil {
		return k, errors.New("not a service account json key")
	}
	switch {
	case k.Type != "service_account":
		return k, errors.New(`not a service account json key (its "type" must be "service_account")`)
	case k.ClientEmail == "":
		return k, errors.New("the json key has no client_email")
	case k.PrivateKey == "":
		return k, errors.New("the json key has no private_key")
	}
	if _, err := RSAKeyFromPEM(k.PrivateKey); err != nil {
		return k, errors.New("the json key's private_key: " + err.Error())
	}
	return k, nil
}

// RSAKeyFromPEM parses an RSA private key in PEM, PKCS #8 ("PRIVATE KEY",
// as Google's keys come) or PKCS #1 ("RSA PRIVATE KEY"). Its errors never
// echo the key.
func RSAKeyFromPEM(s string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("not a PEM private key")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		if rk, ok := k.(*rsa.PrivateKey); ok {
			return rk, nil
		}
		return nil, errors.New("not an RSA key")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	return nil, errors.New("cannot be parsed as an RSA private key")
}

// GoogleToken fetches an access token with jc, for a Client's
// ClientOptions.Token; the google connector and the google source share it. x/oauth2/jwt posts the
// assertion without a context, so the request is bound to ctx here (else a
// hanging token endpoint would outlive the caller's deadline); and it does
// not read the OAuth error body, so the error code is read here for the
// Client to classify (RFC 6749 §5.2: invalid_grant, unauthorized_client).
func GoogleToken(jc *jwt.Config) func(context.Context) (*oauth2.Token, error) {
	return func(ctx context.Context) (*oauth2.Token, error) {
		hc, _ := ctx.Value(oauth2.HTTPClient).(*http.Client)
		if hc == nil {
			hc = http.DefaultClient
		}
		bound := *hc
		bound.Transport = ctxTransport{ctx: ctx, next: hc.Transport}
		tok, err := jc.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, &bound)).Token()
		if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok && re.ErrorCode == "" {
			var body struct {
				Code        string `json:"error"`
				Description string `json:"error_description"`
			}
			if json.Unmarshal(re.Body, &body) == nil {
				re.ErrorCode, re.ErrorDescription = body.Code, body.Description
			}
		}
		return tok, err
	}
}

// ctxTransport sends every request under ctx.
type ctxTransport struct {
	ctx  context.Context
	next http.RoundTripper // nil: http.DefaultTransport
}

func (t ctxTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r.WithContext(t.ctx))
}

// googleErrorBody is Google's JSON error [errors].
type googleErrorBody struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Errors  []struct {
			Reason string `json:"reason"`
		} `json:"errors"`
	} `json:"error"`
}

func (b googleErrorBody) reasons() []string {
	var rs []string
	for _, e := range b.Error.Errors {
		if e.Reason != "" {
			rs = append(rs, e.Reason)
		}
	}
	return rs
}

// GoogleError reads Google's error body into one short line (a Client's
// ClientOptions.VendorError for every Google API):
// "NOT_FOUND: Resource Not Found: userKey (reason notFound)".
func GoogleError(body []byte) string {
	var b googleErrorBody
	if json.Unmarshal(body, &b) != nil || (b.Error.Message == "" && b.Error.Status == "") {
		return ""
	}
	s := strings.TrimPrefix(b.Error.Status+": "+b.Error.Message, ": ")
	if rs := b.reasons(); len(rs) > 0 {
		s += " (reason " + strings.Join(rs, ", ") + ")"
	}
	return AsRead(s)
}

// GoogleRateLimited reports a 403 that is a rate limit [limits] (a Client's
// ClientOptions.RateLimited for every Google API):
// userRateLimitExceeded (the per-user quota), quotaExceeded (too many
// concurrent requests; "retry using exponential back-off") and
// rateLimitExceeded, or a RESOURCE_EXHAUSTED status. dailyLimitExceeded is
// not among them: Google says not to retry it without fixing the problem.
// The wait is read from Retry-After, which Google's rate-limit answers often
// carry [retry-after]; without one the job queue's backoff applies, as the
// exponential backoff Google asks for [limits].
func GoogleRateLimited(status int, body []byte) bool {
	if status != http.StatusForbidden {
		return false
	}
	var b googleErrorBody
	if json.Unmarshal(body, &b) != nil {
		return false
	}
	if b.Error.Status == "RESOURCE_EXHAUSTED" {
		return true
	}
	return slices.ContainsFunc(b.reasons(), func(r string) bool {
		return r == "userRateLimitExceeded" || r == "rateLimitExceeded" || r == "quotaExceeded"
	})
}
