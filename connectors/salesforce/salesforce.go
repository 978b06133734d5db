// Package salesforce is the salesforce connector: it finds a person's
// Salesforce users by username or email with SOQL, deletes each of their
// AuthSession records (ending their sessions), revokes the OAuth tokens
// connected apps hold for them, and queries both again to say that nothing
// is left.
package salesforce

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// Salesforce's documentation, cited below by these names:
//
//	[rest-query]   https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm
//	               (GET /services/data/vXX.X/query?q=…: totalSize, done, records, nextRecordsUrl)
//	[rest-delete]  https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_delete_record.htm
//	               (DELETE /services/data/vXX.X/sobjects/{type}/{id}: 204)
//	[errors]       https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm
//	               (the [{"message","errorCode","fields"}] body; 401 INVALID_SESSION_ID;
//	               403 "If the error code is REQUEST_LIMIT_EXCEEDED, you've exceeded API request limits in your org")
//	[authsession]  https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_authsession.htm
//	               (Supported Calls: delete(), describeSObjects(), query(), retrieve(); "use this object … to
//	               delete a session, ending that user's session"; "administrators can see all sessions")
//	[oauthtoken]   https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_objects_oauthtoken.htm
//	               (Supported Calls: describeSObjects(), query() — no delete(); DeleteToken: "A token that can be
//	               used at the revoke OAuth token endpoint to remove this token"; users with Customize
//	               Application see every user's tokens; a query returns at most 500 rows per batch)
//	[revoke]       https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_revoke_token.htm&type=5
//	               and https://developer.salesforce.com/docs/atlas.en-us.mobile_sdk.meta/mobile_sdk/oauth_revoking_tokens.htm
//	               (/services/oauth2/revoke with token=…: 200; 400 invalid_token or unsupported_token_type)
//	[soql-escape]  https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_quotedstringescapes.htm
//	[limits]       https://developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_api.htm
//	               (total API requests per org over a rolling 24 hours; 25 concurrent requests of 20 s
//	               or longer; either answered REQUEST_LIMIT_EXCEEDED)
//	[versions]     https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_versions.htm
//
// The OAuth citations are those of oauth.go.

// apiVersion is the REST API version every call names: v66.0, Spring '26
// [versions]. AuthSession needs 29.0 or later and OauthToken 32.0 or later.
const apiVersion = "v66.0"

// dataPath is the REST API's root under base_url.
const dataPath = "/services/data/" + apiVersion

// Config is the settings of a salesforce connector: a connected app (or
// external client app) with the OAuth scope "api" whose run-as user
// (client credentials) or named user (JWT bearer) may see and delete every
// user's sessions — the "Manage Users" permission [authsession] — and see
// every user's OAuth tokens — "Customize Application" [oauthtoken].
type Config struct {
	// BaseURL is the org's instance, its My Domain, e.g.
	// https://example.my.salesforce.com; the connector adds
	// /services/data/v66.0. It stays the one host API calls go to, whatever
	// instance_url the token endpoint answers (see oauth.go).
	BaseURL string `json:"base_url"`
	// ClientID is the connected app's consumer key.
	ClientID string `json:"client_id"`
	// ClientSecret is the consumer secret, for the client credentials flow.
	ClientSecret vendorapi.Secret `json:"client_secret"`
	// Username and PrivateKey are for the JWT bearer flow: the user the
	// token is issued for, and the PEM RSA key whose certificate the
	// connected app holds.
	Username   string           `json:"username"`
	PrivateKey vendorapi.Secret `json:"private_key"`
	// TokenURL is the token endpoint. Empty means
	// https://login.salesforce.com/services/oauth2/token for the JWT bearer
	// flow and base_url + /services/oauth2/token for the client credentials
	// flow, which Salesforce serves at the org's My Domain only (oauth.go).
	TokenURL string `json:"token_url"`
}

// Validate reports every problem with the settings, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	if err := vendorapi.CheckURL(c.BaseURL); err != nil {
		errs = append(errs, vendorapi.KeyErr("base_url", err))
	} else if u, _ := url.Parse(c.BaseURL); strings.Contains(u.Path+"/", "/services/") {
		errs = append(errs, vendorapi.FieldErr("base_url", "give the instance without /services, e.g. https://example.my.salesforce.com"))
	}
	if c.ClientID == "" {
		errs = append(errs, vendorapi.FieldErr("client_id", "required"))
	}
	errs = append(errs, c.validateFlow()...)
	if c.TokenURL != "" {
		if err := vendorapi.CheckURL(c.TokenURL); err != nil {
			errs = append(errs, vendorapi.KeyErr("token_url", err))
		}
	}
	return errors.Join(errs...)
}

// Open returns the *Connector named name.
func (c *Config) Open(name string, d connectors.Deps) (connectors.Connector, error) {
	token, err := c.tokenSource()
	if err != nil {
		return nil, vendorapi.KeyErr("private_key", err)
	}
	api, err := vendorapi.NewClient(name, c.BaseURL, d.HTTPClient, vendorapi.ClientOptions{
		Token:       token,
		VendorError: readError,
		RateLimited: rateLimited,
		Secrets:     []string{string(c.ClientSecret), string(c.PrivateKey)},
		Logger:      d.Logger,
	})
	if err != nil {
		return nil, err
	}
	return &Connector{name: name, api: api}, nil
}

// Connector ends a person's Salesforce sessions and revokes their OAuth
// tokens through the REST API.
type Connector struct {
	name string
	api  *vendorapi.Client
}

var (
	_ connectors.Connector = (*Connector)(nil)
	_ connectors.Checker   = (*Connector)(nil)
)

// Name returns the configured connector name.
func (s *Connector) Name() string { return s.name }

// Revoke ends the sessions and revokes the OAuth tokens of every user whose
// username or email is the subject's email, then queries both again:
// Verified when none is left, Acknowledged when something is still listed
// or the tokens could not be read, NotFound when no user matches. The
// entry's detail says what was ended and what was not.
func (s *Connector) Revoke(ctx context.Context, sub offboard.Subject) (offboard.Outcome, error) {
	email := strings.TrimSpace(sub.Email)
	if email == "" {
		return "", &vendorapi.Error{System: s.name, Kind: vendorapi.Invalid, Msg: "subject has no email"}
	}
	users, err := s.findUsers(ctx, email)
	if err != nil {
		return "", err
	}
	if len(users) == 0 {
		return offboard.NotFound, nil
	}
	result := offboard.Verified
	for _, u := range users {
		out, err := s.revokeUser(ctx, u)
		if err != nil {
			return "", err
		}
		if out == offboard.Acknowledged {
			result = out
		}
	}
	return result, nil
}

// Check is the cheapest authenticated read that proves the token, the API
// version and the query resource: SELECT Id FROM User LIMIT 1 [rest-query].
// A rejected client fails at the token endpoint (vendorapi.Auth), a user
// without API access with 403 (vendorapi.Auth).
func (s *Connector) Check(ctx context.Context) error {
	var r queryResult[user]
	return s.do(ctx, getQuery("SELECT Id FROM User LIMIT 1"), &r)
}
