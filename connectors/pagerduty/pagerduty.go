// Package pagerduty is the pagerduty connector: it signs a person out of
// the PagerDuty web app and mobile app by deleting their web and mobile
// OAuth delegations, then lists the delegations still issued to verify
// that none of those is left. The person is found by email in the
// account's users.
package pagerduty

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// PagerDuty's documentation, cited below by these names:
//
//	[spec]     https://github.com/PagerDuty/api-schema/blob/main/reference/REST/openapiv3.json
//	           (the REST API's OpenAPI description, every call below)
//	[users]    https://developer.pagerduty.com/api-reference/c96e889522dd6-list-users
//	           (GET /users: query, limit, offset; users[] with id, email; more)
//	[delete]   https://developer.pagerduty.com/api-reference/ad1161db75db1-delete-all-o-auth-delegations
//	           (DELETE /oauth_delegations?user_id=…&type=web,mobile: "equivalent to signing
//	           users out of" the web and the mobile app; "This is a synchronous API."; 200
//	           {"status":"ok"}; scope oauth_delegations.write)
//	[list]     https://developer.pagerduty.com/api-reference/fc03ba9dffd1f-list-user-o-auth-delegations
//	           (GET /users/{id}/oauth_delegations: delegation_type, status=issued|revoked,
//	           limit, cursor; oauth_delegations[], more, next_cursor; scope
//	           oauth_delegations.read; it replaces the deprecated /users/{id}/sessions)
//	[status]   GET /oauth_delegations/revocation_requests/status [spec]: deprecated, "as
//	           OAuth token revocation is now synchronous"; not used
//	[auth]     https://developer.pagerduty.com/docs/authentication
//	           (Authorization: Token token=<key>; Accept: application/vnd.pagerduty+json;version=2)
//	[errors]   https://developer.pagerduty.com/docs/errors
//	           ({"error":{"message","code","errors":[…]}})
//	[limits]   https://developer.pagerduty.com/docs/72d3b724589e3-rest-api-rate-limits and
//	           https://support.pagerduty.com/docs/rest-api-rate-limits (960 requests a minute per
//	           key or user; over it 429, and "the ratelimit-reset header will let you know how
//	           many seconds to wait before retrying")

const (
	// DefaultBaseURL is PagerDuty's REST API (the EU service region's is
	// https://api.eu.pagerduty.com).
	DefaultBaseURL = "https://api.pagerduty.com"
	// accept is PagerDuty's versioning header [auth].
	accept = "application/vnd.pagerduty+json;version=2"
	// pageSize is the page asked for when listing.
	pageSize = 100
	// maxPages bounds the pages read of one listing.
	maxPages = 50
	// signOutTypes are the delegation types DELETE /oauth_delegations
	// takes: the web app and the mobile app [delete].
	signOutTypes = "web,mobile"
)

// Config is the settings of a pagerduty connector: a REST API key with
// full access — an account-level key, or a user key of an Admin or the
// Account Owner — or a scoped OAuth token with users.read,
// oauth_delegations.read and oauth_delegations.write [delete][list].
type Config struct {
	// Token is sent as "Authorization: Token token=<token>" [auth]; give
	// the key alone.
	Token vendorapi.Secret `json:"token"`
	// BaseURL is the API root; empty means https://api.pagerduty.com.
	BaseURL string `json:"base_url"`
}

// Validate reports every problem with the settings, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	switch tok := strings.TrimSpace(string(c.Token)); {
	case tok == "":
		errs = append(errs, vendorapi.FieldErr("token", "required"))
	case strings.Contains(tok, " ") || strings.HasPrefix(strings.ToLower(tok), "token="):
		errs = append(errs, vendorapi.FieldErr("token", `give the API key alone, without "Token token="`))
	}
	if c.BaseURL != "" {
		if err := vendorapi.CheckURL(c.BaseURL); err != nil {
			errs = append(errs, vendorapi.KeyErr("base_url", err))
		}
	}
	return errors.Join(errs...)
}

// Open returns the *Connector named name.
func (c *Config) Open(name string, d connectors.Deps) (connectors.Connector, error) {
	token := strings.TrimSpace(string(c.Token))
	api, err := vendorapi.NewClient(name, cmp.Or(c.BaseURL, DefaultBaseURL), withResetWait(d.HTTPClient), vendorapi.ClientOptions{
		Auth: func(h http.Header) {
			h.Set("Authorization", "Token token="+token)
			h.Set("Accept", accept)
			h.Set("Content-Type", "application/json") // a required header of every call [spec]
		},
		VendorError: readError,
		Secrets:     []string{token},
		Logger:      d.Logger,
	})
	if err != nil {
		return nil, err
	}
	return &Connector{name: name, api: api}, nil
}

// Connector signs a person out of PagerDuty's web and mobile apps.
type Connector struct {
	name string
	api  *vendorapi.Client
}

var (
	_ connectors.Connector = (*Connector)(nil)
	_ connectors.Checker   = (*Connector)(nil)
)

// user is the part of a PagerDuty user the connector reads [users].
type user struct {
	ID    string `json:"id"`
	Email string `json:"email"`
}

// delegation is the part of an OAuth delegation the connector reads
// [list]. The schema names its kind delegation_type; the doc's example
// names it type: both are read.
type delegation struct {
	ID             string `json:"id"`
	DelegationType string `json:"delegation_type"`
	Type           string `json:"type"`
	Status         string `json:"status"`
}

func (d delegation) kind() string { return cmp.Or(d.DelegationType, d.Type) }

// Name returns the configured connector name.
func (p *Connector) Name() string { return p.name }

// Revoke finds the users whose email is the subject's, deletes their web
// and mobile OAuth delegations — which signs them out of the PagerDuty
// web app and mobile app [delete] — and lists the web and mobile
// delegations still issued: Verified when none is, Acknowledged when one
// still is or the token may not read them, NotFound when no user has the
// email.
//
// Integration delegations (Slack, Microsoft Teams and other apps the
// person authorized) are not deleted: the call takes only web and mobile
// [delete]. The detail says so, and how many are still issued.
func (p *Connector) Revoke(ctx context.Context, s offboard.Subject) (offboard.Outcome, error) {
	email := strings.TrimSpace(s.Email)
	if email == "" {
		return "", &vendorapi.Error{System: p.name, Kind: vendorapi.Invalid, Msg: "subject has no email"}
	}
	users, err := p.find(ctx, email)
	if err != nil {
		return "", err
	}
	if len(users) == 0 {
		connectors.Report(ctx, "no PagerDuty user has the email %s", email)
		return offboard.NotFound, nil
	}
	result := offboard.NotFound
	for _, u := range users {
		out, err := p.signOut(ctx, u)
		switch {
		case vendorapi.IsKind(err, vendorapi.NotFound):
			// Deleted since the lookup: nothing is left to sign out.
			connectors.Report(ctx, "user %s was deleted before it was signed out", u.ID)
			continue
		case err != nil:
			return "", err
		case result == offboard.NotFound || out == offboard.Acknowledged:
			result = out
		}
	}
	return result, nil
}

// signOut deletes u's web and mobile delegations and lists what is left.
func (p *Connector) signOut(ctx context.Context, u user) (offboard.Outcome, error) {
	// [delete] DELETE /oauth_delegations?user_id=…&type=web,mobile: 200
	// {"status":"ok"}, synchronous, so a listing after it tells what is
	// left. Deleting nothing is a 200 as well, so a run again is harmless.
	q := url.Values{"user_id": {u.ID}, "type": {signOutTypes}}
	if _, err := p.api.Do(ctx, vendorapi.Request{Method: http.MethodDelete, Path: "/oauth_delegations", Query: q}, nil); err != nil {
		return "", err
	}
	log := p.api.Logger(ctx).With().Str("connector", p.name).Str("pagerduty_user_id", u.ID).Logger()
	log.Info().Msg("pagerduty web and mobile delegations deleted")

	left, err := p.issued(ctx, u.ID)
	switch {
	case vendorapi.IsKind(err, vendorapi.Auth):
		log.Warn().Err(err).Msg("pagerduty delegations deleted but cannot be read back: grant oauth_delegations.read to verify")
		connectors.Report(ctx, "signed user %s out of the PagerDuty web and mobile apps (web and mobile OAuth delegations deleted); not read back: the token may not list delegations", u.ID)
		return offboard.Acknowledged, nil
	case err != nil:
		return "", err
	}
	var signIn, integrations int
	for _, d := range left {
		if d.kind() == "integration" {
			integrations++
		} else {
			signIn++
		}
	}
	tail := ""
	if integrations > 0 {
		tail = "; " + strconv.Itoa(integrations) + " integration delegation(s) (Slack, Microsoft Teams or other apps) still issued: the API does not revoke them"
	}
	if signIn > 0 {
		connectors.Report(ctx, "deleted user %s's web and mobile OAuth delegations; %d still issued when read back%s", u.ID, signIn, tail)
		return offboard.Acknowledged, nil
	}
	connectors.Report(ctx, "signed user %s out of the PagerDuty web and mobile apps (web and mobile OAuth delegations deleted, none left)%s", u.ID, tail)
	return offboard.Verified, nil
}

// find is GET /users?query=<email> [users], every page of it, keeping the
// users whose email is the subject's: query matches more than that (a
// name, a part of an address), so the answer is checked here.
func (p *Connector) find(ctx context.Context, email string) ([]user, error) {
	var out []user
	for page := range maxPages {
		q := url.Values{"query": {email}, "limit": {strconv.Itoa(pageSize)}, "offset": {strconv.Itoa(page * pageSize)}}
		var ans struct {
			Users []user `json:"users"`
			More  bool   `json:"more"`
		}
		if _, err := p.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: "/users", Query: q}, &ans); err != nil {
			return nil, err
		}
		for _, u := range ans.Users {
			if u.ID != "" && strings.EqualFold(strings.TrimSpace(u.Email), email) {
				out = append(out, u)
			}
		}
		if !ans.More || len(ans.Users) == 0 {
			break
		}
	}
	return out, nil
}

// issued is GET /users/{id}/oauth_delegations?status=issued [list], every
// page of it (cursor pagination): the delegations still issued to the
// user, of every type.
func (p *Connector) issued(ctx context.Context, id string) ([]delegation, error) {
	var out []delegation
	cursor := ""
	for range maxPages {
		q := url.Values{"status": {"issued"}, "limit": {strconv.Itoa(pageSize)}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var ans struct {
			Delegations []delegation `json:"oauth_delegations"`
			More        bool         `json:"more"`
			NextCursor  string       `json:"next_cursor"`
		}
		path := "/users/" + url.PathEscape(id) + "/oauth_delegations"
		if _, err := p.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: path, Query: q}, &ans); err != nil {
			return nil, err
		}
		for _, d := range ans.Delegations {
			if d.Status == "" || d.Status == "issued" {
				out = append(out, d)
			}
		}
		if !ans.More || ans.NextCursor == "" {
			break
		}
		cursor = ans.NextCursor
	}
	return out, nil
}

// Check is the cheapest authenticated read, GET /users?limit=1 [users]: a
// bad key is 401, a key without users.read 403.
func (p *Connector) Check(ctx context.Context) error {
	var ans struct {
		Users []user `json:"users"`
	}
	_, err := p.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: "/users", Query: url.Values{"limit": {"1"}}}, &ans)
	return err
}
