// Package auth0 is the auth0 connector: it deletes a person's Auth0 sessions
// and refresh tokens through the Management API, and reads back that they
// are gone.
package auth0

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/offboarder/offboarder/connectors"

	"github.com/sethvargo/go-retry"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// Auth0's documentation, cited below by these names:
//
//	[m2m-token]     https://auth0.com/docs/secure/tokens/access-tokens/management-api-access-tokens/get-management-api-access-tokens-for-production
//	[by-email]      https://auth0.com/docs/api/management/v2/users-by-email/get-users-by-email
//	[by-email-how]  https://auth0.com/docs/manage-users/user-search/retrieve-users-with-get-users-by-email-endpoint
//	[sessions]      https://auth0.com/docs/manage-users/sessions/manage-user-sessions-with-auth0-management-api
//	[del-sessions]  https://auth0.com/docs/api/management/v2/users/delete-sessions-for-user
//	[get-sessions]  https://auth0.com/docs/api/management/v2/users/get-sessions-for-user
//	[refresh]       https://auth0.com/docs/secure/tokens/manage-refresh-tokens-with-auth0-management-api
//	[del-refresh]   https://auth0.com/docs/api/management/v2/users/delete-refresh-tokens-for-user
//	[get-refresh]   https://auth0.com/docs/api/management/v2/users/get-refresh-tokens-for-user
//	[list-users]    https://auth0.com/docs/api/management/v2/users/get-users
//	[rate]          https://auth0.com/docs/troubleshoot/customer-support/operational-policies/rate-limit-policy
//	[errors]        https://auth0.com/docs/api/management/v2 (error body: statusCode, error, message, errorCode)
//	[audiences]     https://auth0.com/docs/secure/tokens/access-tokens/get-access-tokens
//	                ("Control access token audience" and "Custom domains and the Auth0 Management API")

// readBacks bounds how often a user's sessions and refresh tokens are
// read back after their deletion was accepted; the first wait between
// reads is firstWait and each next one is twice as long.
const (
	readBacks = 3
	firstWait = 250 * time.Millisecond
	apiPath   = "/api/v2"
	tokenPath = "/oauth/token"
	idsKey    = "auth0" // the Subject.IDs key of an Auth0 user id
)

// Config is the settings of an auth0 connector.
type Config struct {
	// BaseURL is where the tenant is called, without /api/v2: its
	// canonical domain, e.g. https://example.us.auth0.com, or a custom
	// domain with Audience set.
	BaseURL string `json:"base_url"`
	// Audience is the Management API's identifier, asked for in the token
	// request; empty means BaseURL + "/api/v2/" [m2m-token]. The
	// identifier is always the canonical https://{tenant}.auth0.com/api/v2/
	// [audiences], so a base_url on a custom domain needs it set: Auth0
	// then issues the token for the custom domain, and the API must be
	// called through that domain too [audiences].
	Audience string `json:"audience"`
	// ClientID and ClientSecret are a machine-to-machine application's,
	// authorized for the Management API with read:users, delete:sessions,
	// delete:refresh_tokens and, to verify, read:sessions and
	// read:refresh_tokens.
	ClientID     string           `json:"client_id"`
	ClientSecret vendorapi.Secret `json:"client_secret"`
	// TokenURL is where access tokens are fetched; empty means
	// BaseURL + "/oauth/token".
	TokenURL string `json:"token_url"`
}

// Validate reports every problem with the settings, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	if err := vendorapi.CheckURL(c.BaseURL); err != nil {
		errs = append(errs, vendorapi.KeyErr("base_url", err))
	} else if u, _ := url.Parse(c.BaseURL); strings.Contains(strings.TrimSuffix(u.Path, "/"), apiPath) {
		// With /api/v2 here every path would 404, which reads as "no such user".
		errs = append(errs, vendorapi.FieldErr("base_url", "give the tenant url without /api/v2, e.g. https://example.us.auth0.com"))
	}
	if c.ClientID == "" {
		errs = append(errs, vendorapi.FieldErr("client_id", "required"))
	}
	if c.ClientSecret == "" {
		errs = append(errs, vendorapi.FieldErr("client_secret", "required"))
	}
	if c.TokenURL != "" {
		if err := vendorapi.CheckURL(c.TokenURL); err != nil {
			errs = append(errs, vendorapi.KeyErr("token_url", err))
		}
	}
	if c.Audience != "" {
		if err := vendorapi.CheckURL(c.Audience); err != nil {
			errs = append(errs, vendorapi.KeyErr("audience", err))
		} else if u, _ := url.Parse(c.Audience); !strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), apiPath) {
			// Any other identifier is refused 403 "Service not found".
			errs = append(errs, vendorapi.FieldErr("audience", "give the Management API's identifier, e.g. https://example.us.auth0.com/api/v2/"))
		}
	}
	return errors.Join(errs...)
}

// audience is the configured identifier, with its trailing slash, or
// base's.
func (c *Config) audience(base string) string {
	if c.Audience == "" {
		return base + apiPath + "/"
	}
	return strings.TrimSuffix(c.Audience, "/") + "/"
}

// Open returns the *Connector named name.
func (c *Config) Open(name string, d connectors.Deps) (connectors.Connector, error) {
	base := strings.TrimSuffix(c.BaseURL, "/")
	tokenURL := c.TokenURL
	if tokenURL == "" {
		tokenURL = base + tokenPath
	}
	// [m2m-token]: POST /oauth/token with grant_type=client_credentials,
	// client_id, client_secret and audience https://{tenant}/api/v2/. The
	// credentials go in the body: "Post" is a new application's token
	// endpoint authentication method, and auto-detection would first try
	// Basic and double the requests.
	token := vendorapi.ClientCredentials(c.ClientID, c.ClientSecret, tokenURL, nil, url.Values{"audience": {c.audience(base)}})
	api, err := vendorapi.NewClient(name, c.BaseURL, d.HTTPClient, vendorapi.ClientOptions{
		Token:       token,
		VendorError: readError,
		Secrets:     []string{string(c.ClientSecret)},
		Logger:      d.Logger,
	})
	if err != nil {
		return nil, err
	}
	return &Connector{name: name, api: api}, nil
}

// Connector deletes a person's Auth0 sessions and refresh tokens.
type Connector struct {
	name string
	api  *vendorapi.Client
}

var (
	_ connectors.Connector = (*Connector)(nil)
	_ connectors.Checker   = (*Connector)(nil)
)

// account is the part of Auth0's user object the connector reads.
type account struct {
	UserID string `json:"user_id"`
	Email  string `json:"email"`
}

// Name returns the configured connector name.
func (a *Connector) Name() string { return a.name }

// Revoke deletes the sessions and the refresh tokens of every Auth0 user
// that is the subject: the user with the subject's Auth0 id if the event
// carried one, else (or when Auth0 does not know that id) every user that
// users-by-email finds for the email — one per connection the person signed
// up through.
//
// Both are deleted because a refresh token outlives the session it came
// with [sessions][refresh]. Auth0 accepts each deletion (202) and carries it
// out asynchronously [sessions], so Revoke reads both lists back a few
// times, briefly: Verified when every user's lists are empty, Acknowledged
// when some entry is still listed (the deletion is accepted and eventually
// consistent) or the credentials may not read them back (403), NotFound
// when no user has the email.
func (a *Connector) Revoke(ctx context.Context, s offboard.Subject) (offboard.Outcome, error) {
	if id := s.IDs[idsKey]; id != "" {
		switch out, err := a.revokeUser(ctx, id); {
		case err == nil:
			return out, nil
		case !vendorapi.IsKind(err, vendorapi.NotFound):
			return "", err
		}
		// An id from another tenant, or a user deleted since: try the email.
	}
	email := strings.TrimSpace(s.Email)
	if email == "" {
		return "", &vendorapi.Error{System: a.name, Kind: vendorapi.Invalid, Msg: "subject has neither an email nor an auth0 id"}
	}
	// [by-email]: an exact, case-sensitive match against the stored email,
	// which Auth0 keeps in lower case for its own database connections (as
	// the subject's email is) [by-email-how]. It is immediately consistent,
	// unlike search. It answers a JSON array, empty when nobody matches.
	var users []account
	q := url.Values{"email": {email}, "fields": {"user_id,email"}, "include_fields": {"true"}}
	if _, err := a.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: apiPath + "/users-by-email", Query: q}, &users); err != nil {
		return "", err
	}
	result := offboard.NotFound
	for _, u := range users {
		if u.UserID == "" || !strings.EqualFold(u.Email, email) {
			continue
		}
		out, err := a.revokeUser(ctx, u.UserID)
		switch {
		case vendorapi.IsKind(err, vendorapi.NotFound):
			continue // deleted since the lookup; nothing is left to delete
		case err != nil:
			return "", err
		case result == offboard.NotFound || out == offboard.Acknowledged:
			result = out
		}
	}
	return result, nil
}

// revokeUser deletes the sessions and refresh tokens of the user with id,
// then reads them back. A 404 is a vendorapi.NotFound *vendorapi.Error: no such user.
func (a *Connector) revokeUser(ctx context.Context, id string) (offboard.Outcome, error) {
	user := apiPath + "/users/" + url.PathEscape(id)
	// [del-sessions]: 202 "Session deletion request accepted"; [del-refresh]:
	// 202 likewise. Both need an Enterprise plan [sessions][refresh]; without
	// one, or without the delete:sessions / delete:refresh_tokens scope, the
	// answer is a 403, a permanent vendorapi.Auth error a person must act on. 429
	// carries X-RateLimit-Reset, the epoch second the limit resets [rate],
	// which the shared classifier reads. The two deletions are sent
	// together: each is only accepted (202) and carried out afterwards, so
	// sending one after the other never ordered what they do; the
	// read-back below is what tells that both are done.
	del := func(what string) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := a.api.Do(ctx, vendorapi.Request{Method: http.MethodDelete, Path: user + what}, nil)
			return err
		}
	}
	if err := vendorapi.Concurrently(ctx, del("/sessions"), del("/refresh-tokens")); err != nil {
		return "", err
	}
	log := a.api.Logger(ctx)
	log.Info().Str("connector", a.name).Str("auth0_user_id", id).Msg("auth0 sessions and refresh tokens deletion accepted")
	left, err := a.readBack(ctx, user)
	switch {
	case vendorapi.IsKind(err, vendorapi.Auth):
		log.Warn().Str("connector", a.name).Str("auth0_user_id", id).Err(err).
			Msg("auth0 deletion accepted but cannot be read back: grant read:sessions and read:refresh_tokens to verify")
		return offboard.Acknowledged, nil
	case err != nil:
		return "", err
	case left != "":
		log.Info().Str("connector", a.name).Str("auth0_user_id", id).Str("still_listed", left).
			Msg("auth0 deletion accepted and still in progress")
		return offboard.Acknowledged, nil
	}
	return offboard.Verified, nil
}

// errStillListed marks a read-back that still found something.
var errStillListed = errors.New("still listed")

// readBack reads the user's sessions [get-sessions] and refresh tokens
// [get-refresh] (one of each is enough to tell) until both are empty, at
// most readBacks times. It returns what is still listed ("sessions",
// "refresh tokens" or both), "" when nothing is, or the read's error.
func (a *Connector) readBack(ctx context.Context, user string) (string, error) {
	var left []string
	b := retry.WithMaxRetries(readBacks-1, retry.NewExponential(firstWait))
	err := retry.Do(ctx, b, func(ctx context.Context) error {
		left = left[:0]
		var sessions struct {
			Sessions []json.RawMessage `json:"sessions"`
		}
		var tokens struct {
			Tokens []json.RawMessage `json:"tokens"`
		}
		// The two reads are independent and are sent together.
		if err := vendorapi.Concurrently(ctx,
			func(ctx context.Context) error { return a.read(ctx, user+"/sessions", &sessions) },
			func(ctx context.Context) error { return a.read(ctx, user+"/refresh-tokens", &tokens) },
		); err != nil {
			return err
		}
		if len(sessions.Sessions) > 0 {
			left = append(left, "sessions")
		}
		if len(tokens.Tokens) > 0 {
			left = append(left, "refresh tokens")
		}
		if len(left) > 0 {
			return retry.RetryableError(errStillListed)
		}
		return nil
	})
	switch {
	case errors.Is(err, errStillListed):
		return strings.Join(left, " and "), nil
	case err != nil && !errors.As(err, new(*vendorapi.Error)):
		// ctx ended during a wait between reads.
		return "", &vendorapi.Error{System: a.name, Kind: vendorapi.Transient, Msg: "GET " + user + ": stopped", Err: ctx.Err()}
	}
	return "", err
}

// read is one page of one entry: take sets the page size of both read-backs
// [get-sessions][get-refresh], and one entry is enough to tell.
func (a *Connector) read(ctx context.Context, path string, out any) error {
	_, err := a.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: path, Query: url.Values{"take": {"1"}}}, out)
	return err
}

// Check is the cheapest authenticated read, GET /api/v2/users?per_page=1
// [list-users]: it fails with a vendorapi.Auth *vendorapi.Error when the client credentials are
// rejected by the token endpoint (401 access_denied) or the application is
// not authorized for the Management API or lacks read:users (403).
func (a *Connector) Check(ctx context.Context) error {
	var users []account
	q := url.Values{"per_page": {"1"}, "fields": {"user_id"}, "include_fields": {"true"}}
	_, err := a.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: apiPath + "/users", Query: q}, &users)
	return err
}

// readError reads Auth0's error body [errors] — statusCode, error,
// message, errorCode — into one short line: "inexistent_user: The user
// does not exist.".
func readError(body []byte) string { return vendorapi.AsRead(decodeError(body)) }

// decodeError is readError before invalid UTF-8 is put back as read.
func decodeError(body []byte) string {
	var e struct {
		Error     string `json:"error"`
		Message   string `json:"message"`
		ErrorCode string `json:"errorCode"`
	}
	if json.Unmarshal(body, &e) != nil || (e.Message == "" && e.ErrorCode == "") {
		return ""
	}
	code := e.ErrorCode
	if code == "" {
		code = e.Error
	}
	return strings.TrimPrefix(code+": "+e.Message, ": ")
}
