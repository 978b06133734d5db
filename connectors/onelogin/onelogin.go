// Package onelogin is the onelogin connector: it ends a person's OneLogin
// sessions.
package onelogin

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

// OneLogin's documentation, cited below by these names:
//
//	[tokens]      https://developers.onelogin.com/api-docs/2/oauth20-tokens/generate-tokens-2
//	[credentials] https://developers.onelogin.com/api-docs/1/getting-started/working-with-api-credentials
//	[list-users]  https://developers.onelogin.com/api-docs/2/users/list-users
//	[query]       https://developers.onelogin.com/api-docs/2/getting-started/using-query-parameters
//	[logout]      https://developers.onelogin.com/api-docs/1/users/log-user-out
//	[rate]        https://developers.onelogin.com/api-docs/2/oauth20-tokens/get-rate-limit
//	[v2-errors]   https://developers.onelogin.com/api-docs/2/apps/list-users (sample 401 and 422 bodies)
//	[v2-users]    https://github.com/onelogin/onelogin-python-sdk/blob/main/.github/python/docs/apis/tags/UsersV2Api.md
//	              (the Users v2 operations: list, get, create, update, delete, apps; no logout)

const (
	tokenPath = "/auth/oauth2/v2/token"
	usersPath = "/api/2/users"
	scopeHint = "; onelogin also answers 401 to a credential without the manage users or manage all scope"
)

// Config is the settings of a onelogin connector: an API credential
// pair (Developers > API Credentials) with the "Manage users" scope, which
// both reads users and logs them out [credentials][logout].
//
// API credentials belong to the admin who created them: once that admin is
// deleted, the token endpoint answers 500 [tokens], which is retried like
// any server error until a person creates new credentials.
type Config struct {
	// BaseURL is the account's API host without /api, e.g.
	// https://example.onelogin.com, as the API v2 documentation gives it
	// [list-users]; the older regional hosts (https://api.us.onelogin.com,
	// https://api.eu.onelogin.com) serve the same paths [tokens].
	BaseURL string `json:"base_url"`
	// ClientID and ClientSecret are the API credential pair.
	ClientID     string           `json:"client_id"`
	ClientSecret vendorapi.Secret `json:"client_secret"`
	// TokenURL is the Generate Tokens v2 endpoint; empty means
	// BaseURL + "/auth/oauth2/v2/token" [tokens].
	TokenURL string `json:"token_url"`
}

// Validate reports every problem with the settings, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	if err := vendorapi.CheckURL(c.BaseURL); err != nil {
		errs = append(errs, vendorapi.KeyErr("base_url", err))
	} else if u, _ := url.Parse(c.BaseURL); strings.Contains(u.Path+"/", "/api/") || strings.Contains(u.Path+"/", "/auth/") {
		// With /api/2 here every path would 404.
		errs = append(errs, vendorapi.FieldErr("base_url", "give the api host without /api or /auth, e.g. https://example.onelogin.com"))
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
	return errors.Join(errs...)
}

// Open returns the *Connector named name.
func (c *Config) Open(name string, d connectors.Deps) (connectors.Connector, error) {
	tokenURL := c.TokenURL
	if tokenURL == "" {
		tokenURL = strings.TrimSuffix(c.BaseURL, "/") + tokenPath
	}
	// [tokens]: Generate Tokens v2 follows RFC 6749 and takes
	// grant_type=client_credentials with client_id and client_secret as an
	// application/x-www-form-urlencoded body, which is what x/oauth2 sends
	// with the credentials in the params. The answer is a bearer token for
	// ten hours (expires_in 36000).
	token := vendorapi.ClientCredentials(c.ClientID, c.ClientSecret, tokenURL, nil, nil)
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

// Connector ends a person's OneLogin sessions.
type Connector struct {
	name string
	api  *vendorapi.Client
}

var (
	_ connectors.Connector = (*Connector)(nil)
	_ connectors.Checker   = (*Connector)(nil)
)

// account is the part of OneLogin's user the connector reads
// [list-users]; ids are integers.
type account struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
}

// Name returns the configured connector name.
func (o *Connector) Name() string { return o.name }

// Revoke logs out every OneLogin user whose email is the subject's: their
// OneLogin session ends, so they can no longer reach the portal or start a
// new SAML or OpenID Connect sign-in [logout]. It answers Acknowledged,
// because OneLogin offers no read-back of a user's sessions, or NotFound
// when no user has the email. Sessions that applications already opened
// through single sign-on are theirs and are not ended here [logout].
//
// An email holding "*" is refused as vendorapi.Invalid before any call: the user
// search reads "*" as a wildcard [query], so the address cannot be looked
// up exactly.
func (o *Connector) Revoke(ctx context.Context, s offboard.Subject) (offboard.Outcome, error) {
	email := strings.TrimSpace(s.Email)
	switch {
	case email == "":
		return "", &vendorapi.Error{System: o.name, Kind: vendorapi.Invalid, Msg: "subject has no email"}
	case strings.Contains(email, "*"):
		return "", &vendorapi.Error{System: o.name, Kind: vendorapi.Invalid,
			Msg: "the email holds \"*\", which the onelogin user search reads as a wildcard; log the user out by hand"}
	}
	// [list-users] GET /api/2/users?email=…: an exact match unless the value
	// holds a wildcard [query]; fields keeps the answer small [query]. It
	// answers a JSON array, empty when nobody matches, at most 50 users a
	// page; an email matches far fewer. The match is checked again here.
	var found []account
	q := url.Values{"email": {email}, "fields": {"id,email"}}
	if _, err := o.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: usersPath, Query: q}, &found); err != nil {
		return "", err
	}
	result := offboard.NotFound
	for _, u := range found {
		if u.ID == 0 || !strings.EqualFold(u.Email, email) {
			continue
		}
		switch err := o.logout(ctx, u.ID); {
		case err == nil:
			result = offboard.Acknowledged
		case !vendorapi.IsKind(err, vendorapi.NotFound):
			return "", err
		}
		// 404: deleted since the lookup; nothing is left to end.
	}
	return result, nil
}

// logout is PUT /api/1/users/{id}/logout [logout], the documented call:
// the Users v2 API has no logout of its own [v2-users]. OneLogin answers 200 with
// a success status; 404 when no user has the id; 401 "Insufficient
// Permission" when the credential lacks the Manage users or Manage All
// scope, and 403 when it may not touch this user, both vendorapi.Auth errors a
// person must act on [logout]. A 429 carries X-RateLimit-Reset, the
// seconds left until the limit resets [rate], which the shared classifier
// reads as delta-seconds.
func (o *Connector) logout(ctx context.Context, id int64) error {
	_, err := o.api.Do(ctx, vendorapi.Request{Method: http.MethodPut, Path: "/api/1/users/" + strconv.FormatInt(id, 10) + "/logout"}, nil)
	if e, ok := errors.AsType[*vendorapi.Error](err); ok && e.Status == http.StatusUnauthorized {
		e.Msg += scopeHint
	}
	if err == nil {
		o.api.Logger(ctx).Info().Str("connector", o.name).Int64("onelogin_user_id", id).Msg("onelogin user logged out")
	}
	return err
}

// Check is the cheapest authenticated read, GET /api/2/users?limit=1&fields=id
// [list-users][query]: it fails with a vendorapi.Auth *vendorapi.Error when the token endpoint
// rejects the credential pair (401) or the credential may not read users.
func (o *Connector) Check(ctx context.Context) error {
	var users []account
	q := url.Values{"limit": {"1"}, "fields": {"id"}}
	_, err := o.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: usersPath, Query: q}, &users)
	return err
}

// readError reads OneLogin's error bodies into one short line. API v2
// answers {"statusCode":401,"name":"UnauthorizedError","message":"…"}
// [v2-errors]; API v1 answers {"status":{"error":true,"code":401,
// "type":"Unauthorized","message":"…"}}, whose message may instead be
// {"attribute":"id","description":"…"} [logout]; the token endpoint may
// answer OAuth's {"error":"…","error_description":"…"} [tokens].
func readError(body []byte) string { return vendorapi.AsRead(decodeError(body)) }

// decodeError is readError before invalid UTF-8 is put back as read.
func decodeError(body []byte) string {
	var e struct {
		Name    string          `json:"name"`
		Message json.RawMessage `json:"message"`
		Status  *struct {
			Type    string          `json:"type"`
			Message json.RawMessage `json:"message"`
		} `json:"status"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	join := func(a, b string) string { return strings.TrimSuffix(strings.TrimPrefix(a+": "+b, ": "), ": ") }
	switch {
	case e.Status != nil:
		return join(e.Status.Type, errorText(e.Status.Message))
	case e.Name != "" || len(e.Message) > 0:
		return join(e.Name, errorText(e.Message))
	}
	return join(e.Error, e.Description)
}

// errorText is a message that is a string, or an {"attribute",
// "description"} object, as one line.
func errorText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var m struct {
		Attribute   string `json:"attribute"`
		Description string `json:"description"`
	}
	if json.Unmarshal(raw, &m) == nil {
		return strings.TrimPrefix(m.Attribute+": "+m.Description, ": ")
	}
	return ""
}
