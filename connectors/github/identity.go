package github

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/offboarder/offboarder/vendorapi"
)

// identityQuery finds the organization's external identities whose SAML
// NameID or SCIM userName is $userName, and the GitHub account linked to
// each [ext-ids][identity]. SAML identity providers commonly send the
// email as the NameID; the emails of both identities are read too, so an
// identity whose userName is not the email is still matched on them.
const identityQuery = `query($org: String!, $userName: String!) {
  organization(login: $org) {
    samlIdentityProvider {
      externalIdentities(userName: $userName, first: 25) {
        nodes {
          samlIdentity { nameId emails { value } }
          scimIdentity { username emails { value } }
          user { login }
        }
      }
    }
  }
}`

// graphQLRateWait is the wait after a GraphQL RATE_LIMITED error: its
// answer is a 200 whose headers the client does not hand back, and GitHub
// says to wait at least a minute when nothing else tells how long [limits].
const graphQLRateWait = time.Minute

type emailValues []struct {
	Value string `json:"value"`
}

func (e emailValues) has(email string) bool {
	return slices.ContainsFunc(e, func(v struct {
		Value string `json:"value"`
	}) bool {
		return strings.EqualFold(strings.TrimSpace(v.Value), email)
	})
}

// identityAnswer is the GraphQL answer to identityQuery [graphql].
type identityAnswer struct {
	Data struct {
		Organization *struct {
			SAMLIdentityProvider *struct {
				ExternalIdentities struct {
					Nodes []struct {
						SAMLIdentity *struct {
							NameID string      `json:"nameId"`
							Emails emailValues `json:"emails"`
						} `json:"samlIdentity"`
						SCIMIdentity *struct {
							Username string      `json:"username"`
							Emails   emailValues `json:"emails"`
						} `json:"scimIdentity"`
						User *struct {
							Login string `json:"login"`
						} `json:"user"`
					} `json:"nodes"`
				} `json:"externalIdentities"`
			} `json:"samlIdentityProvider"`
		} `json:"organization"`
	} `json:"data"`
	Errors []graphQLError `json:"errors"`
}

// graphQLError is one entry of a GraphQL answer's errors [graphql]:
// GitHub names its kind in type (NOT_FOUND, FORBIDDEN, RATE_LIMITED, …).
type graphQLError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// logins is POST /graphql with identityQuery [graphql][ext-ids]: the
// logins of the GitHub accounts linked to an external identity of the
// organization whose NameID, SCIM userName or an email is email. An
// identity not yet linked to an account (user null) has no credentials
// to remove.
func (g *Connector) logins(ctx context.Context, email string) ([]string, error) {
	body := map[string]any{"query": identityQuery, "variables": map[string]string{"org": g.org, "userName": email}}
	var ans identityAnswer
	if _, err := g.api.Do(ctx, vendorapi.Request{Method: http.MethodPost, Path: "/graphql", Body: body}, &ans); err != nil {
		return nil, err
	}
	if len(ans.Errors) > 0 {
		return nil, g.graphQLErr(ans.Errors)
	}
	org := ans.Data.Organization
	if org == nil {
		return nil, &vendorapi.Error{System: g.name, Kind: vendorapi.Invalid, Status: http.StatusOK,
			Msg: "POST /graphql: the organization was not answered; check org"}
	}
	if org.SAMLIdentityProvider == nil {
		// An organization without SAML SSO (or whose SSO is set on the
		// enterprise) has no organization SAML identities [identity].
		return nil, &vendorapi.Error{System: g.name, Kind: vendorapi.Invalid, Status: http.StatusOK,
			Msg: "POST /graphql: organization " + g.org + " has no SAML single sign-on configured on the organization, so it has no credential authorizations to remove"}
	}
	var logins []string
	for _, n := range org.SAMLIdentityProvider.ExternalIdentities.Nodes {
		match := n.SAMLIdentity != nil && (strings.EqualFold(n.SAMLIdentity.NameID, email) || n.SAMLIdentity.Emails.has(email)) ||
			n.SCIMIdentity != nil && (strings.EqualFold(n.SCIMIdentity.Username, email) || n.SCIMIdentity.Emails.has(email))
		if match && n.User != nil && n.User.Login != "" && !slices.Contains(logins, n.User.Login) {
			logins = append(logins, n.User.Login)
		}
	}
	return logins, nil
}

// graphQLErr classifies the errors of a GraphQL answer, which GitHub gives
// with status 200 [graphql]: RATE_LIMITED waits [gql-limits]; NOT_FOUND
// (no such organization) and FORBIDDEN (not an owner, or a token without
// read:org) need a person.
func (g *Connector) graphQLErr(errs []graphQLError) error {
	e := errs[0]
	for _, x := range errs {
		if x.Type == "RATE_LIMITED" {
			e = x
		}
	}
	msg := "POST /graphql: "
	out := &vendorapi.Error{System: g.name, Status: http.StatusOK}
	switch e.Type {
	case "RATE_LIMITED":
		out.Kind, out.RetryAfter = vendorapi.RateLimited, graphQLRateWait
		msg += "rate limited by the vendor; retry after " + graphQLRateWait.String()
	case "NOT_FOUND":
		out.Kind = vendorapi.Invalid
		msg += "organization not found; check org"
	case "FORBIDDEN", "INSUFFICIENT_SCOPES":
		out.Kind = vendorapi.Auth
		msg += "missing scope or permission: the token must be an organization owner's, with read:org or admin:org, authorized for the organization's SSO"
	default:
		out.Kind = vendorapi.Invalid
		msg += "request rejected; a person must look"
	}
	if s := g.clean(summary(e.Type, e.Message)); s != "" {
		msg += "; vendor said " + strconv.Quote(s)
	}
	out.Msg = msg
	return out
}

// maxSaid is the longest vendor text an error carries, in runes.
const maxSaid = 200

// clean makes a GraphQL error message fit for an error's text, as the
// client does with error bodies: the token redacted, one line of printable
// text, cut short.
func (g *Connector) clean(s string) string {
	if g.secret != "" {
		s = strings.ReplaceAll(s, g.secret, "<redacted>")
	}
	s = strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, s)), " ")
	if r := []rune(s); len(r) > maxSaid {
		s = string(r[:maxSaid]) + "…"
	}
	return s
}

// readError reads GitHub's error body, {"message": "…",
// "documentation_url": "…"} with, on a validation failure, "errors": [{
// "resource", "field", "code", "message" }] [errors], into one short line.
// A body that is not that shape gives "".
func readError(body []byte) string { return vendorapi.AsRead(decodeError(body)) }

// decodeError is readError before invalid UTF-8 is put back as read.
func decodeError(body []byte) string {
	var e struct {
		Message string `json:"message"`
		Errors  []struct {
			Code    string `json:"code"`
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	s := e.Message
	if len(e.Errors) > 0 {
		x := e.Errors[0]
		s = summary(s, strings.TrimSpace(x.Field+" "+x.Code))
		s = summary(s, x.Message)
	}
	return s
}

// rateLimited reports whether a 403 is GitHub's rate limit: GitHub answers
// both its primary and its secondary rate limits 403 or 429 [limits], the
// 403 with a message that says so ("API rate limit exceeded for …", "You
// have exceeded a secondary rate limit …"). The wait is then read from
// retry-after or x-ratelimit-reset, as for a 429.
func rateLimited(status int, body []byte) bool {
	if status != http.StatusForbidden {
		return false
	}
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil {
		return false
	}
	return strings.Contains(strings.ToLower(e.Message), "rate limit")
}

// summary joins the parts that are not empty with ": ".
func summary(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ": ")
}
