// Package github is the github connector: it removes the SAML single
// sign-on authorizations of a person's credentials (personal access tokens,
// SSH keys, OAuth app and GitHub App user tokens) in one GitHub Enterprise
// Cloud organization, and lists them again to verify that none is left.
// The person is found by email through the organization's SAML and SCIM
// external identities. GitHub has no API that ends a web session: the
// entry's detail says so.
package github

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// GitHub's documentation, cited below by these names:
//
//	[list]      https://docs.github.com/enterprise-cloud@latest/rest/orgs/orgs#list-saml-sso-authorizations-for-an-organization
//	            (GET /orgs/{org}/credential-authorizations; per_page, page, login;
//	            organization owner; read:org)
//	[remove]    https://docs.github.com/enterprise-cloud@latest/rest/orgs/orgs#remove-a-saml-sso-authorization-for-an-organization
//	            (DELETE /orgs/{org}/credential-authorizations/{credential_id}; 204, 404;
//	            organization owner; admin:org)
//	[spec]      https://github.com/github/rest-api-description/blob/main/descriptions/ghec/ghec.2022-11-28.yaml
//	            (the OpenAPI description of both, and of the credential-authorization schema)
//	[identity]  https://docs.github.com/enterprise-cloud@latest/graphql/reference/objects#externalidentity
//	            (ExternalIdentity: samlIdentity, scimIdentity, user; visible to organization
//	            owners' tokens with read:org or admin:org)
//	[ext-ids]   https://docs.github.com/enterprise-cloud@latest/graphql/reference/objects#organizationidentityprovider
//	            (externalIdentities(userName:): "Filter to external identities with the users
//	            userName/NameID attribute"); GitHub's own sample query:
//	            https://github.com/github/platform-samples/blob/master/graphql/queries/org-saml-identities-filtered-by-nameid-username.graphql
//	[graphql]   https://docs.github.com/en/graphql/guides/forming-calls-with-graphql (POST /graphql)
//	[scim]      https://docs.github.com/enterprise-cloud@latest/rest/scim/scim#list-scim-provisioned-identities
//	            (the SCIM user resource carries userName and emails but no GitHub login,
//	            so the login comes from the GraphQL external identity)
//	[headers]   https://docs.github.com/en/rest/using-the-rest-api/getting-started-with-the-rest-api
//	            (Accept: application/vnd.github+json, X-GitHub-Api-Version, Authorization: Bearer)
//	[versions]  https://docs.github.com/en/rest/about-the-rest-api/api-versions (2022-11-28)
//	[errors]    https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api
//	            (error bodies {"message": …, "documentation_url": …}, with "errors" on 422)
//	[limits]    https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
//	            (primary: 403 or 429 with x-ratelimit-remaining 0, wait until x-ratelimit-reset;
//	            secondary: 403 or 429, retry-after if present, else x-ratelimit-reset when
//	            remaining is 0, else at least one minute)
//	[gql-limits] https://docs.github.com/en/graphql/overview/rate-limits-and-query-limits-for-the-graphql-api
//	            (over the primary limit GraphQL still answers 200, with an error of type RATE_LIMITED)
//	[sessions]  https://docs.github.com/enterprise-cloud@latest/organizations/granting-access-to-your-personal-repositories/viewing-and-managing-a-members-saml-access-to-your-organization
//	            (an owner can revoke a member's SAML session in the web UI only; there is no REST
//	            or GraphQL call for it)

const (
	// DefaultBaseURL is GitHub.com's API root.
	DefaultBaseURL = "https://api.github.com"
	// apiVersion is the REST API version sent on every call [versions].
	apiVersion = "2022-11-28"
	// perPage is the largest page of authorizations GitHub gives [list].
	perPage = 100
	// maxPages bounds the pages read for one login: 10 000 authorizations.
	maxPages = 100
)

// orgName is what a GitHub organization's login may be: letters, digits
// and single hyphens, not at either end, at most 39 characters.
var orgName = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9]|-[A-Za-z0-9]){0,38}$`)

// Config is the settings of a github connector: a token of an owner of a
// GitHub Enterprise Cloud organization that uses SAML single sign-on, with
// admin:org (a personal access token (classic), authorized for the
// organization's SSO) or a GitHub App installation token with the
// organization's administration permission [list][remove][identity].
type Config struct {
	// Org is the organization's login, e.g. "acme".
	Org string `json:"org"`
	// Token is sent as "Authorization: Bearer <token>" [headers].
	Token vendorapi.Secret `json:"token"`
	// BaseURL is the API root; empty means https://api.github.com. GitHub
	// Enterprise Cloud with data residency uses https://api.SUBDOMAIN.ghe.com.
	BaseURL string `json:"base_url"`
}

// Validate reports every problem with the settings, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	switch {
	case c.Org == "":
		errs = append(errs, vendorapi.FieldErr("org", "required"))
	case !orgName.MatchString(c.Org):
		errs = append(errs, vendorapi.FieldErr("org", "must be the organization's login: letters, digits and single hyphens"))
	}
	switch tok := strings.TrimSpace(string(c.Token)); {
	case tok == "":
		errs = append(errs, vendorapi.FieldErr("token", "required"))
	case strings.Contains(tok, " "):
		errs = append(errs, vendorapi.FieldErr("token", `give the token alone, without "Bearer " or "token "`))
	}
	if c.BaseURL != "" {
		if err := vendorapi.CheckURL(c.BaseURL); err != nil {
			errs = append(errs, vendorapi.KeyErr("base_url", err))
		}
	}
	return errors.Join(errs...)
}

// Open returns the *Connector named name.
func (c *Config) Open(name string, d connectors.Deps) (connectors.Connector, error) {
	token := strings.TrimSpace(string(c.Token))
	api, err := vendorapi.NewClient(name, cmp.Or(c.BaseURL, DefaultBaseURL), d.HTTPClient, vendorapi.ClientOptions{
		Auth: func(h http.Header) {
			// [headers]: the media type GitHub recommends, the API
			// version, and the token as a bearer credential.
			h.Set("Accept", "application/vnd.github+json")
			h.Set("X-GitHub-Api-Version", apiVersion)
			h.Set("Authorization", "Bearer "+token)
		},
		VendorError: readError,
		RateLimited: rateLimited,
		Secrets:     []string{token},
		Logger:      d.Logger,
	})
	if err != nil {
		return nil, err
	}
	return &Connector{name: name, api: api, org: c.Org, secret: token}, nil
}

// Connector removes a person's SAML SSO credential authorizations in one
// GitHub organization.
type Connector struct {
	name   string
	api    *vendorapi.Client
	org    string
	secret string // only to redact it from GraphQL error text
}

var (
	_ connectors.Connector = (*Connector)(nil)
	_ connectors.Checker   = (*Connector)(nil)
)

// authorization is the part of a credential-authorization the connector
// reads [spec].
type authorization struct {
	Login          string `json:"login"`
	CredentialID   int64  `json:"credential_id"`
	CredentialType string `json:"credential_type"`
}

// Name returns the configured connector name.
func (g *Connector) Name() string { return g.name }

// Revoke finds the GitHub accounts linked to the subject's email in the
// organization's SAML or SCIM identities, removes every SAML SSO
// authorization of their credentials, and lists them again: Verified when
// none is left, Acknowledged when one still is (a credential authorized
// again in between), NotFound when no external identity of the
// organization has the email or none is linked to a GitHub account.
//
// Removing an authorization stops the credential from reaching the
// organization's resources until it is authorized again through SSO
// [remove]; the credential itself (owned by the person's GitHub account)
// is not deleted, and the person's web session is not ended: GitHub has no
// API for that [sessions]. The detail says both.
func (g *Connector) Revoke(ctx context.Context, s offboard.Subject) (offboard.Outcome, error) {
	email := strings.TrimSpace(s.Email)
	if email == "" {
		return "", &vendorapi.Error{System: g.name, Kind: vendorapi.Invalid, Msg: "subject has no email"}
	}
	logins, err := g.logins(ctx, email)
	if err != nil {
		return "", err
	}
	if len(logins) == 0 {
		connectors.Report(ctx, "no GitHub account linked to %s in the SAML or SCIM identities of organization %s", email, g.org)
		return offboard.NotFound, nil
	}
	result := offboard.Verified
	for _, login := range logins {
		out, err := g.revokeLogin(ctx, login)
		if err != nil {
			return "", err
		}
		if out == offboard.Acknowledged {
			result = out
		}
	}
	connectors.Report(ctx, "the GitHub web session was not ended: GitHub has no API for it (an owner can revoke the SAML session in the organization's people settings); the credentials themselves still exist outside the organization")
	return result, nil
}

// revokeLogin removes every SAML SSO authorization of login and lists
// them again.
func (g *Connector) revokeLogin(ctx context.Context, login string) (offboard.Outcome, error) {
	auths, err := g.list(ctx, login)
	if err != nil {
		return "", err
	}
	if len(auths) == 0 {
		connectors.Report(ctx, "%s had no SAML SSO credential authorizations in %s", login, g.org)
		return offboard.Verified, nil
	}
	calls := make([]func(context.Context) error, len(auths))
	for i, a := range auths {
		// [remove] DELETE /orgs/{org}/credential-authorizations/{credential_id}:
		// 204; 404 when it is gone already, which is what is wanted. Each
		// removal touches one authorization, so they are sent together.
		calls[i] = vendorapi.DeleteGone(g.api, g.orgPath()+"/credential-authorizations/"+strconv.FormatInt(a.CredentialID, 10))
	}
	if err := vendorapi.Concurrently(ctx, calls...); err != nil {
		return "", err
	}
	g.api.Logger(ctx).Info().Str("connector", g.name).Str("github_login", login).Int("authorizations", len(auths)).
		Msg("github saml sso authorizations removed")
	left, err := g.list(ctx, login)
	if err != nil {
		return "", err
	}
	what := describe(auths)
	if len(left) > 0 {
		connectors.Report(ctx, "removed the SAML SSO authorizations of %s's %s in %s; %d still listed after removal (authorized again since?)",
			login, what, g.org, len(left))
		return offboard.Acknowledged, nil
	}
	connectors.Report(ctx, "removed the SAML SSO authorizations of %s's %s in %s; none left", login, what, g.org)
	return offboard.Verified, nil
}

// list is GET /orgs/{org}/credential-authorizations?login=…[list], every
// page of it: GitHub answers at most per_page authorizations a page, and
// a shorter page is the last. The answer is filtered again by login, so a
// server that ignored the filter removes nobody else's.
func (g *Connector) list(ctx context.Context, login string) ([]authorization, error) {
	var out []authorization
	for page := 1; page <= maxPages; page++ {
		q := url.Values{"login": {login}, "per_page": {strconv.Itoa(perPage)}, "page": {strconv.Itoa(page)}}
		var got []authorization
		if _, err := g.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: g.orgPath() + "/credential-authorizations", Query: q}, &got); err != nil {
			return nil, g.hint(err)
		}
		for _, a := range got {
			if strings.EqualFold(a.Login, login) && a.CredentialID != 0 {
				out = append(out, a)
			}
		}
		if len(got) < perPage {
			return out, nil
		}
	}
	return out, nil
}

// Check is the cheapest authenticated read that needs what Revoke needs,
// GET /orgs/{org}/credential-authorizations?per_page=1 [list]: a bad token
// is 401, a token of someone who is not an owner, or not authorized for
// the organization's SSO, is 403, and an unknown organization, or one not
// on GitHub Enterprise Cloud, is 404.
func (g *Connector) Check(ctx context.Context) error {
	var got []authorization
	q := url.Values{"per_page": {"1"}}
	_, err := g.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: g.orgPath() + "/credential-authorizations", Query: q}, &got)
	return g.hint(err)
}

func (g *Connector) orgPath() string { return "/orgs/" + url.PathEscape(g.org) }

// hint adds what to check to a 404 of the organization's authorizations:
// the organization is unknown, or not one with SAML SSO on GitHub
// Enterprise Cloud, where the endpoint lives [list].
func (g *Connector) hint(err error) error {
	if e, ok := errors.AsType[*vendorapi.Error](err); ok && e.Kind == vendorapi.NotFound {
		e.Msg += "; check org, and that the organization is on GitHub Enterprise Cloud with SAML single sign-on"
	}
	return err
}

// describe counts auths by the kind of credential, e.g. "3 credentials
// (personal access token: 2, SSH key: 1)".
func describe(auths []authorization) string {
	counts := map[string]int{}
	var order []string
	for _, a := range auths {
		t := cmp.Or(a.CredentialType, "credential")
		k := strings.ToLower(t)
		if counts[k] == 0 {
			order = append(order, t)
		}
		counts[k]++
	}
	parts := make([]string, len(order))
	for i, t := range order {
		parts[i] = fmt.Sprintf("%s: %d", t, counts[strings.ToLower(t)])
	}
	noun := "credentials"
	if len(auths) == 1 {
		noun = "credential"
	}
	return fmt.Sprintf("%d %s (%s)", len(auths), noun, strings.Join(parts, ", "))
}
