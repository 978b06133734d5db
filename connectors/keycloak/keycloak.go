// Package keycloak is the keycloak connector: it logs a person out of every
// Keycloak session and revokes their offline tokens in one realm, through
// the Admin REST API, and reads back that they are gone.
package keycloak

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/offboarder/offboarder/connectors"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// Keycloak's documentation, cited below by these names:
//
//	[admin-api]    https://www.keycloak.org/docs-api/latest/rest-api/index.html
//	[users]        https://www.keycloak.org/docs-api/latest/rest-api/index.html#_users
//	[user-source]  https://github.com/keycloak/keycloak/blob/main/services/src/main/java/org/keycloak/services/resources/admin/UserResource.java
//	[server-admin] https://www.keycloak.org/docs/latest/server_admin/index.html
//	               (sections "Offline access", "Managing user sessions",
//	               "Using a service account", "Realm-specific admin permissions")
//	[sessions]     https://docs.redhat.com/en/documentation/red_hat_build_of_keycloak/26.4/html/server_administration_guide/managing-user-sessions
//	[token]        https://www.keycloak.org/docs/latest/securing_apps/index.html (client credentials grant)
//	[quarkus]      https://www.keycloak.org/migration/migrating-to-quarkus ("/auth removed from the default context path")
//	[rel-path]     https://www.keycloak.org/server/all-config (http-relative-path)

const (
	adminPath    = "/admin/realms/"
	offlineGrant = "Offline Token" // the additionalGrants key of a client holding the user's offline tokens [user-source]
	notFoundHint = "; check realm, and that base_url includes /auth when the server uses the legacy context path"
)

// Config is the settings of a keycloak connector: a confidential
// OpenID Connect client with "Service accounts roles" on (the client
// credentials grant [server-admin]) whose service account holds the
// realm-management client roles manage-users (to log users out and revoke
// their offline tokens) and view-users (to find users and read their
// sessions and consents back) [server-admin]. Keycloak is self-hosted and
// documents no API rate limit, so a keycloak connector has none unless
// rate_limit sets one.
type Config struct {
	// BaseURL is the server root, e.g. https://sso.example.com, without
	// /admin or /realms. Keycloak 17 and later serve from "/" by default;
	// older servers, and newer ones started with --http-relative-path=/auth,
	// serve under /auth [quarkus][rel-path]: then base_url includes it,
	// e.g. https://sso.example.com/auth.
	BaseURL string `json:"base_url"`
	// Realm is the realm whose users are logged out (its name, not its id).
	Realm string `json:"realm"`
	// ClientID and ClientSecret are the service-account client's.
	ClientID     string           `json:"client_id"`
	ClientSecret vendorapi.Secret `json:"client_secret"`
	// TokenURL is the token endpoint; empty means
	// BaseURL + "/realms/{realm}/protocol/openid-connect/token" [token], the
	// realm's own. A client in the master realm that administers this one
	// sets it to master's token endpoint.
	TokenURL string `json:"token_url"`
}

func (c *Config) tokenURL() string {
	if c.TokenURL != "" {
		return c.TokenURL
	}
	return strings.TrimSuffix(c.BaseURL, "/") + "/realms/" + url.PathEscape(c.Realm) + "/protocol/openid-connect/token"
}

// Validate reports every problem with the settings, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	if err := vendorapi.CheckURL(c.BaseURL); err != nil {
		errs = append(errs, vendorapi.KeyErr("base_url", err))
	} else if u, _ := url.Parse(c.BaseURL); strings.Contains(u.Path+"/", "/admin/") || strings.Contains(u.Path+"/", "/realms/") {
		// With /admin or /realms here every path would 404.
		errs = append(errs, vendorapi.FieldErr("base_url", "give the server root without /admin or /realms, e.g. https://sso.example.com (with /auth if the server uses it)"))
	}
	switch {
	case c.Realm == "":
		errs = append(errs, vendorapi.FieldErr("realm", "required"))
	case strings.ContainsAny(c.Realm, "/\\") || strings.TrimSpace(c.Realm) != c.Realm:
		errs = append(errs, vendorapi.FieldErr("realm", "must be the realm's name, without slashes or surrounding spaces"))
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
	// [token]: POST {token_url} with grant_type=client_credentials; Keycloak's
	// "Client Id and Secret" authenticator takes the credentials in the form
	// or as HTTP Basic, so they go in the form, unescaped. A wrong secret is
	// 401 (unauthorized_client or invalid_client), an unknown realm 404
	// ("Realm does not exist"); the shared vendorapi.Client classifies both.
	token := vendorapi.ClientCredentials(c.ClientID, c.ClientSecret, c.tokenURL(), nil, nil)
	api, err := vendorapi.NewClient(name, c.BaseURL, d.HTTPClient, vendorapi.ClientOptions{
		Token:       token,
		VendorError: readError,
		Secrets:     []string{string(c.ClientSecret)},
		Logger:      d.Logger,
	})
	if err != nil {
		return nil, err
	}
	realm := strings.TrimSuffix(adminPath, "/") + "/" + url.PathEscape(c.Realm)
	return &Connector{name: name, api: api, realm: realm}, nil
}

// Connector logs a person out of every Keycloak session and revokes their
// offline tokens in one realm, through the Admin REST API.
type Connector struct {
	name  string
	api   *vendorapi.Client
	realm string // "/admin/realms/{realm}", escaped
}

var (
	_ connectors.Connector = (*Connector)(nil)
	_ connectors.Checker   = (*Connector)(nil)
)

// account is the part of Keycloak's UserRepresentation the connector
// reads [users].
type account struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email"`
}

// consent is one entry of GET …/users/{id}/consents [user-source]:
// a client the user consented to or holds offline tokens for.
type consent struct {
	ClientID         string `json:"clientId"`
	AdditionalGrants []struct {
		Key string `json:"key"`
	} `json:"additionalGrants"`
}

func (c consent) offline() bool {
	for _, g := range c.AdditionalGrants {
		if g.Key == offlineGrant {
			return true
		}
	}
	return false
}

// Name returns the configured connector name.
func (k *Connector) Name() string { return k.name }

// Revoke logs out every user of the realm whose email is the subject's and
// revokes their offline tokens, then reads both back: Verified when no
// user has a session or an offline token left, Acknowledged when something
// is still listed or the credentials may not read it back, NotFound when
// no user has the email.
//
// Logging out ends the user's online sessions and sets their not-before
// time, so refresh tokens issued before it are refused; offline sessions
// survive a logout [server-admin][user-source], so every client holding the
// user's offline tokens has its consent revoked as well, the documented
// way to revoke them [server-admin]. Access tokens already issued live until
// they expire [sessions]. Disabled users are logged out like anyone.
func (k *Connector) Revoke(ctx context.Context, s offboard.Subject) (offboard.Outcome, error) {
	email := strings.TrimSpace(s.Email)
	if email == "" {
		return "", &vendorapi.Error{System: k.name, Kind: vendorapi.Invalid, Msg: "subject has no email"}
	}
	users, err := k.find(ctx, email)
	if err != nil {
		return "", err
	}
	result := offboard.NotFound
	for _, u := range users {
		out, err := k.revokeUser(ctx, u)
		switch {
		case vendorapi.IsKind(err, vendorapi.NotFound):
			continue // deleted since the lookup; nothing is left to end
		case err != nil:
			return "", err
		case result == offboard.NotFound || out == offboard.Acknowledged:
			result = out
		}
	}
	return result, nil
}

// find is GET /admin/realms/{realm}/users?email=…&exact=true [users]: exact
// makes email match the whole address rather than a substring. Keycloak
// keeps emails in lower case; the answer is checked again here, so a
// server that ignores exact still logs out only this address. A realm may
// allow several users one email ("Duplicate emails"): each is returned.
// 404 here means the realm or the base_url is wrong, never "no such user".
func (k *Connector) find(ctx context.Context, email string) ([]account, error) {
	q := url.Values{"email": {email}, "exact": {"true"}, "briefRepresentation": {"true"}}
	var found []account
	if _, err := k.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: k.realm + "/users", Query: q}, &found); err != nil {
		return nil, k.hint(err)
	}
	var users []account
	for _, u := range found {
		if u.ID != "" && strings.EqualFold(u.Email, email) {
			users = append(users, u)
		}
	}
	return users, nil
}

// consentRounds bounds the rounds of revoking the offline tokens
// a listing shows and listing again: a client that keeps obtaining new
// ones is not chased in a loop; what is still listed after the last round
// makes the outcome Acknowledged and is left to the entry's next run.
const consentRounds = 2

// revokeUser logs u out, revokes the consents of the clients holding u's
// offline tokens and reads both back. A 404 is a vendorapi.NotFound *vendorapi.Error: no
// such user.
//
// Round trips: the logout and a first listing of the consents go
// together; the offline tokens that listing shows are revoked; then the
// sessions and the consents are read back together, and offline tokens
// the read-back still shows are revoked and listed again. Three round
// trips for a user without offline tokens, four with.
func (k *Connector) revokeUser(ctx context.Context, u account) (offboard.Outcome, error) {
	user := k.realm + "/users/" + url.PathEscape(u.ID)
	// [users] POST …/users/{id}/logout: "Remove all user sessions associated
	// with the user", 204. It needs manage-users; without it 403
	// {"error":"HTTP 403 Forbidden"}. An unknown id is 404 {"error":"User
	// not found"} [user-source].
	//
	// The listing sent together with the logout may be read before the
	// logout has ended the browser sessions, and until then a client can
	// still obtain offline tokens (an authorization request with
	// scope=offline_access [server-admin]; only after a logout must
	// "clients requesting authentication within active browser sessions …
	// log in again" [sessions]). So it only saves a round trip for the
	// tokens it shows: the outcome always rests on a listing that started
	// after the logout had answered — the read-back below, whose offline
	// tokens are revoked in turn.
	var consents []consent
	err := vendorapi.Concurrently(ctx,
		func(ctx context.Context) error {
			_, err := k.api.Do(ctx, vendorapi.Request{Method: http.MethodPost, Path: user + "/logout"}, nil)
			return err
		},
		func(ctx context.Context) (err error) { consents, err = k.consents(ctx, user); return err },
	)
	if err != nil {
		return "", err
	}
	log := k.api.Logger(ctx).With().Str("connector", k.name).Str("keycloak_user_id", u.ID).Logger()
	log.Info().Msg("keycloak user logged out")

	if err := k.revokeOffline(ctx, user, consents); err != nil {
		return "", err
	}
	// Read back the online sessions and, after the logout, the consents.
	var sessions []json.RawMessage
	err = vendorapi.Concurrently(ctx,
		func(ctx context.Context) error {
			_, err := k.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: user + "/sessions"}, &sessions)
			return err
		},
		func(ctx context.Context) (err error) { consents, err = k.consents(ctx, user); return err },
	)
	for round := 1; err == nil && offlineClients(consents) > 0 && round < consentRounds; round++ {
		if err := k.revokeOffline(ctx, user, consents); err != nil {
			return "", err
		}
		consents, err = k.consents(ctx, user)
	}
	var left []string
	switch {
	case vendorapi.IsKind(err, vendorapi.Auth):
		log.Warn().Err(err).Msg("keycloak logout done but cannot be read back: grant view-users to verify")
		return offboard.Acknowledged, nil
	case err != nil:
		return "", err
	}
	if len(sessions) > 0 {
		left = append(left, "sessions")
	}
	if offlineClients(consents) > 0 {
		left = append(left, "offline tokens")
	}
	if len(left) > 0 {
		log.Info().Str("still_listed", strings.Join(left, " and ")).Msg("keycloak logout done and something is still listed")
		return offboard.Acknowledged, nil
	}
	return offboard.Verified, nil
}

// revokeOffline revokes the consent of every client in consents that holds
// the user's offline tokens.
func (k *Connector) revokeOffline(ctx context.Context, user string, consents []consent) error {
	var revokes []func(context.Context) error
	for _, c := range consents {
		if !c.offline() {
			continue
		}
		// [users] DELETE …/users/{id}/consents/{client}: "Revoke consent and
		// offline tokens for particular client from user", 204, keyed by the
		// client's clientId. 404 ("Consent nor offline token not found")
		// means it is gone already. Each client's revocation touches only
		// that client's consent and offline sessions, so they are sent
		// together.
		revokes = append(revokes, vendorapi.DeleteGone(k.api, user+"/consents/"+url.PathEscape(c.ClientID)))
	}
	if err := vendorapi.Concurrently(ctx, revokes...); err != nil {
		return err
	}
	if len(revokes) > 0 {
		k.api.Logger(ctx).Info().Str("connector", k.name).Int("clients", len(revokes)).Msg("keycloak offline tokens revoked")
	}
	return nil
}

// offlineClients counts the clients in consents that hold offline tokens.
func offlineClients(consents []consent) int {
	n := 0
	for _, c := range consents {
		if c.offline() {
			n++
		}
	}
	return n
}

// consents is GET …/users/{id}/consents [users]: the clients the user
// consented to and, with additionalGrants key "Offline Token", those that
// hold the user's offline tokens [user-source]. Logout and consent
// revocation complete within their requests [user-source], so a listing
// after them tells what is left.
func (k *Connector) consents(ctx context.Context, user string) ([]consent, error) {
	var consents []consent
	_, err := k.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: user + "/consents"}, &consents)
	return consents, err
}

// Check is the cheapest authenticated read, GET
// /admin/realms/{realm}/users?max=1&briefRepresentation=true [users]: it
// fails with a vendorapi.Auth *vendorapi.Error when the token endpoint rejects the client
// (401) or the service account lacks view-users (403), and with a
// vendorapi.NotFound one, naming realm and base_url, when the realm or the
// context path is wrong (404).
func (k *Connector) Check(ctx context.Context) error {
	var users []account
	q := url.Values{"max": {"1"}, "briefRepresentation": {"true"}}
	_, err := k.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: k.realm + "/users", Query: q}, &users)
	return k.hint(err)
}

// hint adds to a 404 of the token endpoint or of the realm's user list
// what to check: Keycloak answers 404 for an unknown realm ("Realm does
// not exist", "Realm not found.") and for any path under the wrong context
// root ("HTTP 404 Not Found") [quarkus].
func (k *Connector) hint(err error) error {
	if e, ok := errors.AsType[*vendorapi.Error](err); ok && e.Kind == vendorapi.NotFound {
		e.Msg += notFoundHint
	}
	return err
}

// readError reads Keycloak's error bodies into one short line: the
// OAuth-style {"error":"…","error_description":"…"} of the token endpoint
// and of most Admin API failures, or the {"errorMessage":"…"} of a rejected
// representation [admin-api].
func readError(body []byte) string { return vendorapi.AsRead(decodeError(body)) }

// decodeError is readError before invalid UTF-8 is put back as read.
func decodeError(body []byte) string {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
		Message     string `json:"errorMessage"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	if e.Message != "" {
		return e.Message
	}
	return strings.TrimSuffix(strings.TrimPrefix(e.Error+": "+e.Description, ": "), ": ")
}
