package atlassian

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// Connector deletes a person's Atlassian API tokens and, when configured,
// deactivates their account, then reads both back.
type Connector struct {
	name       string
	api        *vendorapi.Client
	org        string
	disable    bool
	disableFor connectors.DisableFor
}

var (
	_ connectors.Connector = (*Connector)(nil)
	_ connectors.Checker   = (*Connector)(nil)
)

const (
	// noSessionAPI ends every detail: no Atlassian API ends web sessions.
	noSessionAPI = "live web sessions are not ended: Atlassian has no API for that"
	// disableMessage is the block message the person sees [um-lifecycle].
	disableMessage = "Your account was deactivated by your organization."
	orgHint        = "; check org_id: the organization id shown in Atlassian Administration"
	unmanaged      = "unmanaged"
)

// member is the part of a user of the org's user search the connector
// reads [org-users].
type member struct {
	AccountID     string `json:"accountId"`
	Email         string `json:"email"`
	AccountStatus string `json:"accountStatus"`
	ClaimStatus   string `json:"claimStatus"`
}

// apiToken is one API token of a user [um-tokens].
type apiToken struct {
	ID    string `json:"id"`
	Label string `json:"label"`
}

// deactivated reports whether an account_status means no sign-in: inactive
// (deactivated) or closed [um-profile].
func deactivated(status string) bool { return status == "inactive" || status == "closed" }

// Name returns the configured connector name.
func (c *Connector) Name() string { return c.name }

// Revoke finds the subject's account by email in the organization and,
// when the reason is in disable_for, deletes each of its API tokens and,
// with disable, deactivates it; then it reads the tokens (and the
// account's status) back. Verified when no token is left and, with
// disable, the account reads inactive; Acknowledged when the calls were
// taken but the read-back differs; NotFound when the organization has no
// account with the email; Skipped (nothing changed) for a reason not in
// disable_for; ManualRequired when the account is not managed by the
// organization, which the user-management API cannot act on [um-intro].
// The detail always says how many tokens were deleted, whether the account
// was disabled, and that live web sessions are not ended.
func (c *Connector) Revoke(ctx context.Context, s offboard.Subject) (offboard.Outcome, error) {
	email := strings.TrimSpace(s.Email)
	if email == "" {
		return "", &vendorapi.Error{System: c.name, Kind: vendorapi.Invalid, Msg: "subject has no email"}
	}
	m, err := c.find(ctx, email)
	switch {
	case err != nil:
		return "", err
	case m == nil:
		return offboard.NotFound, nil
	case m.ClaimStatus == unmanaged:
		connectors.Report(ctx, "%s", notManaged(""))
		return offboard.ManualRequired, nil
	}
	if !c.disableFor.Allows(s.Reason) {
		connectors.Report(ctx, "%s; %s", c.disableFor.Skipped("API tokens not deleted, account not disabled", s.Reason), noSessionAPI)
		return offboard.Skipped, nil
	}
	user := "/users/" + url.PathEscape(m.AccountID) + "/manage"
	tokens, err := c.tokens(ctx, user)
	if out, done, err := c.settle(ctx, err); done {
		return out, err
	}
	calls := make([]func(context.Context) error, len(tokens))
	for i, t := range tokens {
		// [um-tokens] DELETE /users/{account_id}/manage/api-tokens/{tokenId};
		// a 404 is a token gone already.
		calls[i] = vendorapi.DeleteGone(c.api, user+"/api-tokens/"+url.PathEscape(t.ID))
	}
	if err := vendorapi.Concurrently(ctx, calls...); err != nil {
		return "", err
	}
	disabled := "account not disabled (disable is false)"
	if c.disable {
		if disabled, err = c.deactivate(ctx, user, m.AccountStatus); err != nil {
			if out, done, err := c.settle(ctx, err); done {
				return out, err
			}
		}
	}
	log := c.api.Logger(ctx).With().Str("connector", c.name).Str("atlassian_account_id", m.AccountID).Logger()
	log.Info().Int("api_tokens", len(tokens)).Bool("disable", c.disable).Msg("atlassian api tokens deleted")

	left, status, err := c.readBack(ctx, user)
	if err != nil {
		return "", err
	}
	connectors.Report(ctx, "API tokens deleted: %d; %s; %s", len(tokens), disabled, noSessionAPI)
	switch {
	case len(left) > 0:
		connectors.Report(ctx, "%d API tokens still listed after deletion", len(left))
	case c.disable && !deactivated(status):
		connectors.Report(ctx, "the account still reads %s", status)
	default:
		return offboard.Verified, nil
	}
	log.Warn().Int("api_tokens_left", len(left)).Str("account_status", status).Msg("atlassian revoke taken but not read back")
	return offboard.Acknowledged, nil
}

// settle turns a user-management answer that ends the revoke into its
// outcome: a 404 (the account is gone) is NotFound; a 403
// forbidden.unclaimedDomain (the account is not managed [um-intro]) is
// ManualRequired; any other error is returned. done is false for nil.
func (c *Connector) settle(ctx context.Context, err error) (offboard.Outcome, bool, error) {
	e, ok := errors.AsType[*vendorapi.Error](err)
	switch {
	case err == nil:
		return "", false, nil
	case ok && e.Kind == vendorapi.NotFound:
		connectors.Report(ctx, "account no longer found; %s", noSessionAPI)
		return offboard.NotFound, true, nil
	case ok && e.Status == http.StatusForbidden && strings.Contains(e.Msg, "forbidden.unclaimedDomain"):
		connectors.Report(ctx, "%s", notManaged(e.Msg))
		return offboard.ManualRequired, true, nil
	}
	return "", true, err
}

// notManaged is the detail for an account the organization does not
// manage; why is the vendor's answer, if any.
func notManaged(why string) string {
	s := "the account is not managed by the organization (its email domain is not verified), so its API tokens cannot be deleted nor the account disabled by API: " +
		"remove the person's app access in Atlassian Administration; " + noSessionAPI
	if why != "" {
		s += " (" + why + ")"
	}
	return s
}

// find is POST /admin/v2/orgs/{orgId}/directories/-/users/search with the
// email for an exact match, across every directory the key manages
// [org-users]. The answer is checked again here, so a server that ignores
// the filter touches no one else. It returns nil when no account has the
// email, and a permanent error when more than one has. An exact match
// finds one account per address, so one page is read.
func (c *Connector) find(ctx context.Context, email string) (*member, error) {
	var page struct {
		Data []member `json:"data"`
	}
	body := map[string]any{"emails": []string{email}, "limit": 10}
	path := "/admin/v2/orgs/" + url.PathEscape(c.org) + "/directories/-/users/search"
	if _, err := c.api.Do(ctx, vendorapi.Request{Method: http.MethodPost, Path: path, Body: body}, &page); err != nil {
		return nil, hint(err)
	}
	var found []member
	for _, m := range page.Data {
		if m.AccountID == "" || !strings.EqualFold(strings.TrimSpace(m.Email), email) {
			continue
		}
		if len(found) == 0 || found[0].AccountID != m.AccountID {
			found = append(found, m)
		}
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		return &found[0], nil
	}
	ids := make([]string, len(found))
	for i, m := range found {
		ids[i] = m.AccountID
	}
	return nil, &vendorapi.Error{System: c.name, Kind: vendorapi.Invalid,
		Msg: fmt.Sprintf("%d accounts have the email (ids %s); act on the right one by hand", len(found), strings.Join(ids, ", "))}
}

// tokens is GET /users/{account_id}/manage/api-tokens [um-tokens].
func (c *Connector) tokens(ctx context.Context, user string) ([]apiToken, error) {
	var list []apiToken
	_, err := c.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: user + "/api-tokens"}, &list)
	return list, err
}

// deactivate is POST /users/{account_id}/manage/lifecycle/disable with a
// message [um-lifecycle], unless status already says the account cannot
// sign in. It returns the detail's words for the account.
func (c *Connector) deactivate(ctx context.Context, user, status string) (string, error) {
	if deactivated(status) {
		return "account already " + status, nil
	}
	body := map[string]string{"message": disableMessage}
	if _, err := c.api.Do(ctx, vendorapi.Request{Method: http.MethodPost, Path: user + "/lifecycle/disable", Body: body}, nil); err != nil {
		return "", err
	}
	return "account disabled (no new sign-in)", nil
}

// readBack lists the API tokens again and, with disable, reads the
// account's status, GET /users/{account_id}/manage/profile [um-profile],
// both at once.
func (c *Connector) readBack(ctx context.Context, user string) ([]apiToken, string, error) {
	var left []apiToken
	var profile struct {
		Account struct {
			Status string `json:"account_status"`
		} `json:"account"`
	}
	calls := []func(context.Context) error{func(ctx context.Context) error {
		var err error
		left, err = c.tokens(ctx, user)
		return err
	}}
	if c.disable {
		calls = append(calls, func(ctx context.Context) error {
			_, err := c.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: user + "/profile"}, &profile)
			return err
		})
	}
	err := vendorapi.Concurrently(ctx, calls...)
	return left, profile.Account.Status, err
}

// Check is the cheapest authenticated read, GET /admin/v1/orgs/{orgId}
// [orgs]: a bad key is a vendorapi.Auth error (401), a wrong org_id a
// vendorapi.NotFound one naming org_id.
func (c *Connector) Check(ctx context.Context) error {
	_, err := c.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: "/admin/v1/orgs/" + url.PathEscape(c.org)}, nil)
	return hint(err)
}

// hint adds to a 404 of an organization path what to check: the org id.
func hint(err error) error {
	if e, ok := errors.AsType[*vendorapi.Error](err); ok && e.Kind == vendorapi.NotFound {
		e.Msg += orgHint
	}
	return err
}
