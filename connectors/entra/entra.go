// Package entra is the entra connector: it revokes a person's Microsoft
// Entra ID refresh tokens and browser session cookies through Microsoft
// Graph, and reads back that the revocation took.
package entra

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/offboarder/offboarder/connectors"

	"github.com/sethvargo/go-retry"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// Microsoft's documentation, cited below by these names:
//
//	[client-creds] https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow
//	[revoke]       https://learn.microsoft.com/en-us/graph/api/user-revokesigninsessions?view=graph-rest-1.0
//	[revoke-code]  https://learn.microsoft.com/en-us/graph/known-issues#revoke-sign-in-sessions-returns-wrong-http-code
//	[get-user]     https://learn.microsoft.com/en-us/graph/api/user-get?view=graph-rest-1.0
//	[list-users]   https://learn.microsoft.com/en-us/graph/api/user-list?view=graph-rest-1.0
//	[user]         https://learn.microsoft.com/en-us/graph/api/resources/user?view=graph-rest-1.0
//	[filter]       https://learn.microsoft.com/en-us/graph/aad-advanced-queries
//	[quotes]       https://learn.microsoft.com/en-us/graph/query-parameters#escaping-single-quotes
//	[upn-dollar]   https://learn.microsoft.com/en-us/graph/known-issues (a UPN that starts with "$")
//	[errors]       https://learn.microsoft.com/en-us/graph/errors
//	[throttling]   https://learn.microsoft.com/en-us/graph/throttling
//	[clouds]       https://learn.microsoft.com/en-us/graph/deployments

const (
	defaultBaseURL = "https://graph.microsoft.com"
	// The default token URL is loginURL + "/{tenant_id}" + tokenPath
	// [client-creds].
	loginURL  = "https://login.microsoftonline.com"
	tokenPath = "/oauth2/v2.0/token"
	usersPath = "/v1.0/users"
	idsKey    = "entra" // the Subject.IDs key of an Entra object id

	// The read-back after a revoke: at most readBacks reads, the first
	// wait firstWait and each next one twice as long, all within
	// verifyFor (and the caller's deadline).
	readBacks = 4
	firstWait = 200 * time.Millisecond
	verifyFor = 3 * time.Second
	// clockSkew is how far before our own clock reading Graph's
	// signInSessionsValidFromDateTime may be and still count as this
	// revoke's: Graph sets it from its clock, in whole seconds, so a value
	// from the same instant can read up to a second early, and the two
	// clocks may differ by a few seconds more. A revoke older than that is
	// not taken for ours.
	clockSkew = 30 * time.Second
)

// tenantPattern is a tenant id as the token URL takes it: a GUID or a
// domain name such as contoso.onmicrosoft.com [client-creds].
var tenantPattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$`)

// Config is the settings of an entra connector: an app registration in
// the tenant with the application permissions User.RevokeSessions.All (to
// revoke [revoke]) and User.Read.All (to look users up and read the revoke
// back [get-user]), admin-consented, and a client secret.
type Config struct {
	// TenantID is the directory (tenant) id, a GUID, or a verified domain.
	TenantID string `json:"tenant_id"`
	// ClientID is the app registration's application (client) id.
	ClientID string `json:"client_id"`
	// ClientSecret is a client secret of the app registration.
	ClientSecret vendorapi.Secret `json:"client_secret"`
	// BaseURL is Microsoft Graph's root without /v1.0; empty means
	// https://graph.microsoft.com. A national cloud has its own (e.g.
	// https://graph.microsoft.us) [clouds]; the token scope follows it:
	// BaseURL + "/.default".
	BaseURL string `json:"base_url"`
	// TokenURL is the v2.0 token endpoint; empty means
	// https://login.microsoftonline.com/{tenant_id}/oauth2/v2.0/token. A
	// national cloud has its own login host [clouds].
	TokenURL string `json:"token_url"`
}

func (c *Config) baseURL() string {
	if c.BaseURL == "" {
		return defaultBaseURL
	}
	return c.BaseURL
}

func (c *Config) tokenURL() string {
	if c.TokenURL == "" {
		return loginURL + "/" + url.PathEscape(c.TenantID) + tokenPath
	}
	return c.TokenURL
}

// scope is the .default scope of the Graph that base_url names [client-creds].
func (c *Config) scope() string { return strings.TrimSuffix(c.baseURL(), "/") + "/.default" }

// Validate reports every problem with the settings, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	switch {
	case c.TenantID == "":
		errs = append(errs, vendorapi.FieldErr("tenant_id", "required"))
	case !tenantPattern.MatchString(c.TenantID):
		errs = append(errs, vendorapi.FieldErr("tenant_id", "must be the directory (tenant) id, a GUID, or a domain such as contoso.onmicrosoft.com"))
	}
	if c.ClientID == "" {
		errs = append(errs, vendorapi.FieldErr("client_id", "required"))
	}
	if c.ClientSecret == "" {
		errs = append(errs, vendorapi.FieldErr("client_secret", "required"))
	}
	if err := vendorapi.CheckURL(c.baseURL()); err != nil {
		errs = append(errs, vendorapi.KeyErr("base_url", err))
	} else if u, _ := url.Parse(c.baseURL()); strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/v1.0") ||
		strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/beta") {
		errs = append(errs, vendorapi.FieldErr("base_url", "give the graph root without /v1.0, e.g. https://graph.microsoft.com"))
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
	// [client-creds]: POST {token_url} with client_id, scope, client_secret
	// and grant_type=client_credentials in the form. The answer is a bearer
	// token for about an hour; errors are OAuth's (400 invalid_scope, 401
	// invalid_client for a wrong secret, 400 unauthorized_client for an
	// unknown app), which the shared vendorapi.Client classifies.
	token := vendorapi.ClientCredentials(c.ClientID, c.ClientSecret, c.tokenURL(), []string{c.scope()}, nil)
	api, err := vendorapi.NewClient(name, c.baseURL(), d.HTTPClient, vendorapi.ClientOptions{
		Token:       token,
		VendorError: vendorapi.GraphError,
		Secrets:     []string{string(c.ClientSecret)},
		Logger:      d.Logger,
	})
	if err != nil {
		return nil, err
	}
	return &Connector{name: name, api: api}, nil
}

// Connector revokes a person's Microsoft Entra ID refresh tokens and browser
// session cookies through Microsoft Graph.
type Connector struct {
	name string
	api  *vendorapi.Client
}

var (
	_ connectors.Connector = (*Connector)(nil)
	_ connectors.Checker   = (*Connector)(nil)
)

// account is the part of Graph's user resource the connector reads [user].
type account struct {
	ID                string `json:"id"`
	Mail              string `json:"mail"`
	UserPrincipalName string `json:"userPrincipalName"`
	ValidFrom         string `json:"signInSessionsValidFromDateTime"`
}

// Name returns the configured connector name.
func (e *Connector) Name() string { return e.name }

// Revoke invalidates every refresh token and browser session cookie of the
// subject's Entra user [revoke]: the user with the subject's Entra object id
// if the event carried one, else the user whose userPrincipalName is the
// email, else (filter) every user whose mail or userPrincipalName is the
// email. It answers Verified when Graph's signInSessionsValidFromDateTime
// reads back at or after the revoke (less clockSkew), Acknowledged
// when the read-back does not show it within a few seconds (directory
// replication lags) or is not permitted, and NotFound when no such user
// exists.
//
// Verified means the directory holds the new cutoff: tokens issued before
// it no longer refresh. Microsoft notes a delay of a few minutes before
// tokens are revoked, and access tokens already issued live until they
// expire [revoke]. Guests are not revoked here: they sign in through their
// home tenant [revoke].
func (e *Connector) Revoke(ctx context.Context, s offboard.Subject) (offboard.Outcome, error) {
	if id := s.IDs[idsKey]; id != "" {
		switch out, err := e.revoke(ctx, id); {
		case err == nil:
			return out, nil
		case !vendorapi.IsKind(err, vendorapi.NotFound):
			return "", err
		}
		// An id from another tenant, or a user deleted since: try the email.
	}
	email := strings.TrimSpace(s.Email)
	if email == "" {
		return "", &vendorapi.Error{System: e.name, Kind: vendorapi.Invalid, Msg: "subject has neither an email nor an entra object id"}
	}
	// The UPN first: one call for the usual tenant whose UPNs are the
	// emails. A UPN that starts with "$" needs another URL form
	// [upn-dollar], and one with "/" cannot be a path segment; both go
	// straight to the filter.
	if !strings.HasPrefix(email, "$") && !strings.Contains(email, "/") {
		switch out, err := e.revoke(ctx, email); {
		case err == nil:
			return out, nil
		case !vendorapi.IsKind(err, vendorapi.NotFound):
			return "", err
		}
	}
	users, err := e.find(ctx, email)
	if err != nil {
		return "", err
	}
	result := offboard.NotFound
	for _, u := range users {
		switch out, err := e.revoke(ctx, u.ID); {
		case vendorapi.IsKind(err, vendorapi.NotFound):
			// Deleted since the lookup; nothing is left to revoke.
		case err != nil:
			return "", err
		case result == offboard.NotFound || out == offboard.Acknowledged:
			result = out
		}
	}
	return result, nil
}

// find returns every user whose mail or userPrincipalName is email:
// GET /v1.0/users?$filter=mail eq '…' or userPrincipalName eq '…' [list-users].
// eq on both is a default query, no ConsistencyLevel header needed
// [filter]; a single quote in the value is doubled [quotes]. Graph compares
// case-insensitively; the answer is checked again here.
func (e *Connector) find(ctx context.Context, email string) ([]account, error) {
	v := "'" + strings.ReplaceAll(email, "'", "''") + "'"
	q := url.Values{
		"$filter": {"mail eq " + v + " or userPrincipalName eq " + v},
		"$select": {"id,mail,userPrincipalName"},
	}
	var page struct {
		Value []account `json:"value"`
	}
	if _, err := e.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: usersPath, Query: q}, &page); err != nil {
		return nil, err
	}
	var users []account
	for _, u := range page.Value {
		if u.ID != "" && (strings.EqualFold(u.Mail, email) || strings.EqualFold(u.UserPrincipalName, email)) {
			users = append(users, u)
		}
	}
	return users, nil
}

// revoke is POST /v1.0/users/{id | userPrincipalName}/revokeSignInSessions
// [revoke], then the read-back. Graph documents 200 with {"value": true}
// and, as a known issue, once answered 204 for the same success
// [revoke-code]: any 2xx is success. 404 (Request_ResourceNotFound) is a
// vendorapi.NotFound *vendorapi.Error: no such user [errors]. 429 and 503 carry
// Retry-After, possibly in fractional seconds [throttling], which the shared
// classifier reads. 403 (Authorization_RequestDenied) means the app lacks
// User.RevokeSessions.All.
func (e *Connector) revoke(ctx context.Context, key string) (offboard.Outcome, error) {
	user := usersPath + "/" + url.PathEscape(key)
	at := time.Now()
	var ok struct {
		Value bool `json:"value"`
	}
	if _, err := e.api.Do(ctx, vendorapi.Request{Method: http.MethodPost, Path: user + "/revokeSignInSessions"}, &ok); err != nil {
		return "", err
	}
	log := e.api.Logger(ctx)
	log.Info().Str("connector", e.name).Str("entra_user", key).Msg("entra sign-in sessions revoked")
	verified, err := e.readBack(ctx, user, at)
	switch {
	case err == nil && verified:
		return offboard.Verified, nil
	case err == nil:
		log.Info().Str("connector", e.name).Str("entra_user", key).
			Msg("entra revoke accepted; the directory does not show it yet")
		return offboard.Acknowledged, nil
	case vendorapi.IsKind(err, vendorapi.Auth), vendorapi.IsKind(err, vendorapi.NotFound):
		log.Warn().Str("connector", e.name).Str("entra_user", key).Err(err).
			Msg("entra revoke accepted but cannot be read back: grant User.Read.All to verify")
		return offboard.Acknowledged, nil
	}
	return "", err
}

// errNotYet marks a read-back that does not show the revoke yet.
var errNotYet = errors.New("not yet")

// readBack reads GET /v1.0/users/{key}?$select=signInSessionsValidFromDateTime
// [get-user] (the property comes only when selected [user]) until it is at
// or after at, less clockSkew: at most readBacks times and within
// verifyFor. It reports false, with no error, when the revoke did not
// show in time; it returns an error for a failed read, or when ctx ends.
func (e *Connector) readBack(ctx context.Context, user string, at time.Time) (bool, error) {
	vctx, cancel := context.WithTimeout(ctx, verifyFor)
	defer cancel()
	// A fresh backoff per call: go-retry backoffs are stateful.
	b := retry.WithMaxRetries(readBacks-1, retry.NewExponential(firstWait))
	err := retry.Do(vctx, b, func(vctx context.Context) error {
		var u account
		q := url.Values{"$select": {"signInSessionsValidFromDateTime"}}
		if _, err := e.api.Do(vctx, vendorapi.Request{Method: http.MethodGet, Path: user, Query: q}, &u); err != nil {
			return err
		}
		if from, err := time.Parse(time.RFC3339Nano, u.ValidFrom); err == nil && !from.Before(at.Add(-clockSkew)) {
			return nil
		}
		return retry.RetryableError(errNotYet)
	})
	switch {
	case err == nil:
		return true, nil
	case ctx.Err() != nil:
		return false, &vendorapi.Error{System: e.name, Kind: vendorapi.Transient, Msg: "GET " + user + ": stopped", Err: ctx.Err()}
	case errors.Is(err, errNotYet), vctx.Err() != nil:
		return false, nil // the read-back's own time ran out
	}
	return false, err
}

// Check is the cheapest authenticated read, GET /v1.0/users?$top=1&$select=id
// [list-users]: it fails with a vendorapi.Auth *vendorapi.Error when the token endpoint rejects
// the client (401 invalid_client, 400 unauthorized_client) or Graph rejects
// the token (401 InvalidAuthenticationToken) or the app may not read users
// (403 Authorization_RequestDenied) [errors].
func (e *Connector) Check(ctx context.Context) error {
	var page struct {
		Value []account `json:"value"`
	}
	q := url.Values{"$top": {"1"}, "$select": {"id"}}
	_, err := e.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: usersPath, Query: q}, &page)
	return err
}
