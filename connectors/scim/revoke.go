package scim

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

// Connector deactivates a person's account in one SCIM 2.0 service
// provider and reads back that it is inactive.
type Connector struct {
	name       string
	api        *vendorapi.Client
	disableFor connectors.DisableFor
	patch      string // PatchPath or PatchValue
}

var (
	_ connectors.Connector = (*Connector)(nil)
	_ connectors.Checker   = (*Connector)(nil)
)

const (
	// deactivated is the detail of a deactivation: SCIM has no session
	// resource, and Lucid's deactivation does not end sessions; its
	// "Log out user" is not in its API [lucid-sessions].
	deactivated = "account deactivated; live sessions are not ended by this API"
	// baseURLHint is added to a 404 of the user search.
	baseURLHint = "; check base_url: it is the SCIM base URL with its version, e.g. https://users.lucid.app/scim/v2"
	patchOp     = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
)

// user is the part of the SCIM User resource the connector reads
// [rfc7643 §4.1]. Active is nil when the server leaves it out.
type user struct {
	ID       string `json:"id"`
	UserName string `json:"userName"`
	Emails   []struct {
		Value string `json:"value"`
	} `json:"emails"`
	Active *bool `json:"active"`
}

// inactive reports whether u reads active:false.
func (u user) inactive() bool { return u.Active != nil && !*u.Active }

// has reports whether u's attr (userName or emails.value) is email, in any
// case: both are case-insensitive in the User schema [rfc7643 §4.1].
func (u user) has(attr, email string) bool {
	if attr == "userName" {
		return strings.EqualFold(u.UserName, email)
	}
	for _, e := range u.Emails {
		if strings.EqualFold(e.Value, email) {
			return true
		}
	}
	return false
}

// listResponse is a query's answer [rfc7644 §3.4.2].
type listResponse struct {
	TotalResults int    `json:"totalResults"`
	Resources    []user `json:"Resources"`
}

// Name returns the configured connector name.
func (c *Connector) Name() string { return c.name }

// Revoke finds the subject's account by userName, then by email, and, when
// the subject's reason is in disable_for, deactivates it and reads it back:
// Verified when it reads active:false (already inactive: no PATCH),
// Acknowledged when the server took the PATCH but still reads it active,
// NotFound when no account has the email, Skipped (no PATCH) for a reason
// not in disable_for. Two accounts matching is a permanent error: which one
// is the person's is for a person to say. The detail says that live
// sessions are not ended: SCIM has no call for that [lucid-sessions].
func (c *Connector) Revoke(ctx context.Context, s offboard.Subject) (offboard.Outcome, error) {
	email := strings.TrimSpace(s.Email)
	if email == "" {
		return "", &vendorapi.Error{System: c.name, Kind: vendorapi.Invalid, Msg: "subject has no email"}
	}
	u, err := c.find(ctx, email)
	switch {
	case err != nil:
		return "", err
	case u == nil:
		return offboard.NotFound, nil
	}
	if !c.disableFor.Allows(s.Reason) {
		connectors.Report(ctx, "%s", c.disableFor.Skipped("account not deactivated", s.Reason))
		return offboard.Skipped, nil
	}
	if u.inactive() {
		connectors.Report(ctx, "account already deactivated; live sessions are not ended by this API")
		return offboard.Verified, nil
	}
	path := "/Users/" + url.PathEscape(u.ID)
	if err := c.deactivate(ctx, path); err != nil {
		if c.gone(ctx, path, err) {
			return offboard.NotFound, nil
		}
		return "", err
	}
	log := c.api.Logger(ctx).With().Str("connector", c.name).Str("scim_user_id", u.ID).Logger()
	log.Info().Msg("scim user deactivated")

	// [rfc7644 §3.4.1] GET /Users/{id}: the resource as it is now.
	var back user
	_, err = c.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: path}, &back)
	switch {
	case vendorapi.IsKind(err, vendorapi.NotFound):
		connectors.Report(ctx, "account deactivated, then no longer found")
		return offboard.NotFound, nil
	case err != nil:
		return "", err
	case back.inactive():
		connectors.Report(ctx, deactivated)
		return offboard.Verified, nil
	}
	log.Warn().Msg("scim deactivation taken but the user still reads active")
	connectors.Report(ctx, "deactivation sent, but the account still reads active; live sessions are not ended by this API")
	return offboard.Acknowledged, nil
}

// find is GET /Users?filter=userName eq "<email>" and, when that finds no
// one, filter=emails.value eq "<email>" [rfc7644 §3.4.2.2]; eq is the one
// operator Lucid supports, on these attributes among its optimised ones
// [lucid-users]. The answer is checked again here, so a server that ignores
// the filter deactivates no one else. It returns nil when no account has
// the email, and a permanent error when more than one has.
func (c *Connector) find(ctx context.Context, email string) (*user, error) {
	for _, attr := range []string{"userName", "emails.value"} {
		filter := attr + ` eq "` + quote(email) + `"`
		var list listResponse
		if _, err := c.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: "/Users", Query: url.Values{"filter": {filter}}}, &list); err != nil {
			return nil, hint(err)
		}
		var found []user
		for _, u := range list.Resources {
			if u.ID != "" && u.has(attr, email) {
				found = append(found, u)
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return &found[0], nil
		}
		ids := make([]string, len(found))
		for i, u := range found {
			ids[i] = u.ID
		}
		return nil, &vendorapi.Error{System: c.name, Kind: vendorapi.Invalid,
			Msg: fmt.Sprintf("%d users match %s (ids %s); deactivate the right one by hand", len(found), filter, strings.Join(ids, ", "))}
	}
	return nil, nil
}

// deactivate is PATCH /Users/{id} replacing active with false [rfc7644
// §3.5.2.3], in the configured form [lucid-patch]. 200 with the resource
// or 204 [rfc7644 §3.5.2]; neither is read: the GET after it is.
func (c *Connector) deactivate(ctx context.Context, path string) error {
	op := map[string]any{"op": "replace", "path": "active", "value": false}
	if c.patch == PatchValue {
		op = map[string]any{"op": "replace", "value": map[string]bool{"active": false}}
	}
	body := map[string]any{"schemas": []string{patchOp}, "Operations": []any{op}}
	_, err := c.api.Do(ctx, vendorapi.Request{Method: http.MethodPatch, Path: path, Body: body}, nil)
	return err
}

// gone reports whether the PATCH failed with err because the user no
// longer exists: a 404 [rfc7644 §3.12], or Lucid's 403 "if the user does
// not exist" [lucid-patch][lucid-errors], which a GET of the user then
// answers 404. A 403 for a user that is still there stays an auth error.
func (c *Connector) gone(ctx context.Context, path string, err error) bool {
	e, ok := errors.AsType[*vendorapi.Error](err)
	switch {
	case !ok:
		return false
	case e.Kind == vendorapi.NotFound:
		return true
	case e.Status != http.StatusForbidden:
		return false
	}
	_, gerr := c.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: path}, nil)
	return vendorapi.IsKind(gerr, vendorapi.NotFound)
}

// Check is the cheapest authenticated read, GET /Users?startIndex=1&count=1
// [rfc7644 §3.4.2.4][lucid-users]: a bad token is a vendorapi.Auth error
// (401), a wrong base_url a vendorapi.NotFound one naming base_url.
// GET /ServiceProviderConfig [rfc7644 §4] is not used: whether a server
// wants a token for it is the server's choice, so it may not test one.
func (c *Connector) Check(ctx context.Context) error {
	var list listResponse
	q := url.Values{"startIndex": {"1"}, "count": {"1"}}
	_, err := c.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: "/Users", Query: q}, &list)
	return hint(err)
}

// hint adds to a 404 of the user search what to check: /Users is below
// every SCIM base URL, so a 404 there means base_url is wrong.
func hint(err error) error {
	if e, ok := errors.AsType[*vendorapi.Error](err); ok && e.Kind == vendorapi.NotFound {
		e.Msg += baseURLHint
	}
	return err
}

// quote escapes s for a filter's compValue, a JSON string [rfc7644
// §3.4.2.2]: a backslash and a double quote are escaped, so an address
// cannot end the string and add to the filter.
func quote(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}
