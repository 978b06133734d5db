// Package scim is the scim connector: it deactivates a person's account
// (active=false) in any SCIM 2.0 service provider (RFC 7643, RFC 7644),
// Lucid's SCIM API being the documented first example, and reads back that
// it is inactive. SCIM has no session resource: deactivation keeps the
// person from signing in again, but the sessions they hold are not ended
// by this API, and the entry's detail says so.
//
// Deactivating is an offboarding step, not a session reset: it runs only
// for the reasons in disable_for (default terminated, deactivated); for
// any other reason the entry is skipped with the reason in its detail.
package scim

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/vendorapi"
)

// The documentation this connector follows, cited below by these names:
//
//	[rfc7643]        https://www.rfc-editor.org/rfc/rfc7643 (§4.1 the User resource: userName, emails, active)
//	[rfc7644]        https://www.rfc-editor.org/rfc/rfc7644 (§3.4.2.2 filtering, §3.4.2.4 pagination,
//	                 §3.5.2 PATCH, §3.5.2.3 replace, §3.8 media types, §3.12 errors, §3.13 versioning)
//	[lucid-scim]     https://developer.lucid.co/scim/ (the SCIM base URL https://users.lucid.app/scim/v2,
//	                 "Authorization: Bearer <token>", the User resource)
//	[lucid-overview] https://developer.lucid.co/reference-link/overview-scim (the base URL is shown on the
//	                 page that generates the SCIM bearer token)
//	[lucid-users]    https://developer.lucid.co/reference/getallusers (startIndex, count, filter: only eq;
//	                 email / emails.value and username are the optimised attributes; 400 for a filter with
//	                 invalid syntax or an unsupported operator; 401 for a bad token)
//	[lucid-patch]    https://lucid.readme.io/v1.0/reference/modifyuserpatch (PATCH /Users/{id} with schemas and
//	                 Operations; 400, 401, 403 "if the user does not exist", 409)
//	[lucid-errors]   https://community.lucid.co/admin-questions-2/scim-common-error-codes-with-troubleshooting-steps-6685
//	                 (Get User: 404 when the user is not found; Modify User: 403 when the user does not exist)
//	[lucid-sessions] https://community.lucid.co/admin-questions-2/revoke-active-sessions-force-logout-through-api-10274
//	                 (Lucid support: no REST or SCIM call ends a user's sessions; active=false disables the
//	                 account; "Log out user" is in the admin panel, by API only with the Enterprise Shield add-on)
//	[okta-deactivate] https://gitlab.com/gitlab-org/gitlab/-/merge_requests/25649 (Okta deactivates with the
//	                 path-less {"op":"replace","value":{"active":false}}, Entra with "path":"active";
//	                 GitLab's SCIM server had to learn the former)
//	[github-scim]    https://docs.github.com/en/enterprise-cloud@latest/rest/scim/scim#update-an-attribute-for-a-scim-user
//	                 (PATCH /scim/v2/organizations/{org}/Users/{id}: its example sets active:false with the
//	                 path-less form)
//
// Lucid documents no error body for its SCIM API; the RFC 7644 §3.12 body is
// read when a server sends one.

// The PATCH forms, the values of the patch key.
const (
	// PatchPath sends {"op":"replace","path":"active","value":false}.
	PatchPath = "path"
	// PatchValue sends {"op":"replace","value":{"active":false}}.
	PatchValue = "value"
)

// Config is the settings of a scim connector: a service provider's SCIM
// base URL and a bearer token allowed to read and modify its Users.
type Config struct {
	// BaseURL is the SCIM base URL as the service provider gives it, with
	// its path and version, e.g. Lucid's https://users.lucid.app/scim/v2
	// [lucid-scim]; the connector adds /Users. Unlike the other types'
	// base_url it holds the version: SCIM puts it in the base URL
	// [rfc7644 §3.13], and every provider roots it elsewhere (/scim/v2,
	// /v2/{workspace}, …), so there is no default. Lucid shows it beside
	// the SCIM bearer token (Admin > App Integration > SCIM) [lucid-overview].
	BaseURL string `json:"base_url"`
	// Token is the SCIM bearer token, sent as "Authorization: Bearer …"
	// [lucid-scim].
	Token vendorapi.Secret `json:"token"`
	// DisableFor are the reasons the account is deactivated for; empty
	// means terminated and deactivated. For any other reason the entry is
	// skipped, and the account stays active.
	DisableFor connectors.DisableFor `json:"disable_for"`
	// Patch chooses the PATCH form that sets active to false [rfc7644
	// §3.5.2.3], which allows both: "path" (the default) sends
	// {"op":"replace","path":"active","value":false}; "value" sends the
	// path-less {"op":"replace","value":{"active":false}}, the form Okta
	// sends [okta-deactivate] and GitHub documents [github-scim], for a
	// server built to accept only that.
	Patch string `json:"patch"`
}

// Validate reports every problem with the settings, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	if err := vendorapi.CheckURL(c.BaseURL); err != nil {
		errs = append(errs, vendorapi.KeyErr("base_url", err))
	} else if u, _ := url.Parse(c.BaseURL); strings.HasSuffix(strings.TrimSuffix(strings.ToLower(u.Path), "/"), "/users") {
		// The connector adds /Users; with it here every path would 404.
		errs = append(errs, vendorapi.FieldErr("base_url", "give the SCIM base URL without /Users, e.g. https://users.lucid.app/scim/v2"))
	}
	if c.Token == "" {
		errs = append(errs, vendorapi.FieldErr("token", "required"))
	}
	if err := c.DisableFor.Validate(); err != nil {
		errs = append(errs, err)
	}
	switch c.Patch {
	case "", PatchPath, PatchValue:
	default:
		errs = append(errs, vendorapi.FieldErr("patch", "want path or value"))
	}
	return errors.Join(errs...)
}

// Open returns the *Connector named name.
func (c *Config) Open(name string, d connectors.Deps) (connectors.Connector, error) {
	token := string(c.Token)
	api, err := vendorapi.NewClient(name, c.BaseURL, d.HTTPClient, vendorapi.ClientOptions{
		Auth: func(h http.Header) {
			h.Set("Authorization", "Bearer "+token) // [lucid-scim]
			// [rfc7644 §3.8]: SCIM's media type is application/scim+json;
			// servers must take it and should take application/json.
			h.Set("Accept", "application/scim+json, application/json")
			if h.Get("Content-Type") != "" {
				h.Set("Content-Type", "application/scim+json")
			}
		},
		VendorError: readError,
		Secrets:     []string{token},
		Logger:      d.Logger,
	})
	if err != nil {
		return nil, err
	}
	patch := c.Patch
	if patch == "" {
		patch = PatchPath
	}
	return &Connector{name: name, api: api, disableFor: c.DisableFor, patch: patch}, nil
}
