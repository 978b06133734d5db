// Package atlassian is the atlassian connector: for a leaver it deletes
// the API tokens of their Atlassian account and, where configured
// (disable: true), deactivates the account, through the Atlassian Cloud
// admin APIs an organization API key reaches. Atlassian has no API that
// ends a person's live web sessions: the entry's detail says so every
// time, beside how many API tokens were deleted and whether the account
// was disabled.
//
// Deleting a person's API tokens and deactivating their account both take
// a credential away; they run only for the reasons in disable_for
// (default terminated, deactivated). For any other reason nothing is
// changed and the entry is skipped, with the reason in its detail.
package atlassian

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/vendorapi"
)

// The documentation this connector follows, cited below by these names:
//
//	[org-intro]     https://developer.atlassian.com/cloud/admin/organization/rest/intro/ (the API key sent as
//	                "Authorization: Bearer <key>"; every call is rate limited; over the limit HTTP 429 Too Many
//	                Requests, "wait for the rate limit counter to reset"; rate-limit response headers)
//	[access-intro]  https://developer.atlassian.com/cloud/admin/api-access/rest/intro/ (the same admin API
//	                key and limits; the headers named: X-RateLimit-Limit, X-RateLimit-Remaining and
//	                X-RateLimit-Reset, "Next period reset time (ISO 8601 - Date and time in UTC)")
//	[um-intro]      https://developer.atlassian.com/cloud/admin/user-management/rest/intro/ (the user
//	                management API administers *managed* accounts, those of the organization's verified
//	                domains; the same API key as the organizations API; https://api.atlassian.com/users/…)
//	[orgs]          https://developer.atlassian.com/cloud/admin/organization/rest/api-group-orgs/
//	                (GET /admin/v1/orgs/{orgId}: one organization by id)
//	[org-users]     https://developer.atlassian.com/cloud/admin/organization/rest/api-group-users/#api-v2-orgs-orgid-directories-directoryid-users-search-post
//	                (POST /admin/v2/orgs/{orgId}/directories/{directoryId}/users/search: "emails" for an
//	                exact match of full addresses, "limit"; directoryId "-" for every directory the key
//	                may manage; the answer's data[] with accountId, email, accountStatus, claimStatus;
//	                the {"errors":[{"id","code","status","title","detail"}]} error body)
//	[um-tokens]     https://developer.atlassian.com/cloud/admin/user-management/rest/api-group-api-tokens/
//	                (GET /users/{account_id}/manage/api-tokens: [{id,label,createdAt,lastAccess,expiry}];
//	                DELETE /users/{account_id}/manage/api-tokens/{tokenId})
//	[um-lifecycle]  https://developer.atlassian.com/cloud/admin/user-management/rest/api-group-lifecycle/
//	                (POST /users/{account_id}/manage/lifecycle/disable with an optional {"message"}:
//	                "Deactivate (block) the specified user account from logging into Atlassian";
//	                204; errors as [{"code","message","link"}])
//	[um-profile]    https://developer.atlassian.com/cloud/admin/user-management/rest/api-group-profile/
//	                (GET /users/{account_id}/manage/profile: {"account":{…,"account_status":"active"}};
//	                account_status is active, inactive or closed)
//	[revoke-tokens] https://support.atlassian.com/organization-administration/docs/revoke-user-api-tokens/
//	                (an admin revokes a managed account's API tokens; "We permanently delete the API
//	                token"; automated with the Delete API token API)
//
// No Atlassian page documents an API that ends a user's web sessions
// (the admin APIs above are the whole user-management surface), nor a
// number of calls per period for these APIs: the connector's rate-limit
// behaviour is the documented one, waiting out the 429 (Retry-After, or
// the ISO 8601 X-RateLimit-Reset, which readReset turns into a wait).

// DefaultBaseURL is the host of every Atlassian Cloud admin API [org-intro].
const DefaultBaseURL = "https://api.atlassian.com"

// Config is the settings of an atlassian connector.
type Config struct {
	// Token is the organization API key (Atlassian Administration >
	// Settings > API keys), sent as "Authorization: Bearer …"
	// [org-intro][um-intro]. The user-management calls want a key
	// created without scopes.
	Token vendorapi.Secret `json:"token"`
	// OrgID is the organization's id, shown when the key is made [org-intro].
	OrgID string `json:"org_id"`
	// Disable also deactivates the account [um-lifecycle]; false (the
	// default) deletes the API tokens only.
	Disable bool `json:"disable"`
	// BaseURL is the API host; "" means https://api.atlassian.com. The
	// connector adds /admin/… and /users/….
	BaseURL string `json:"base_url"`
	// DisableFor are the reasons the API tokens are deleted and the
	// account is deactivated for; empty means terminated and deactivated.
	DisableFor connectors.DisableFor `json:"disable_for"`
}

// Validate reports every problem with the settings, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	if c.Token == "" {
		errs = append(errs, vendorapi.FieldErr("token", "required"))
	}
	switch {
	case strings.TrimSpace(c.OrgID) == "":
		errs = append(errs, vendorapi.FieldErr("org_id", "required"))
	case strings.ContainsAny(c.OrgID, "/?#% \t"):
		errs = append(errs, vendorapi.FieldErr("org_id", "give the organization id alone, as Atlassian Administration shows it"))
	}
	if c.BaseURL != "" {
		if err := vendorapi.CheckURL(c.BaseURL); err != nil {
			errs = append(errs, vendorapi.KeyErr("base_url", err))
		}
	}
	if err := c.DisableFor.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Open returns the *Connector named name.
func (c *Config) Open(name string, d connectors.Deps) (connectors.Connector, error) {
	token := string(c.Token)
	base := c.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	hc := d.HTTPClient
	if hc == nil {
		hc = vendorapi.NewHTTPClient()
	}
	api, err := vendorapi.NewClient(name, base, withReset(hc), vendorapi.ClientOptions{
		Auth: func(h http.Header) {
			h.Set("Authorization", "Bearer "+token) // [org-intro][um-intro]
			h.Set("Accept", "application/json")
		},
		VendorError: readError,
		Secrets:     []string{token},
		Logger:      d.Logger,
	})
	if err != nil {
		return nil, err
	}
	return &Connector{name: name, api: api, org: strings.TrimSpace(c.OrgID), disable: c.Disable, disableFor: c.DisableFor}, nil
}

// withReset returns hc with a transport that gives a 429 without
// Retry-After the wait its X-RateLimit-Reset names. Atlassian sends that
// reset as an ISO 8601 time [access-intro], which the shared classifier
// (epoch seconds) does not read; as Retry-After seconds it does. The
// copy shares hc's transport, so its connections are kept as before.
func withReset(hc *http.Client) *http.Client {
	c := *hc
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = resetTransport{base: base, now: time.Now}
	return &c
}

type resetTransport struct {
	base http.RoundTripper
	now  func() time.Time
}

func (t resetTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
		if wait, ok := readReset(resp.Header.Get("X-RateLimit-Reset"), t.now()); ok {
			resp.Header.Set("Retry-After", wait)
		}
	}
	return resp, err
}
