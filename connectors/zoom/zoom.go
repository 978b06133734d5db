// Package zoom is the zoom connector: with a Server-to-Server OAuth app it
// finds a person in the Zoom account by email and revokes their SSO token,
// which signs them out of their current Zoom session. Zoom offers no read
// of a user's sessions, so the outcome is acknowledged.
package zoom

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// Zoom's documentation, cited below by these names:
//
//	[s2s]         https://developers.zoom.us/docs/internal-apps/s2s-oauth/ (POST
//	              https://zoom.us/oauth/token, grant_type=account_credentials and
//	              account_id, "Authorization: Basic base64(client_id:client_secret)";
//	              a bearer token that lives one hour, no refresh token)
//	[api]         https://developers.zoom.us/docs/api/using-zoom-apis/ (base
//	              https://api.zoom.us/v2; "Authorization: Bearer")
//	[errors]      https://developers.zoom.us/docs/api/errors/ (error body {"code":…,"message":…};
//	              401 invalid or missing credentials, 403 no permission, 404 no such resource,
//	              429 a rate limit; code 4700 "Invalid access token, does not contain scopes")
//	[oauth-errors] https://developers.zoom.us/docs/integrations/oauth-error-messages/ (4702, 4704:
//	              invalid client or secret; 4705: grant type not supported)
//	[get-user]    https://developers.zoom.us/docs/api/users/#tag/users/GET/users/{userId}
//	              (userId: the user's id or email; 404 code 1001 "User does not exist";
//	              scope user:read:admin; rate limit label Light)
//	[sso-revoke]  https://developers.zoom.us/docs/api/users/#tag/users/DELETE/users/{userId}/token
//	              ("Revoke a user's SSO token": "After calling this API, the SSO user will be
//	              logged out of their current Zoom session"; 204; 404 code 1001; scope
//	              user:write:admin; rate limit label Light)
//	[list-users]  https://developers.zoom.us/docs/api/users/#tag/users/GET/users (page_size;
//	              scope user:read:admin; rate limit label Medium)
//	[rate-limits] https://developers.zoom.us/docs/api/rate-limits/ (per account, per second
//	              (QPS) or per day by label: Light 30/s on Pro, 80/s on Business+; over them
//	              HTTP 429 {"code":429,…} with X-RateLimit-Category, X-RateLimit-Type (QPS or
//	              Daily-limit), X-RateLimit-Limit, X-RateLimit-Remaining and, for a daily
//	              limit, Retry-After as a date such as 2020-05-31T00:00:00Z)

const (
	// DefaultBaseURL is Zoom's API host; the connector adds /v2.
	DefaultBaseURL = "https://api.zoom.us"
	// DefaultTokenURL is Zoom's OAuth token endpoint [s2s].
	DefaultTokenURL = "https://zoom.us/oauth/token"

	apiPath  = "/v2"
	loginSSO = 101 // login_types: Single Sign-On [get-user]
)

// Config is the settings of a zoom connector: a Server-to-Server OAuth app
// of the account [s2s] with the scopes user:read:admin (to find people)
// and user:write:admin (to revoke their SSO token) [get-user][sso-revoke].
type Config struct {
	// AccountID, ClientID and ClientSecret are the app's credentials, from
	// its App Credentials page [s2s].
	AccountID    string           `json:"account_id"`
	ClientID     string           `json:"client_id"`
	ClientSecret vendorapi.Secret `json:"client_secret"`
	// BaseURL is the API host, default https://api.zoom.us; the connector
	// adds /v2.
	BaseURL string `json:"base_url"`
	// TokenURL is the OAuth token endpoint, default https://zoom.us/oauth/token.
	TokenURL string `json:"token_url"`
}

// Validate reports every problem with the settings, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	for _, k := range []struct{ key, value string }{{"account_id", c.AccountID}, {"client_id", c.ClientID}, {"client_secret", string(c.ClientSecret)}} {
		if k.value == "" {
			errs = append(errs, vendorapi.FieldErr(k.key, "required"))
		}
	}
	if c.BaseURL != "" {
		if err := vendorapi.CheckURL(c.BaseURL); err != nil {
			errs = append(errs, vendorapi.KeyErr("base_url", err))
		} else if u, _ := url.Parse(c.BaseURL); strings.Contains(u.Path+"/", "/v2/") {
			errs = append(errs, vendorapi.FieldErr("base_url", "give the host without /v2, e.g. https://api.zoom.us"))
		}
	}
	if c.TokenURL != "" {
		if err := vendorapi.CheckURL(c.TokenURL); err != nil {
			errs = append(errs, vendorapi.KeyErr("token_url", err))
		}
	}
	return errors.Join(errs...)
}

// Open returns the *Connector named name.
func (c *Config) Open(name string, d connectors.Deps) (connectors.Connector, error) {
	// [s2s]: the account_credentials grant, with the client id and secret
	// as HTTP Basic. x/oauth2's client credentials flow lets grant_type be
	// replaced; the parameters go in the form body. A wrong pair is
	// answered with OAuth's invalid_client [oauth-errors], which the shared
	// client classifies as an auth error.
	cc := &clientcredentials.Config{
		ClientID:     c.ClientID,
		ClientSecret: string(c.ClientSecret),
		TokenURL:     cmp.Or(c.TokenURL, DefaultTokenURL),
		AuthStyle:    oauth2.AuthStyleInHeader,
		EndpointParams: url.Values{
			"grant_type": {"account_credentials"},
			"account_id": {c.AccountID},
		},
	}
	api, err := vendorapi.NewClient(name, cmp.Or(c.BaseURL, DefaultBaseURL), withZoomWaits(d.HTTPClient), vendorapi.ClientOptions{
		Token:       cc.Token,
		VendorError: readError,
		Secrets:     []string{string(c.ClientSecret)},
		Logger:      d.Logger,
	})
	if err != nil {
		return nil, err
	}
	return &Connector{name: name, api: api}, nil
}

// Connector revokes a person's Zoom SSO token.
type Connector struct {
	name string
	api  *vendorapi.Client
}

var (
	_ connectors.Connector = (*Connector)(nil)
	_ connectors.Checker   = (*Connector)(nil)
)

// user is the part of Zoom's user object the connector reads [get-user].
type user struct {
	ID         string `json:"id"`
	Email      string `json:"email"`
	Status     string `json:"status"`
	LoginTypes []int  `json:"login_types"`
}

// Name returns the configured connector name.
func (z *Connector) Name() string { return z.name }

// Revoke finds the Zoom user with the subject's email and revokes their
// SSO token: Acknowledged when Zoom took it (Zoom has no read of a user's
// sessions to verify with), NotFound when the account has no such user.
//
// Zoom documents that the SSO user is then logged out of their current
// Zoom session [sso-revoke]; the detail says so, and says when the user
// has no SSO login, whose sessions this call is not documented to end.
func (z *Connector) Revoke(ctx context.Context, s offboard.Subject) (offboard.Outcome, error) {
	email := strings.TrimSpace(s.Email)
	if email == "" {
		return "", &vendorapi.Error{System: z.name, Kind: vendorapi.Invalid, Msg: "subject has no email"}
	}
	// [get-user] GET /v2/users/{email}: 404 code 1001 when the account has
	// no such user.
	var u user
	_, err := z.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: apiPath + "/users/" + url.PathEscape(email)}, &u)
	if vendorapi.IsKind(err, vendorapi.NotFound) {
		connectors.Report(ctx, "no zoom user has this email (404, code 1001): nothing to end")
		return offboard.NotFound, nil
	}
	if err != nil {
		return "", err
	}
	if u.ID == "" {
		return "", &vendorapi.Error{System: z.name, Kind: vendorapi.Invalid, Status: 200,
			Msg: "GET " + apiPath + "/users/{email}: answer has no user id; check base_url"}
	}
	// [sso-revoke] DELETE /v2/users/{userId}/token: 204; 404 code 1001
	// when the user went away since the lookup.
	_, err = z.api.Do(ctx, vendorapi.Request{Method: http.MethodDelete, Path: apiPath + "/users/" + url.PathEscape(u.ID) + "/token"}, nil)
	if vendorapi.IsKind(err, vendorapi.NotFound) {
		connectors.Report(ctx, "zoom user %s is gone since the lookup (404): nothing to end", u.ID)
		return offboard.NotFound, nil
	}
	if err != nil {
		return "", err
	}
	z.api.Logger(ctx).Info().Str("connector", z.name).Str("zoom_user_id", u.ID).Msg("zoom sso token revoked")
	what := "zoom user " + u.ID + ": SSO token revoked, which logs an SSO user out of their current Zoom session; " +
		"zoom offers no read of sessions, so this is not verified"
	if !slices.Contains(u.LoginTypes, loginSSO) && len(u.LoginTypes) > 0 {
		what += "; this user has no SSO login, and sessions signed in otherwise (password, Google, Apple…) are not documented to end by this call"
	}
	connectors.Report(ctx, "%s", what)
	return offboard.Acknowledged, nil
}

// Check is the cheapest authenticated read, GET /v2/users?page_size=1
// [list-users]: it fails with a vendorapi.Auth *vendorapi.Error when the
// token endpoint rejects the app's credentials or Zoom the token, and
// with Zoom's own message naming the scope when the app lacks
// user:read:admin (code 4700 [errors]).
func (z *Connector) Check(ctx context.Context) error {
	var page struct {
		Users []user `json:"users"`
	}
	_, err := z.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: apiPath + "/users", Query: url.Values{"page_size": {"1"}}}, &page)
	return err
}
