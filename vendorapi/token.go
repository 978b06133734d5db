package vendorapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/oauth2"
)

// token returns the cached access token or fetches a new one.
func (c *Client) token(ctx, rctx context.Context, what string) (*oauth2.Token, *Error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok != nil && c.tok.AccessToken != "" && (c.tok.Expiry.IsZero() || time.Until(c.tok.Expiry) > time.Minute) {
		return c.tok, nil
	}
	tok, err := c.o.Token(context.WithValue(rctx, oauth2.HTTPClient, c.hc))
	if err != nil {
		what += ": fetching an access token"
		if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok && re.Response != nil {
			vendor := re.ErrorCode
			if re.ErrorDescription != "" {
				vendor += ": " + re.ErrorDescription
			}
			e := classify(c.name, what, re.Response.StatusCode, re.Response.Header, sanitize(vendor, c.o.Secrets), time.Now())
			if re.Response.StatusCode == http.StatusBadRequest && (re.ErrorCode == "invalid_client" || re.ErrorCode == "unauthorized_client" || re.ErrorCode == "invalid_grant") {
				// RFC 6749 §5.2: a rejected client is answered 400 or 401.
				e.Kind, e.Msg = Auth, what+": credentials rejected: check the client id and secret or key"
				if vendor != "" {
					e.Msg += "; vendor said " + strconv.Quote(sanitize(vendor, c.o.Secrets))
				}
			}
			return nil, e
		}
		return nil, c.netErr(ctx, rctx, what, err)
	}
	if tok == nil || tok.AccessToken == "" {
		return nil, &Error{System: c.name, Kind: Invalid, Msg: what + ": the token endpoint answered no access token"}
	}
	c.tok = tok
	return tok, nil
}

// dropToken forgets the cached token, so that the next call fetches a new one.
func (c *Client) dropToken() {
	c.mu.Lock()
	c.tok = nil
	c.mu.Unlock()
}
