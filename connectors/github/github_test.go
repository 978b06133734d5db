package github_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/connectors/conformance"
	"github.com/offboarder/offboarder/connectors/github"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// The fake below is shaped from GitHub's documentation: the GraphQL
// endpoint POST /graphql and its ExternalIdentity objects
// (https://docs.github.com/enterprise-cloud@latest/graphql/reference/objects#externalidentity),
// the SAML SSO authorizations list and removal
// (https://docs.github.com/enterprise-cloud@latest/rest/orgs/orgs#list-saml-sso-authorizations-for-an-organization,
// #remove-a-saml-sso-authorization-for-an-organization), the error body
// {"message","documentation_url"} and the rate-limit answers (403 or 429
// with x-ratelimit-remaining / x-ratelimit-reset or retry-after,
// https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api).

const (
	ghToken = "ghp_testOwnerToken5e1f0a9b8c7d6e5f4a3b"
	ghOrg   = "acme"
	ghEmail = "isaac.brock@example.com"
	ghLogin = "ibrock"
	ghOrgs  = "/orgs/" + ghOrg + "/credential-authorizations"
)

var ghHeaders = http.Header{
	"Authorization":        {"Bearer " + ghToken},
	"Accept":               {"application/vnd.github+json"},
	"X-Github-Api-Version": {"2022-11-28"},
	"User-Agent":           {"offboarder"},
}

// types holds the github type alone, for Build.
var types = map[string]func() connectors.Config{"github": func() connectors.Config { return new(github.Config) }}

type step = conformance.Step

func openGitHub(baseURL string, extra map[string]any) (connectors.Connector, error) {
	settings := map[string]any{"org": ghOrg, "token": ghToken, "base_url": baseURL}
	for k, v := range extra {
		settings[k] = v
	}
	cs, err := connectors.Build([]connectors.Spec{{Name: "github", Type: "github", Settings: settings}}, types, connectors.Deps{})
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

const (
	ghBadCredentials = `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}`
	ghSAMLEnforced   = `{"message":"Resource protected by organization SAML enforcement. You must grant your Personal Access token access to this organization.","documentation_url":"https://docs.github.com/articles/authenticating-to-a-github-organization-with-saml-single-sign-on/"}`
	ghNotFound       = `{"message":"Not Found","documentation_url":"https://docs.github.com/rest/orgs/orgs#list-saml-sso-authorizations-for-an-organization","status":"404"}`
	ghServerError    = `{"message":"Server Error"}`
	ghPrimaryLimit   = `{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}`
	ghSecondaryLimit = `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`
)

// ghIdentity is a GraphQL answer with one external identity whose SAML
// NameID is nameID, linked to login ("" leaves it unlinked).
func ghIdentity(nameID, login string) string {
	user := "null"
	if login != "" {
		user = `{"login":"` + login + `"}`
	}
	return `{"data":{"organization":{"samlIdentityProvider":{"externalIdentities":{"nodes":[{"samlIdentity":{"nameId":"` + nameID +
		`","emails":[]},"scimIdentity":{"username":null,"emails":[]},"user":` + user + `}]}}}}}`
}

const ghNoIdentity = `{"data":{"organization":{"samlIdentityProvider":{"externalIdentities":{"nodes":[]}}}}}`

func ghLookup(status int, body string) step {
	return step{Method: "POST", Path: "/graphql", Status: status, Body: body}
}

// ghAuths is a list answer with one authorization per id, of login.
func ghAuths(login string, ids ...int) string {
	var out []string
	for i, id := range ids {
		typ, extra := "personal access token", `"token_last_eight":"71c3fc11","scopes":["repo"]`
		if i%2 == 1 {
			typ, extra = "SSH key", `"fingerprint":"jklmnop12345678","authorized_credential_title":"laptop"`
		}
		out = append(out, fmt.Sprintf(`{"login":%q,"credential_id":%d,"credential_type":%q,"credential_authorized_at":"2011-01-26T19:06:43Z","credential_accessed_at":null,%s}`,
			login, id, typ, extra))
	}
	return "[" + strings.Join(out, ",") + "]"
}

func ghList(page int, status int, body string) step {
	return step{Method: "GET", Path: ghOrgs, Status: status, Body: body,
		Query: url.Values{"login": {ghLogin}, "per_page": {"100"}, "page": {strconv.Itoa(page)}}}
}

func ghRemove(id int, status int, body string) step {
	return step{Method: "DELETE", Path: ghOrgs + "/" + strconv.Itoa(id), Status: status, Body: body}
}

// ghLimited is GitHub's primary rate limit as a 403, reset a minute ahead.
func ghLimited() step {
	return step{Method: "POST", Path: "/graphql", Status: 403, Body: ghPrimaryLimit, Header: map[string]string{
		"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0", "x-ratelimit-used": "5000",
		"x-ratelimit-reset": strconv.FormatInt(time.Now().Add(time.Minute).Unix(), 10), "x-ratelimit-resource": "graphql"}}
}

func fakeGitHub(t *testing.T, steps ...step) http.Handler {
	t.Helper()
	return conformance.Script(t, ghHeaders, steps...)
}

func TestGitHubConformance(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		New:     func(base string) (connectors.Connector, error) { return openGitHub(base, nil) },
		Secret:  ghToken,
		Subject: offboard.Subject{Email: ghEmail},
		Handler: func(t *testing.T, s conformance.Scenario) http.Handler {
			switch s {
			case conformance.Success:
				return fakeGitHub(t, ghLookup(200, ghIdentity(ghEmail, ghLogin)), ghList(1, 200, ghAuths(ghLogin, 161195, 161196)),
					ghRemove(161195, 204, ""), ghRemove(161196, 204, "").With(), ghList(1, 200, "[]"))
			case conformance.NotFound:
				return fakeGitHub(t, ghLookup(200, ghNoIdentity))
			case conformance.RateLimited:
				return fakeGitHub(t, ghLimited())
			case conformance.ServerError:
				return fakeGitHub(t, ghLookup(502, ghServerError))
			case conformance.Unauthorized:
				return fakeGitHub(t, ghLookup(401, ghBadCredentials))
			}
			return conformance.Hanging()
		},
	})
}

func TestGitHubRevoke(t *testing.T) {
	tests := []struct {
		name       string
		steps      []step
		want       offboard.Outcome
		detail     []string
		kind       vendorapi.Kind
		retryAfter time.Duration
		text       []string
	}{{
		name: "every authorization is removed and the list read back empty is verified, and the detail names what was and was not ended",
		steps: []step{ghLookup(200, ghIdentity(ghEmail, ghLogin)), ghList(1, 200, ghAuths(ghLogin, 1, 2, 3)),
			ghRemove(1, 204, ""), ghRemove(2, 204, "").With(), ghRemove(3, 204, "").With(), ghList(1, 200, "[]")},
		want: offboard.Verified,
		detail: []string{"removed the SAML SSO authorizations of ibrock's 3 credentials (personal access token: 2, SSH key: 1) in acme; none left",
			"web session was not ended: GitHub has no API for it"},
	}, {
		name: "an email that matches the NameID in another case is the same person",
		steps: []step{ghLookup(200, ghIdentity(strings.ToUpper(ghEmail), ghLogin)), ghList(1, 200, ghAuths(ghLogin, 7)),
			ghRemove(7, 204, ""), ghList(1, 200, "[]")},
		want: offboard.Verified,
	}, {
		name:   "a person with no authorizations is verified by the list itself",
		steps:  []step{ghLookup(200, ghIdentity(ghEmail, ghLogin)), ghList(1, 200, "[]")},
		want:   offboard.Verified,
		detail: []string{"ibrock had no SAML SSO credential authorizations in acme", "web session was not ended"},
	}, {
		name: "an authorization removed by someone else in between (404) is gone, as wanted",
		steps: []step{ghLookup(200, ghIdentity(ghEmail, ghLogin)), ghList(1, 200, ghAuths(ghLogin, 1, 2)),
			ghRemove(1, 404, ghNotFound), ghRemove(2, 204, "").With(), ghList(1, 200, "[]")},
		want: offboard.Verified,
	}, {
		name: "a credential authorized again before the read-back is acknowledged, and the detail says it is still listed",
		steps: []step{ghLookup(200, ghIdentity(ghEmail, ghLogin)), ghList(1, 200, ghAuths(ghLogin, 1)),
			ghRemove(1, 204, ""), ghList(1, 200, ghAuths(ghLogin, 9))},
		want:   offboard.Acknowledged,
		detail: []string{"1 still listed after removal"},
	}, {
		name: "a full page is followed by the next one",
		steps: func() []step {
			ids := make([]int, 100)
			for i := range ids {
				ids[i] = 1000 + i
			}
			s := []step{ghLookup(200, ghIdentity(ghEmail, ghLogin)), ghList(1, 200, ghAuths(ghLogin, ids...)), ghList(2, 200, ghAuths(ghLogin, 2000))}
			for i, id := range append(ids, 2000) {
				r := ghRemove(id, 204, "")
				if i > 0 {
					r = r.With()
				}
				s = append(s, r)
			}
			return append(s, ghList(1, 200, "[]"))
		}(),
		want: offboard.Verified,
	}, {
		name:  "a server that ignores the login filter removes nobody else's authorizations",
		steps: []step{ghLookup(200, ghIdentity(ghEmail, ghLogin)), ghList(1, 200, ghAuths("hubot", 5))},
		want:  offboard.Verified,
	}, {
		name:   "an external identity with the email but no linked GitHub account is not_found",
		steps:  []step{ghLookup(200, ghIdentity(ghEmail, ""))},
		want:   offboard.NotFound,
		detail: []string{"no GitHub account linked to " + ghEmail},
	}, {
		name:  "an identity the userName filter returns for another NameID is not this person",
		steps: []step{ghLookup(200, ghIdentity("someone.else@example.com", "other"))},
		want:  offboard.NotFound,
	}, {
		name:  "an organization without SAML single sign-on is a permanent error that says so",
		steps: []step{ghLookup(200, `{"data":{"organization":{"samlIdentityProvider":null}}}`)},
		kind:  vendorapi.Invalid,
		text:  []string{"github: POST /graphql: organization acme has no SAML single sign-on"},
	}, {
		name:  "an unknown organization (GraphQL NOT_FOUND) is a permanent error naming org",
		steps: []step{ghLookup(200, `{"data":{"organization":null},"errors":[{"type":"NOT_FOUND","path":["organization"],"locations":[{"line":2,"column":3}],"message":"Could not resolve to an Organization with the login of 'acme'."}]}`)},
		kind:  vendorapi.Invalid,
		text:  []string{"organization not found; check org", "Could not resolve to an Organization"},
	}, {
		name:  "a token that may not read the identities (GraphQL FORBIDDEN) is a permanent auth error",
		steps: []step{ghLookup(200, `{"data":{"organization":{"samlIdentityProvider":null}},"errors":[{"type":"FORBIDDEN","path":["organization","samlIdentityProvider"],"message":"Resource not accessible by integration"}]}`)},
		kind:  vendorapi.Auth,
		text:  []string{"organization owner", "Resource not accessible by integration"},
	}, {
		name:       "a GraphQL RATE_LIMITED error, answered 200, waits a minute",
		steps:      []step{ghLookup(200, `{"errors":[{"type":"RATE_LIMITED","message":"API rate limit exceeded for user ID 1."}]}`)},
		kind:       vendorapi.RateLimited,
		retryAfter: time.Minute,
	}, {
		name:  "a token not authorized for the organization's SSO is a permanent auth error with GitHub's words",
		steps: []step{ghLookup(200, ghIdentity(ghEmail, ghLogin)), ghList(1, 403, ghSAMLEnforced)},
		kind:  vendorapi.Auth,
		text:  []string{"github: GET " + ghOrgs, "missing scope or permission", "SAML enforcement"},
	}, {
		name:  "a 404 of the list is a permanent error that says what to check, never not_found",
		steps: []step{ghLookup(200, ghIdentity(ghEmail, ghLogin)), ghList(1, 404, ghNotFound)},
		kind:  vendorapi.NotFound,
		text:  []string{"check org", "GitHub Enterprise Cloud"},
	}, {
		name: "a secondary rate limit answered 403 with retry-after waits what GitHub asks",
		steps: []step{ghLookup(200, ghIdentity(ghEmail, ghLogin)), {Method: "GET", Path: ghOrgs, Status: 403, Body: ghSecondaryLimit,
			Query: url.Values{"login": {ghLogin}, "per_page": {"100"}, "page": {"1"}}, Header: map[string]string{"retry-after": "90"}}},
		kind:       vendorapi.RateLimited,
		retryAfter: 90 * time.Second,
	}, {
		name: "a 429 with retry-after waits what GitHub asks",
		steps: []step{ghLookup(200, ghIdentity(ghEmail, ghLogin)), ghList(1, 200, ghAuths(ghLogin, 1)),
			{Method: "DELETE", Path: ghOrgs + "/1", Status: 429, Body: ghSecondaryLimit, Header: map[string]string{"retry-after": "45"}}},
		kind:       vendorapi.RateLimited,
		retryAfter: 45 * time.Second,
	}, {
		name:  "a subject without an email is invalid and sends nothing",
		kind:  vendorapi.Invalid,
		steps: nil,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(fakeGitHub(t, tt.steps...))
			t.Cleanup(srv.Close)
			c, err := openGitHub(srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			subject := offboard.Subject{Email: ghEmail}
			if tt.steps == nil {
				subject = offboard.Subject{IDs: map[string]string{"okta": "00u1"}}
			}
			ctx, detail := connectors.WithReport(t.Context())
			got, err := c.Revoke(ctx, subject)
			if tt.kind == 0 {
				if err != nil {
					t.Fatalf("Revoke: unexpected error: %v", err)
				}
				if got != tt.want {
					t.Fatalf("outcome = %q, want %q (detail %q)", got, tt.want, detail())
				}
				for _, s := range tt.detail {
					if !strings.Contains(detail(), s) {
						t.Errorf("detail %q does not contain %q", detail(), s)
					}
				}
				return
			}
			e, ok := errors.AsType[*vendorapi.Error](err)
			if !ok {
				t.Fatalf("error = %v, want a *Error of kind %v", err, tt.kind)
			}
			if e.Kind != tt.kind {
				t.Errorf("kind = %v, want %v (%v)", e.Kind, tt.kind, err)
			}
			if tt.retryAfter != 0 && (e.RetryAfter < tt.retryAfter-2*time.Second || e.RetryAfter > tt.retryAfter) {
				t.Errorf("RetryAfter = %v, want %v", e.RetryAfter, tt.retryAfter)
			}
			for _, s := range tt.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if strings.Contains(err.Error(), ghToken) {
				t.Errorf("error holds the token: %q", err)
			}
		})
	}
}

func TestGitHubPrimaryRateLimitWaitsForTheReset(t *testing.T) {
	srv := httptest.NewServer(fakeGitHub(t, ghLimited()))
	t.Cleanup(srv.Close)
	c, err := openGitHub(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Revoke(t.Context(), offboard.Subject{Email: ghEmail})
	e, ok := errors.AsType[*vendorapi.Error](err)
	if !ok || e.Kind != vendorapi.RateLimited || e.Status != 403 {
		t.Fatalf("error = %v, want a rate limit that keeps GitHub's 403", err)
	}
	if e.RetryAfter < 55*time.Second || e.RetryAfter > time.Minute {
		t.Errorf("RetryAfter = %v, want about the minute to x-ratelimit-reset", e.RetryAfter)
	}
}

func TestGitHubCheck(t *testing.T) {
	probe := func(status int, body string) step {
		return step{Method: "GET", Path: ghOrgs, Query: url.Values{"per_page": {"1"}}, Status: status, Body: body}
	}
	tests := []struct {
		name string
		step step
		kind vendorapi.Kind
		text string
	}{
		{"an owner's token authorized for the organization passes", probe(200, ghAuths(ghLogin, 1)), 0, ""},
		{"a bad token fails with an auth error that names the credentials", probe(401, ghBadCredentials), vendorapi.Auth, "credentials rejected"},
		{"a token not authorized for SSO fails with GitHub's words", probe(403, ghSAMLEnforced), vendorapi.Auth, "SAML enforcement"},
		{"an unknown organization fails and says what to check", probe(404, ghNotFound), vendorapi.NotFound, "check org"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(fakeGitHub(t, tt.step))
			t.Cleanup(srv.Close)
			c, err := openGitHub(srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = c.(connectors.Checker).Check(t.Context())
			if tt.kind == 0 {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if e, ok := errors.AsType[*vendorapi.Error](err); !ok || e.Kind != tt.kind || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("Check error = %v, want kind %v mentioning %q", err, tt.kind, tt.text)
			}
		})
	}
}

func TestGitHubSettings(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]any
		want     []string
	}{{
		name:     "org and token are required",
		settings: map[string]any{},
		want:     []string{"(github).org: required", "(github).token: required"},
	}, {
		name:     "an org that is a URL, a token with its scheme and a base_url with credentials are each reported",
		settings: map[string]any{"org": "https://github.com/acme", "token": "Bearer " + ghToken, "base_url": "https://u:" + ghToken + "@api.github.com"},
		want:     []string{"(github).org: must be the organization's login", `(github).token: give the token alone`, "(github).base_url: must not hold credentials"},
	}, {
		name:     "an unknown key is refused",
		settings: map[string]any{"org": ghOrg, "token": ghToken, "organization": ghOrg},
		want:     []string{"organization"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conformance.WantBuildErrors(t, types, "github", tt.settings, tt.want, ghToken)
		})
	}
	t.Run("base_url defaults to api.github.com", func(t *testing.T) {
		cs, err := connectors.Build([]connectors.Spec{{Name: "github", Type: "github", Settings: map[string]any{"org": ghOrg, "token": ghToken}}}, types, connectors.Deps{})
		if err != nil || len(cs) != 1 {
			t.Fatalf("Build = %v, %v", cs, err)
		}
	})
}
