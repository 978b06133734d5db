// Package slack is the slack connector: it finds a person in an Enterprise
// Grid org by email, wipes every Slack session they hold (web, desktop and
// mobile) with admin.users.session.reset, and lists the person's sessions
// back to say verified where the token may read them.
package slack

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// Slack's documentation, cited below by these names:
//
//	[web-api]     https://api.slack.com/web (methods at https://slack.com/api/{method}; the
//	              token as "Authorization: Bearer"; JSON bodies for POST; every answer has
//	              "ok", and "error" when ok is false, most often with HTTP 200)
//	[errors]      the "Errors" table of every method page below (the common ones:
//	              invalid_auth, not_authed, account_inactive, token_revoked, token_expired,
//	              not_allowed_token_type, missing_scope with needed and provided,
//	              ratelimited, fatal_error, internal_error, service_unavailable, request_timeout)
//	[lookup]      https://api.slack.com/methods/users.lookupByEmail (GET; users:read.email;
//	              users_not_found; Tier 3: 50+ per minute)
//	[user-type]   https://api.slack.com/types/user (id, team_id, deleted, is_bot,
//	              enterprise_user.teams: the workspaces of a Grid user; the same
//	              fields in the Node SDK's UsersInfoResponse.ts, generated from Slack's samples)
//	[reset]       https://api.slack.com/methods/admin.users.session.reset (POST; Enterprise
//	              Grid; a user token with admin.users:write; user_id, mobile_only, web_only;
//	              Tier 2: 20+ per minute)
//	[list]        https://api.slack.com/methods/admin.users.session.list (POST; admin.users:read;
//	              user_id and team_id together or neither; cursor, limit ≤ 1000;
//	              active_sessions, response_metadata.next_cursor)
//	[auth-test]   https://api.slack.com/methods/auth.test (checks the token; any token, no scope)
//	[rate-limits] https://api.slack.com/apis/rate-limits (tiers per method per workspace per
//	              app, counted per minute; over them HTTP 429 with Retry-After, in seconds,
//	              and {"ok":false,"error":"ratelimited"})

// DefaultBaseURL is where Slack's Web API lives; the connector adds /api/….
const DefaultBaseURL = "https://slack.com"

const (
	methodLookup = "users.lookupByEmail"
	methodReset  = "admin.users.session.reset"
	methodList   = "admin.users.session.list"
	methodAuth   = "auth.test"

	listLimit = 1000 // [list]: the largest page
	maxPages  = 10   // a user with more sessions than this many pages is not chased further
)

// Config is the settings of a slack connector: the user token (xoxp-) of an
// Enterprise Grid org owner or admin, from an app installed on the org with
// the user scopes users:read.email (to find people), admin.users:write (to
// reset their sessions) and, to verify, admin.users:read [lookup][reset][list].
type Config struct {
	// Token is the org admin's user token, sent as a Bearer token [web-api].
	Token vendorapi.Secret `json:"token"`
	// BaseURL is the root of the Web API, default https://slack.com; the
	// connector adds /api/{method}.
	BaseURL string `json:"base_url"`
}

// Validate reports every problem with the settings, each naming its key. A
// bot (xoxb-) or app-level (xapp-) token is refused here: the admin
// methods take user tokens only [reset].
func (c *Config) Validate() error {
	var errs []error
	switch t := string(c.Token); {
	case t == "":
		errs = append(errs, vendorapi.FieldErr("token", "required"))
	case strings.HasPrefix(t, "xoxb-") || strings.HasPrefix(t, "xapp-"):
		errs = append(errs, vendorapi.FieldErr("token", "a bot or app-level token cannot reset sessions; use the user token (xoxp-) of an org owner or admin"))
	}
	if c.BaseURL != "" {
		if err := vendorapi.CheckURL(c.BaseURL); err != nil {
			errs = append(errs, vendorapi.KeyErr("base_url", err))
		} else if u, _ := url.Parse(c.BaseURL); strings.Contains(u.Path+"/", "/api/") {
			errs = append(errs, vendorapi.FieldErr("base_url", "give the root without /api, e.g. https://slack.com"))
		}
	}
	return errors.Join(errs...)
}

// Open returns the *Connector named name.
func (c *Config) Open(name string, d connectors.Deps) (connectors.Connector, error) {
	token := string(c.Token)
	api, err := vendorapi.NewClient(name, cmp.Or(c.BaseURL, DefaultBaseURL), d.HTTPClient, vendorapi.ClientOptions{
		Auth:        func(h http.Header) { h.Set("Authorization", "Bearer "+token) }, // [web-api]
		VendorError: readError,
		Secrets:     []string{token},
		Logger:      d.Logger,
	})
	if err != nil {
		return nil, err
	}
	return &Connector{name: name, api: api}, nil
}

// Connector wipes a person's Slack sessions in an Enterprise Grid org.
type Connector struct {
	name string
	api  *vendorapi.Client
}

var (
	_ connectors.Connector = (*Connector)(nil)
	_ connectors.Checker   = (*Connector)(nil)
)

// user is the part of Slack's user object the connector reads [user-type].
type user struct {
	ID             string   `json:"id"`
	TeamID         string   `json:"team_id"`
	Deleted        bool     `json:"deleted"`
	IsBot          bool     `json:"is_bot"`
	Teams          []string `json:"teams"`
	EnterpriseUser *struct {
		Teams []string `json:"teams"`
	} `json:"enterprise_user"`
}

// teams are the workspaces whose sessions of u are listed: u's team_id and
// every workspace of the Grid user (enterprise_user.teams, and teams where
// the answer has it), once each [user-type][list].
func (u user) teams() []string {
	all := []string{u.TeamID}
	all = append(all, u.Teams...)
	if u.EnterpriseUser != nil {
		all = append(all, u.EnterpriseUser.Teams...)
	}
	var ts []string
	for _, t := range all {
		if t != "" && !slices.Contains(ts, t) {
			ts = append(ts, t)
		}
	}
	return ts
}

// Name returns the configured connector name.
func (s *Connector) Name() string { return s.name }

// Revoke finds the Slack user with the subject's email, resets all of
// their sessions and lists them back: Verified when no session is listed
// in any of their workspaces, Acknowledged when the token may not list
// sessions (no admin.users:read) or one is still listed, NotFound when
// Slack knows no user with the email.
//
// admin.users.session.reset without mobile_only or web_only wipes every
// session on every device — web, desktop and mobile — and the user's
// clients reset their local cache [reset]. It is not documented to revoke
// the tokens the person granted to apps, and the detail says so.
func (s *Connector) Revoke(ctx context.Context, sub offboard.Subject) (offboard.Outcome, error) {
	email := strings.TrimSpace(sub.Email)
	if email == "" {
		return "", &vendorapi.Error{System: s.name, Kind: vendorapi.Invalid, Msg: "subject has no email"}
	}
	// [lookup] GET users.lookupByEmail?email=…; users_not_found when no
	// user of the org has it.
	var found struct {
		answer
		User user `json:"user"`
	}
	err := s.call(ctx, http.MethodGet, methodLookup, url.Values{"email": {email}}, nil, &found)
	if vendorapi.IsKind(err, vendorapi.NotFound) {
		connectors.Report(ctx, "no slack user has this email (users_not_found): nothing to end")
		return offboard.NotFound, nil
	}
	if err != nil {
		return "", err
	}
	u := found.User
	if u.ID == "" {
		return "", &vendorapi.Error{System: s.name, Kind: vendorapi.Invalid, Status: 200,
			Msg: "GET /api/" + methodLookup + ": answer has no user id; check base_url"}
	}
	log := s.api.Logger(ctx).With().Str("connector", s.name).Str("slack_user_id", u.ID).Logger()

	// [reset] POST admin.users.session.reset {"user_id": …}: mobile_only
	// and web_only left out (both default false), so every session ends.
	// user_not_found: the user went away since the lookup.
	var reset answer
	err = s.call(ctx, http.MethodPost, methodReset, nil, map[string]any{"user_id": u.ID}, &reset)
	if vendorapi.IsKind(err, vendorapi.NotFound) {
		connectors.Report(ctx, "slack user %s is gone since the lookup (user_not_found): nothing to end", u.ID)
		return offboard.NotFound, nil
	}
	if err != nil {
		return "", err
	}
	log.Info().Msg("slack sessions reset")
	ended := "slack user " + u.ID + ": every session reset (web, desktop and mobile; the clients drop their local cache)"
	notEnded := "tokens the person granted to apps are not revoked by this call"

	left, err := s.sessionsLeft(ctx, u)
	switch {
	case vendorapi.IsKind(err, vendorapi.Auth):
		log.Warn().Err(err).Msg("slack sessions reset but cannot be listed back: grant admin.users:read to verify")
		connectors.Report(ctx, "%s; not read back: the token may not list sessions (it needs admin.users:read); %s", ended, notEnded)
		return offboard.Acknowledged, nil
	case err != nil:
		return "", err
	case left > 0:
		log.Info().Int("sessions_left", left).Msg("slack sessions reset and some are still listed")
		connectors.Report(ctx, "%s; %d session(s) still listed after the reset; %s", ended, left, notEnded)
		return offboard.Acknowledged, nil
	}
	connectors.Report(ctx, "%s; no session listed afterwards; %s", ended, notEnded)
	return offboard.Verified, nil
}

// sessionsLeft counts the sessions of u that admin.users.session.list
// still shows, in each of u's workspaces, listed together [list]. A user
// with no workspace known has nothing that can be listed by user: 0.
func (s *Connector) sessionsLeft(ctx context.Context, u user) (int, error) {
	teams := u.teams()
	counts := make([]int, len(teams))
	calls := make([]func(context.Context) error, len(teams))
	for i, team := range teams {
		calls[i] = func(ctx context.Context) (err error) { counts[i], err = s.listSessions(ctx, u.ID, team); return err }
	}
	if err := vendorapi.Concurrently(ctx, calls...); err != nil {
		return 0, err
	}
	n := 0
	for _, c := range counts {
		n += c
	}
	return n, nil
}

// listSessions pages through admin.users.session.list for one user in one
// workspace [list] and counts the sessions that are the user's.
func (s *Connector) listSessions(ctx context.Context, userID, team string) (int, error) {
	n, cursor := 0, ""
	for range maxPages {
		body := map[string]any{"user_id": userID, "team_id": team, "limit": listLimit}
		if cursor != "" {
			body["cursor"] = cursor
		}
		var page struct {
			answer
			Sessions []struct {
				UserID string `json:"user_id"`
			} `json:"active_sessions"`
			Meta struct {
				NextCursor string `json:"next_cursor"`
			} `json:"response_metadata"`
		}
		if err := s.call(ctx, http.MethodPost, methodList, nil, body, &page); err != nil {
			return 0, err
		}
		for _, ss := range page.Sessions {
			if ss.UserID == "" || ss.UserID == userID {
				n++
			}
		}
		if cursor = page.Meta.NextCursor; cursor == "" {
			return n, nil
		}
	}
	return n, nil
}

// Check is the cheapest authenticated read, auth.test [auth-test]: it
// fails with a vendorapi.Auth *vendorapi.Error when Slack refuses the
// token. It cannot tell whether the token's user is an org admin; the
// first revoke tells that.
func (s *Connector) Check(ctx context.Context) error {
	var a answer
	return s.call(ctx, http.MethodPost, methodAuth, nil, map[string]any{}, &a)
}

// envelope is implemented by every answer struct: it gives the envelope.
type envelope interface{ envelope() *answer }

// call sends one Web API method: GET with query q, or POST with body as
// JSON [web-api]. An answer with ok false becomes a classified error
// (errors.go); HTTP failures are classified by the shared client.
func (s *Connector) call(ctx context.Context, verb, method string, q url.Values, body any, out envelope) error {
	if _, err := s.api.Do(ctx, vendorapi.Request{Method: verb, Path: "/api/" + method, Query: q, Body: body}, out); err != nil {
		return err
	}
	if a := out.envelope(); !a.OK {
		return s.fail(verb, method, a)
	}
	return nil
}
