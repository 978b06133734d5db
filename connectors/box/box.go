// Package box is the box connector: it finds a person's Box user by login
// and asks Box to terminate every session of that user. Box ends them in
// an asynchronous job and offers nothing to read back, so a revoke is
// acknowledged, never verified.
package box

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// Box's documentation, cited below by these names:
//
//	[ccg]         https://developer.box.com/guides/authentication/client-credentials/
//	              (grant_type=client_credentials, client_id, client_secret; box_subject_type=enterprise
//	              and box_subject_id=<enterprise id> for the app's service account)
//	[token]       https://developer.box.com/reference/post-oauth2-token/
//	[users]       https://developer.box.com/reference/get-users/
//	              (filter_term: users whose name or login start with it; user_type=all returns an
//	              external user only on a whole-login match; offset/limit, limit at most 1000)
//	[terminate]   https://developer.box.com/reference/post-users-terminate-sessions/
//	              and https://github.com/box/box-openapi/blob/main/content/paths/session_termination__post_users_terminate_sessions.yml
//	              (user_ids and user_logins, both required; "creates asynchronous jobs to terminate
//	              the user's sessions"; 202 {"message":"Request is successful, please check the admin
//	              events for the status of the job"}; 400, 403, 404, 429, 500, 503 as ClientError)
//	[client-error] https://developer.box.com/reference/resources/client-error/
//	              ({"type":"error","status","code","message","context_info","help_url","request_id"})
//	[rate-limits] https://developer.box.com/guides/api-calls/permissions-and-errors/rate-limits/
//	              (about 1000 API requests per minute per user; 429 with retry-after and
//	              code rate_limit_exceeded)

const (
	defaultBaseURL = "https://api.box.com"
	apiPath        = "/2.0"
	tokenPath      = "/oauth2/token"
	// pageSize is the largest page of users Box answers [users].
	pageSize = 1000
	// maxPages bounds the pages of one lookup: logins that start with a
	// whole address are few.
	maxPages = 5
)

// Config is the settings of a box connector: a Platform App with
// "Server Authentication (Client Credentials Grant)", App + Enterprise
// Access, the "Manage users" scope, authorized in the Admin Console; its
// service account must be allowed to manage users [ccg][terminate].
type Config struct {
	// ClientID and ClientSecret are the app's.
	ClientID     string           `json:"client_id"`
	ClientSecret vendorapi.Secret `json:"client_secret"`
	// EnterpriseID is the enterprise whose service account the token is
	// issued for (box_subject_type=enterprise) [ccg].
	EnterpriseID string `json:"enterprise_id"`
	// BaseURL is the API root, https://api.box.com by default; the
	// connector adds /2.0.
	BaseURL string `json:"base_url"`
	// TokenURL is the token endpoint; empty means base_url's
	// /oauth2/token, which is https://api.box.com/oauth2/token by default
	// [token].
	TokenURL string `json:"token_url"`
}

func (c *Config) baseURL() string {
	if c.BaseURL != "" {
		return c.BaseURL
	}
	return defaultBaseURL
}

func (c *Config) tokenURL() string {
	if c.TokenURL != "" {
		return c.TokenURL
	}
	return strings.TrimSuffix(c.baseURL(), "/") + tokenPath
}

// Validate reports every problem with the settings, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	if c.ClientID == "" {
		errs = append(errs, vendorapi.FieldErr("client_id", "required"))
	}
	if c.ClientSecret == "" {
		errs = append(errs, vendorapi.FieldErr("client_secret", "required"))
	}
	if _, err := strconv.ParseUint(c.EnterpriseID, 10, 64); err != nil {
		errs = append(errs, vendorapi.FieldErr("enterprise_id", "required: the enterprise's numeric id, from the Admin Console's Account & Billing page"))
	}
	if c.BaseURL != "" {
		if err := vendorapi.CheckURL(c.BaseURL); err != nil {
			errs = append(errs, vendorapi.KeyErr("base_url", err))
		} else if u, _ := url.Parse(c.BaseURL); strings.Contains(u.Path+"/", apiPath+"/") {
			errs = append(errs, vendorapi.FieldErr("base_url", "give the API root without /2.0, e.g. https://api.box.com"))
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
	// [ccg]: the service account's token; a wrong client is 400
	// invalid_client ("The client credentials are invalid"), a wrong
	// enterprise 400 invalid_grant ("Grant credentials are invalid"), an
	// app without App + Enterprise Access 400 unauthorized_client — the
	// shared client classifies the first two as vendorapi.Auth.
	token := vendorapi.ClientCredentials(c.ClientID, c.ClientSecret, c.tokenURL(), nil,
		url.Values{"box_subject_type": {"enterprise"}, "box_subject_id": {c.EnterpriseID}})
	api, err := vendorapi.NewClient(name, c.baseURL(), d.HTTPClient, vendorapi.ClientOptions{
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

// Connector terminates a person's Box sessions.
type Connector struct {
	name string
	api  *vendorapi.Client
}

var (
	_ connectors.Connector = (*Connector)(nil)
	_ connectors.Checker   = (*Connector)(nil)
)

// Name returns the configured connector name.
func (b *Connector) Name() string { return b.name }

// user is the part of a Box user the connector reads [users].
type user struct {
	ID    string `json:"id"`
	Login string `json:"login"`
}

// usersPage is one page of GET /2.0/users [users].
type usersPage struct {
	TotalCount int    `json:"total_count"`
	Entries    []user `json:"entries"`
}

// Revoke asks Box to terminate every session of the user whose login is
// the subject's email: Acknowledged once Box has taken the job (it runs
// asynchronously and its result is only in the admin events), NotFound
// when no user has that login.
func (b *Connector) Revoke(ctx context.Context, s offboard.Subject) (offboard.Outcome, error) {
	email := strings.TrimSpace(s.Email)
	if email == "" {
		return "", &vendorapi.Error{System: b.name, Kind: vendorapi.Invalid, Msg: "subject has no email"}
	}
	users, err := b.find(ctx, email)
	if err != nil {
		return "", err
	}
	if len(users) == 0 {
		return offboard.NotFound, nil
	}
	body := struct {
		UserIDs    []string `json:"user_ids"`
		UserLogins []string `json:"user_logins"`
	}{}
	for _, u := range users {
		body.UserIDs, body.UserLogins = append(body.UserIDs, u.ID), append(body.UserLogins, u.Login)
	}
	// [terminate]: POST /2.0/users/terminate_sessions, 202. Both lists are
	// required; they name the same users.
	var msg struct {
		Message string `json:"message"`
	}
	if _, err := b.api.Do(ctx, vendorapi.Request{Method: http.MethodPost, Path: apiPath + "/users/terminate_sessions", Body: body}, &msg); err != nil {
		return "", err
	}
	b.api.Logger(ctx).Info().Str("connector", b.name).Strs("box_user_ids", body.UserIDs).Msg("box session termination requested")
	connectors.Report(ctx, "Box took a job to terminate every session of user %s; it runs asynchronously and cannot be read back here (its result is in Box's admin events)",
		strings.Join(body.UserIDs, ", "))
	return offboard.Acknowledged, nil
}

// find is GET /2.0/users?filter_term=…&user_type=all [users], page by page:
// Box matches the start of a name or login, so only users whose login is
// the whole address are kept.
func (b *Connector) find(ctx context.Context, email string) ([]user, error) {
	var users []user
	for page := range maxPages {
		q := url.Values{"filter_term": {email}, "user_type": {"all"}, "fields": {"id,login"},
			"limit": {strconv.Itoa(pageSize)}, "offset": {strconv.Itoa(page * pageSize)}}
		var p usersPage
		if _, err := b.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: apiPath + "/users", Query: q}, &p); err != nil {
			return nil, err
		}
		for _, u := range p.Entries {
			if u.ID != "" && strings.EqualFold(u.Login, email) {
				users = append(users, u)
			}
		}
		if len(p.Entries) < pageSize || (page+1)*pageSize >= p.TotalCount {
			return users, nil
		}
	}
	return users, nil
}

// Check is the cheapest authenticated read that needs the permission to
// look up the enterprise's users: GET /2.0/users?limit=1 [users].
func (b *Connector) Check(ctx context.Context) error {
	var p usersPage
	_, err := b.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: apiPath + "/users",
		Query: url.Values{"limit": {"1"}, "fields": {"id"}}}, &p)
	return err
}

// readError reads Box's ClientError [client-error] into one short line:
// "code: message", with context_info's message and the request_id Box
// support asks for; "" for a body that is not one.
func readError(body []byte) string { return vendorapi.AsRead(decodeError(body)) }

// decodeError is readError before invalid UTF-8 is put back as read.
func decodeError(body []byte) string {
	var e struct {
		Type        string `json:"type"`
		Code        string `json:"code"`
		Message     string `json:"message"`
		RequestID   string `json:"request_id"`
		ContextInfo struct {
			Message string `json:"message"`
		} `json:"context_info"`
	}
	if json.Unmarshal(body, &e) != nil || e.Type != "error" {
		return ""
	}
	out := e.Code
	for _, s := range []string{e.Message, e.ContextInfo.Message} {
		if s != "" && out != "" {
			out += ": " + s
		} else if s != "" {
			out = s
		}
	}
	if e.RequestID != "" {
		out += " (request_id " + e.RequestID + ")"
	}
	return out
}
