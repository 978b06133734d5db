// Package zendesk is the zendesk connector: it signs a person out of every
// Zendesk Support session through the Sessions API ("Bulk delete
// sessions") and lists the sessions again to verify that none is left.
package zendesk

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// Zendesk's documentation, cited below by these names:
//
//	[auth]      https://developer.zendesk.com/api-reference/introduction/security-and-auth/
//	            (API token: Basic base64("{email_address}/token:{api_token}"))
//	[search]    https://developer.zendesk.com/api-reference/ticketing/users/users/#search-users
//	[me]        https://developer.zendesk.com/api-reference/ticketing/users/users/#show-self
//	[users]     https://developer.zendesk.com/api-reference/ticketing/users/users/ (JSON format: email, role, active)
//	[sessions]  https://developer.zendesk.com/api-reference/ticketing/account-configuration/sessions/
//	            (#bulk-delete-sessions, #list-sessions)
//	[paths]     https://developer.zendesk.com/api-reference/introduction/doc-conventions/ ("The .json
//	            extension is optional. If you omit it, you must include a Content-Type:
//	            application/json header in PUT, POST, and DELETE requests": every path here
//	            carries it, so a DELETE without a body needs no Content-Type)
//	[errors]    https://developer.zendesk.com/api-reference/introduction/requests/ (error bodies:
//	            {"error":"RecordNotFound","description":"Not found"}, {"error":"Couldn't
//	            authenticate you"}, {"error":{"title":"Forbidden","message":"…"}})
//	[rate]      https://developer.zendesk.com/api-reference/introduction/rate-limits/ and
//	            https://developer.zendesk.com/documentation/ticketing/using-the-zendesk-api/best-practices-for-avoiding-rate-limiting/
//	            (200 to 2500 requests a minute by plan; over it, 429 with Retry-After
//	            in seconds and a text/plain body)
//
// Rate limits: a revoke costs three calls per matching user. A 429 carries
// Retry-After [rate]; the shared client sits out a wait of up to
// vendorapi.MaxShortWait inside the attempt and hands a longer one back to
// the queue, which retries after it without counting a failure.

const notFoundHint = "; check that base_url is the account's https://{subdomain}.zendesk.com"

// Config is the settings of a zendesk connector: an API token of an admin
// [auth]. Only an admin sees and ends another user's sessions: an agent or
// end user listing sessions sees only their own [sessions].
type Config struct {
	// BaseURL is the account, e.g. https://example.zendesk.com (or its
	// host-mapped domain), without /api/v2.
	BaseURL string `json:"base_url"`
	// Email is the admin's address the API token is used as.
	Email string `json:"email"`
	// Token is the API token (Admin Center > Apps and integrations > Zendesk
	// API), sent as Basic "{email}/token:{token}" [auth].
	Token vendorapi.Secret `json:"token"`
}

// Validate reports every problem with the settings, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	if err := vendorapi.CheckURL(c.BaseURL); err != nil {
		errs = append(errs, vendorapi.KeyErr("base_url", err))
	} else if u, _ := url.Parse(c.BaseURL); strings.Contains(u.Path+"/", "/api/") {
		errs = append(errs, vendorapi.FieldErr("base_url", "give the account's root without /api/v2, e.g. https://example.zendesk.com"))
	}
	switch {
	case c.Email == "":
		errs = append(errs, vendorapi.FieldErr("email", "required"))
	case !strings.Contains(c.Email, "@") || strings.ContainsAny(c.Email, " /:"):
		errs = append(errs, vendorapi.FieldErr("email", "must be the admin's email address the API token belongs to, without /token"))
	}
	if c.Token == "" {
		errs = append(errs, vendorapi.FieldErr("token", "required"))
	}
	return errors.Join(errs...)
}

// Open returns the *Connector named name.
func (c *Config) Open(name string, d connectors.Deps) (connectors.Connector, error) {
	token := string(c.Token)
	basic := base64.StdEncoding.EncodeToString([]byte(c.Email + "/token:" + token))
	api, err := vendorapi.NewClient(name, c.BaseURL, d.HTTPClient, vendorapi.ClientOptions{
		Auth:        func(h http.Header) { h.Set("Authorization", "Basic "+basic) },
		VendorError: readError,
		Secrets:     []string{token, basic},
		Logger:      d.Logger,
	})
	if err != nil {
		return nil, err
	}
	return &Connector{name: name, api: api}, nil
}

// Connector signs a person out of every Zendesk session.
type Connector struct {
	name string
	api  *vendorapi.Client
}

var (
	_ connectors.Connector = (*Connector)(nil)
	_ connectors.Checker   = (*Connector)(nil)
)

// user is the part of Zendesk's user object the connector reads [users].
type user struct {
	ID     *int64 `json:"id"` // null for the anonymous user of /users/me [me]
	Email  string `json:"email"`
	Role   string `json:"role"`
	Active bool   `json:"active"`
}

// Name returns the configured connector name.
func (z *Connector) Name() string { return z.name }

// Revoke signs out every user whose primary email is the subject's: it
// deletes all their sessions [sessions] and lists them again. Verified when
// none is listed, Acknowledged when a session is still listed or the
// listing is refused, NotFound when no user has the email.
//
// Deleting sessions signs the user out of Zendesk Support's web and mobile
// sessions [sessions]; it does not revoke OAuth access tokens issued to
// apps on the user's behalf, nor suspend the user, and the detail says so.
func (z *Connector) Revoke(ctx context.Context, s offboard.Subject) (offboard.Outcome, error) {
	email := strings.TrimSpace(s.Email)
	if email == "" {
		return "", &vendorapi.Error{System: z.name, Kind: vendorapi.Invalid, Msg: "subject has no email"}
	}
	users, err := z.find(ctx, email)
	if err != nil {
		return "", err
	}
	result := offboard.NotFound
	for _, id := range users {
		out, err := z.revokeUser(ctx, id)
		switch {
		case vendorapi.IsKind(err, vendorapi.NotFound):
			connectors.Report(ctx, "zendesk user %d was deleted before its sessions could be ended", id)
			continue
		case err != nil:
			return "", err
		case result == offboard.NotFound || out == offboard.Acknowledged:
			result = out
		}
	}
	if result == offboard.NotFound {
		connectors.Report(ctx, "no zendesk user has the primary email %s", email)
	} else {
		connectors.Report(ctx, "not ended: OAuth access tokens apps hold for the user; the user is not suspended")
	}
	return result, nil
}

// find is GET /api/v2/users/search.json?query=email:{email} [search]: Zendesk's
// search syntax matches the email field; the answer is checked again here
// so that only users whose primary email is exactly the subject's (in any
// case) are signed out. Deleted users (active false) have no sessions and
// are left out. A 404 means base_url is wrong, never "no such user".
func (z *Connector) find(ctx context.Context, email string) ([]int64, error) {
	var page struct {
		Users []user `json:"users"`
	}
	q := url.Values{"query": {"email:" + email}}
	if _, err := z.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: "/api/v2/users/search.json", Query: q}, &page); err != nil {
		return nil, z.hint(err)
	}
	var ids []int64
	for _, u := range page.Users {
		if u.ID != nil && u.Active && strings.EqualFold(strings.TrimSpace(u.Email), email) {
			ids = append(ids, *u.ID)
		}
	}
	return ids, nil
}

// revokeUser deletes the sessions of user id and lists them again. A 404 is
// a vendorapi.NotFound *vendorapi.Error: the user is gone.
func (z *Connector) revokeUser(ctx context.Context, id int64) (offboard.Outcome, error) {
	path := "/api/v2/users/" + strconv.FormatInt(id, 10) + "/sessions.json" // [paths]
	// [sessions] DELETE /api/v2/users/{user_id}/sessions, "Bulk delete
	// sessions": deletes all the user's sessions, 204 No Content. An admin
	// may call it for any user; a 403 means the token's user is not one.
	if _, err := z.api.Do(ctx, vendorapi.Request{Method: http.MethodDelete, Path: path}, nil); err != nil {
		return "", err
	}
	log := z.api.Logger(ctx).With().Str("connector", z.name).Int64("zendesk_user_id", id).Logger()
	log.Info().Msg("zendesk sessions deleted")

	// [sessions] GET /api/v2/users/{user_id}/sessions, "List sessions":
	// {"sessions":[…]}. The first page is enough: the question is whether
	// any session is left.
	var listed struct {
		Sessions []json.RawMessage `json:"sessions"`
	}
	_, err := z.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: path}, &listed)
	switch {
	case vendorapi.IsKind(err, vendorapi.Auth):
		connectors.Report(ctx, "ended every zendesk session of user %d; they could not be listed again (%s)", id, statusText(err))
		return offboard.Acknowledged, nil
	case err != nil:
		return "", err
	case len(listed.Sessions) > 0:
		connectors.Report(ctx, "ended the zendesk sessions of user %d, but %d still listed", id, len(listed.Sessions))
		return offboard.Acknowledged, nil
	}
	connectors.Report(ctx, "ended every zendesk session of user %d; none is listed", id)
	return offboard.Verified, nil
}

// Check is the cheapest authenticated read, GET /api/v2/users/me.json [me]. The
// endpoint answers even an anonymous caller, with a null id, so Check fails
// when the id is null (the credentials were not taken) or when the user is
// not an admin, who alone may end another user's sessions [sessions].
func (z *Connector) Check(ctx context.Context) error {
	var me struct {
		User user `json:"user"`
	}
	if _, err := z.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: "/api/v2/users/me.json"}, &me); err != nil {
		return z.hint(err)
	}
	switch {
	case me.User.ID == nil:
		return &vendorapi.Error{System: z.name, Kind: vendorapi.Auth,
			Msg: "GET /api/v2/users/me.json: answered as an anonymous user: check email and token"}
	case me.User.Role != "admin":
		return &vendorapi.Error{System: z.name, Kind: vendorapi.Auth,
			Msg: fmt.Sprintf("GET /api/v2/users/me.json: the token's user is %q, not an admin: only an admin can end another user's sessions", me.User.Role)}
	}
	return nil
}

// hint adds to a 404 what to check: Zendesk answers a path under the wrong
// host {"error":"InvalidEndpoint","description":"Not found"} [errors].
func (z *Connector) hint(err error) error {
	if e, ok := errors.AsType[*vendorapi.Error](err); ok && e.Kind == vendorapi.NotFound {
		e.Msg += notFoundHint
	}
	return err
}

// statusText names the HTTP status of err for a detail, e.g. "status 403".
func statusText(err error) string {
	if e, ok := errors.AsType[*vendorapi.Error](err); ok && e.Status != 0 {
		return "status " + strconv.Itoa(e.Status)
	}
	return "refused"
}

// readError reads Zendesk's error bodies into one short line [errors]:
// {"error":"RecordNotFound","description":"Not found"}, {"error":"Couldn't
// authenticate you"}, {"error":{"title":"Forbidden","message":"…"}}, and
// the plain text of a 429 [rate]. An HTML page (a proxy's) gives "".
func readError(body []byte) string { return vendorapi.AsRead(decodeError(body)) }

// decodeError is readError before invalid UTF-8 is put back as read.
func decodeError(body []byte) string {
	var e struct {
		Error       json.RawMessage `json:"error"`
		Description string          `json:"description"`
	}
	if json.Unmarshal(body, &e) != nil {
		text := strings.TrimSpace(string(body))
		if text == "" || strings.HasPrefix(text, "<") || strings.HasPrefix(text, "{") || strings.HasPrefix(text, "[") {
			return ""
		}
		return text
	}
	var code string
	var obj struct {
		Title   string `json:"title"`
		Message string `json:"message"`
	}
	switch {
	case json.Unmarshal(e.Error, &code) == nil:
	case json.Unmarshal(e.Error, &obj) == nil:
		code, e.Description = obj.Title, obj.Message
	}
	return strings.TrimSuffix(strings.TrimPrefix(code+": "+e.Description, ": "), ": ")
}
