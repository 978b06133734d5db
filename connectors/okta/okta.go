// Package okta is the okta connector: it clears a person's Okta sessions
// and revokes the tokens Okta issued to them, authenticated by an API token
// or by an OAuth 2.0 service app (optionally DPoP-bound).
package okta

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

// Okta's documentation, cited below by these names:
//
//	[sessions]   https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserSessions/#tag/UserSessions/operation/revokeUserSessions
//	[clear]      https://developer.okta.com/docs/reference/api/users/#clear-user-sessions
//	[get-user]   https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/#tag/User/operation/getUser
//	[get-login]  https://developer.okta.com/docs/reference/api/users/#get-user-with-login
//	[list-users] https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/#tag/User/operation/listUsers
//	[search]     https://developer.okta.com/docs/reference/user-query/#search-users
//	[errors]     https://developer.okta.com/docs/reference/error-codes/
//	[rate]       https://developer.okta.com/docs/reference/rl-best-practices/
//	[service-app] https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/main/
//	[assertion]  https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/create-sign-jwt/
//	[get-token]  https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/get-access-token/
//	[bad-sig]    https://support.okta.com/help/s/article/error-occurs-during-authentication-due-to-invalid-client-assertion-signature
//	[kid]        https://support.okta.com/help/s/article/okta-client-assertion-error-invalid-key-id
//	[dpop-default] https://devforum.okta.com/t/client-credentials-oauth-for-okta-with-dpop-enabled/30239
//	[dpop-missing] https://support.okta.com/help/s/article/the-dpop-proof-jwt-header-is-missing
//	[okta-dpop]  https://developer.okta.com/docs/guides/dpop/oktaresourceserver/main/ (and RFC 9449)

// Config is the settings of an okta connector. It authenticates in one
// of two ways, exactly one of which is configured: an API token (token), or
// an OAuth 2.0 service app (client_id + private_key, with key_id, token_url
// and scopes), which gets scoped access tokens that live an hour
// [service-app][get-token].
//
// A service app created in the Admin Console has "Require Demonstrating
// Proof of Possession (DPoP) header in token requests" selected by default
// [dpop-default]; set dpop: true for such an app. Without it Okta answers
// the token request 400 invalid_dpop_proof ("The DPoP proof JWT header is
// missing.") [dpop-missing], which fails the entry with that hint. The app
// also needs its public key registered (Client authentication "Public key
// / Private key"), the okta.users.manage scope granted on its Okta API
// Scopes tab, and an admin role that may manage the users, assigned on its
// Admin roles tab [service-app].
type Config struct {
	// BaseURL is the Okta org URL, e.g. https://example.okta.com, without
	// /api/v1: the connector adds the documented paths.
	BaseURL string `json:"base_url"`
	// Token is an API token, sent as "Authorization: SSWS <token>"; give it
	// without the "SSWS " prefix.
	Token vendorapi.Secret `json:"token"`

	// ClientID is the service app's client id; it is the iss and sub of
	// every client assertion [assertion].
	ClientID string `json:"client_id"`
	// PrivateKey is the PEM private key whose public key is registered on
	// the service app: RSA of at least 2048 bits (signed RS256) or EC on
	// P-256, P-384 or P-521 (ES256, ES384, ES512), as PKCS #8 ("PRIVATE
	// KEY"), PKCS #1 ("RSA PRIVATE KEY") or SEC 1 ("EC PRIVATE KEY").
	PrivateKey vendorapi.Secret `json:"private_key"`
	// KeyID is the kid of the registered key, sent in the assertion's
	// header; Okta refuses an assertion whose kid matches none of the app's
	// keys ("The client_assertion JWT kid is invalid.") [kid]. Empty sends
	// no kid.
	KeyID string `json:"key_id"`
	// TokenURL is the org authorization server's token endpoint; empty
	// means BaseURL + "/oauth2/v1/token" [get-token]. It is also the
	// assertion's aud.
	TokenURL string `json:"token_url"`
	// Scopes are requested with every access token; empty means
	// ["okta.users.manage"], which clearing sessions needs [sessions] and
	// which also allows reading users (Check and the lookups).
	Scopes []string `json:"scopes"`
	// DPoP makes the service app's tokens DPoP-bound [okta-dpop]: set it
	// when the app has "Require Demonstrating Proof of Possession (DPoP)
	// header in token requests" checked, as new API Services apps have by
	// default. The connector then makes a key of its own at start, sends a
	// proof with every token request (answering Okta's nonce challenge) and
	// presents the token as "Authorization: DPoP …" with a proof per call.
	DPoP bool `json:"dpop"`

	// ForgetDevices clears the user's remembered factors on every device
	// along with the sessions. The connector always sends it, as false
	// unless set: Okta's own default when the parameter is left out is true
	// in Identity Engine orgs and false in Classic Engine orgs [sessions],
	// so leaving it out would mean different things in different orgs.
	ForgetDevices bool `json:"forget_devices"`
}

// oauth reports whether c is in service-app mode.
func (c *Config) oauth() bool { return c.ClientID != "" || c.PrivateKey != "" }

// Validate reports every problem with the settings, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	if err := vendorapi.CheckURL(c.BaseURL); err != nil {
		errs = append(errs, vendorapi.KeyErr("base_url", err))
	} else if u, _ := url.Parse(c.BaseURL); strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/api/v1") ||
		strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/api") {
		// With /api/v1 here every path would 404, which reads as "no such user".
		errs = append(errs, vendorapi.FieldErr("base_url", "give the org url without /api/v1, e.g. https://example.okta.com"))
	}
	switch {
	case c.Token != "" && c.oauth():
		errs = append(errs, vendorapi.FieldErr("token", "give either token or client_id + private_key, not both"))
	case c.Token == "" && !c.oauth():
		errs = append(errs, vendorapi.FieldErr("token", "required, or client_id + private_key for an OAuth service app"))
	case strings.HasPrefix(strings.ToUpper(string(c.Token)), "SSWS "):
		errs = append(errs, vendorapi.FieldErr("token", `give the token without the "SSWS " prefix`))
	case c.Token != "":
		for _, k := range []struct {
			key string
			set bool
		}{{"key_id", c.KeyID != ""}, {"scopes", c.Scopes != nil}, {"token_url", c.TokenURL != ""}, {"dpop", c.DPoP}} {
			if k.set {
				errs = append(errs, vendorapi.FieldErr(k.key, "only used with client_id + private_key, not with token"))
			}
		}
	default:
		errs = append(errs, c.validateOAuth()...)
	}
	return errors.Join(errs...)
}

// Open returns the *Connector named name.
func (c *Config) Open(name string, d connectors.Deps) (connectors.Connector, error) {
	o := vendorapi.ClientOptions{VendorError: readError, Logger: d.Logger}
	if c.oauth() {
		var dpop *vendorapi.DPoP
		if c.DPoP {
			var err error
			if dpop, err = vendorapi.NewDPoP(); err != nil {
				return nil, vendorapi.KeyErr("dpop", err)
			}
			o.Authorize, o.Answered = dpop.Authorize, dpop.Answered
		}
		tok, err := c.tokenSource(dpop)
		if err != nil {
			return nil, vendorapi.KeyErr("private_key", err)
		}
		o.Token, o.Secrets = tok, []string{string(c.PrivateKey)}
	} else {
		token := string(c.Token)
		o.Auth, o.Secrets = func(h http.Header) { h.Set("Authorization", "SSWS "+token) }, []string{token}
	}
	api, err := vendorapi.NewClient(name, c.BaseURL, d.HTTPClient, o)
	if err != nil {
		return nil, err
	}
	return &Connector{name: name, api: api, forgetDevices: c.ForgetDevices}, nil
}

// Connector clears a person's Okta sessions and revokes the OpenID Connect and
// OAuth tokens Okta issued to them.
type Connector struct {
	name          string
	api           *vendorapi.Client
	forgetDevices bool
}

var (
	_ connectors.Connector = (*Connector)(nil)
	_ connectors.Checker   = (*Connector)(nil)
)

// user is the part of Okta's User object the connector reads.
type user struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Profile struct {
		Login string `json:"login"`
		Email string `json:"email"`
	} `json:"profile"`
}

func (u user) is(email string) bool {
	return u.ID != "" && (strings.EqualFold(u.Profile.Login, email) || strings.EqualFold(u.Profile.Email, email))
}

// Name returns the configured connector name.
func (o *Connector) Name() string { return o.name }

// Revoke clears the sessions and OAuth tokens of every Okta user that is the
// subject: the user with the subject's Okta id if the event carried one,
// else the user whose login is the email, else (search) every user whose
// login or primary email is the email. It answers Acknowledged, because Okta
// offers no read-back of a user's sessions to verify against, or NotFound
// when no such user exists.
//
// The user's status does not matter: Okta documents no status precondition
// for clearing sessions [sessions], so a SUSPENDED or DEPROVISIONED
// (deactivated) user's sessions and tokens are cleared like anyone's.
// Deactivation stops new sign-ins; clearing ends what is already issued.
func (o *Connector) Revoke(ctx context.Context, s offboard.Subject) (offboard.Outcome, error) {
	if id := s.IDs["okta"]; id != "" {
		switch err := o.clear(ctx, user{ID: id, Status: "unknown"}); {
		case err == nil:
			return offboard.Acknowledged, nil
		case !vendorapi.IsKind(err, vendorapi.NotFound):
			return "", err
		}
		// An id from another org, or a user deleted since: try the email.
	}
	email := strings.TrimSpace(s.Email)
	if email == "" {
		return "", &vendorapi.Error{System: o.name, Kind: vendorapi.Invalid, Msg: "subject has neither an email nor an okta id"}
	}
	users, err := o.find(ctx, email)
	if err != nil {
		return "", err
	}
	cleared := 0
	for _, u := range users {
		switch err := o.clear(ctx, u); {
		case err == nil:
			cleared++
		case !vendorapi.IsKind(err, vendorapi.NotFound):
			return "", err
		}
		// 404: deleted since the lookup; nothing is left to clear.
	}
	if cleared == 0 {
		return offboard.NotFound, nil
	}
	return offboard.Acknowledged, nil
}

// find returns the users that are email, or none.
//
// First GET /api/v1/users/{login} [get-user]: it takes an id or a login, is
// read from the primary store (search is not), and is one call for the
// usual org whose logins are emails. The login is URL-encoded as Okta asks
// [get-login], "+" included; a login holding "/" cannot be fetched this way
// [get-login], so it goes straight to search. A 404 here means only "no user
// with this login" and falls through to search, as does a user whose login
// and email differ from the email (a shortname match).
//
// Then GET /api/v1/users?search=profile.login eq "…" or profile.email eq "…"
// [list-users][search], for orgs whose logins are not the email. Values are
// quoted with `"` and `\` escaped by a backslash, then URL-encoded [search].
// Search reads a replicated index that may lag recent changes [search]; a
// user created seconds ago may be missed, which the lookup above covers for
// login = email. Every match is cleared: accounts carrying the person's email
// (an admin twin, say) are theirs.
func (o *Connector) find(ctx context.Context, email string) ([]user, error) {
	if !strings.Contains(email, "/") {
		var u user
		path := "/api/v1/users/" + strings.ReplaceAll(url.PathEscape(email), "+", "%2B")
		_, err := o.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: path}, &u)
		switch {
		case err == nil && u.is(email):
			return []user{u}, nil
		case err != nil && !vendorapi.IsKind(err, vendorapi.NotFound): // [errors] E0000007 is 404
			return nil, err
		}
	}
	v := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(email)
	q := url.Values{
		"search": {`profile.login eq "` + v + `" or profile.email eq "` + v + `"`},
		"limit":  {"200"}, // the documented maximum page [search]
	}
	var found []user
	if _, err := o.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: "/api/v1/users", Query: q}, &found); err != nil {
		return nil, err
	}
	var users []user
	for _, u := range found {
		if u.is(email) {
			users = append(users, u)
		}
	}
	return users, nil
}

// clear is DELETE /api/v1/users/{id}/sessions?oauthTokens=true&forgetDevices=…
// [sessions][clear]: it ends the user's Okta sessions and, with
// oauthTokens=true, revokes the OpenID Connect and OAuth refresh and access
// tokens Okta issued to them (the default is false). forgetDevices is always
// sent, as configured: Okta's default differs between Identity Engine
// (true) and Classic Engine (false) [sessions]. Okta answers 204 No
// Content; 404 (E0000007) means no such user [errors]; 429 (E0000047)
// carries X-Rate-Limit-Reset, the UTC epoch second the window resets
// [rate], which the shared classifier reads.
func (o *Connector) clear(ctx context.Context, u user) error {
	_, err := o.api.Do(ctx, vendorapi.Request{
		Method: http.MethodDelete,
		Path:   "/api/v1/users/" + url.PathEscape(u.ID) + "/sessions",
		Query:  url.Values{"oauthTokens": {"true"}, "forgetDevices": {strconv.FormatBool(o.forgetDevices)}},
	}, nil)
	if err == nil {
		o.api.Logger(ctx).Info().Str("connector", o.name).Str("okta_user_id", u.ID).
			Str("user_status", u.Status).Msg("okta sessions and oauth tokens cleared")
	}
	return err
}

// Check is the cheapest authenticated read, GET /api/v1/users?limit=1
// [list-users]: it fails with a vendorapi.Auth *vendorapi.Error when the token is rejected
// (401, E0000011) or lacks permission to read users (403, E0000006)
// [errors], and, for a service app, when the token endpoint rejects the
// client (401 invalid_client) [bad-sig][kid].
func (o *Connector) Check(ctx context.Context) error {
	var users []user
	_, err := o.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: "/api/v1/users", Query: url.Values{"limit": {"1"}}}, &users)
	return err
}

// readError reads Okta's error object [errors] — errorCode, errorSummary,
// errorLink, errorId, errorCauses[].errorSummary — into one short line:
// "E0000011: Invalid token provided (errorId oae…)". errorId is what Okta
// support asks for.
func readError(body []byte) string { return vendorapi.AsRead(decodeError(body)) }

// decodeError is readError before invalid UTF-8 is put back as read.
func decodeError(body []byte) string {
	var e struct {
		Code    string `json:"errorCode"`
		Summary string `json:"errorSummary"`
		ID      string `json:"errorId"`
		Causes  []struct {
			Summary string `json:"errorSummary"`
		} `json:"errorCauses"`
	}
	if json.Unmarshal(body, &e) != nil || (e.Code == "" && e.Summary == "") {
		return ""
	}
	s := strings.TrimPrefix(e.Code+": "+e.Summary, ": ")
	for _, c := range e.Causes {
		if c.Summary != "" {
			s += "; " + c.Summary
		}
	}
	if e.ID != "" {
		s += " (errorId " + e.ID + ")"
	}
	return s
}
