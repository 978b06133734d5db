// Package github is the GitHub fake of the simulator: one GitHub
// Enterprise Cloud organization with SAML single sign-on, its members'
// SAML and SCIM external identities (GraphQL) and the SAML SSO
// authorizations of their credentials (REST), served under /github, so
// that a connector's base_url (the API root, https://api.github.com on
// GitHub.com) is http://host:port/github. Sources, each cited again where
// it decides:
//
//   - Credential authorizations, list and removal: https://docs.github.com/enterprise-cloud@latest/rest/orgs/orgs#list-saml-sso-authorizations-for-an-organization
//     and #remove-a-saml-sso-authorization-for-an-organization; their OpenAPI description:
//     https://github.com/github/rest-api-description/blob/main/descriptions/ghec/ghec.2022-11-28.yaml
//   - External identities: https://docs.github.com/enterprise-cloud@latest/graphql/reference/objects#externalidentity
//     and #organizationidentityprovider (externalIdentities(userName:, login:, first:))
//   - Pagination (per_page, page, the Link header): https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api
//   - Authentication (Bearer or token): https://docs.github.com/en/rest/authentication/authenticating-to-the-rest-api
//   - Error bodies {"message","documentation_url"}: https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api
//   - Rate limits (x-ratelimit-* headers; over the limit 403 "API rate limit
//     exceeded …" with x-ratelimit-remaining 0): https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
//
// Every simulated person is a member whose SAML NameID and SCIM userName
// are their email, linked to a GitHub account whose login is derived from
// it; each "session" is one SAML SSO authorization of a credential
// (personal access tokens and SSH keys in turn). GitHub has no API for web
// sessions, so the fake has none.
package github

import (
	"cmp"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

// Config is the organization the GitHub fake serves and the token it
// accepts; it is read again on every call. "" means "sim-github-org" and
// "sim-github-token".
type Config struct {
	Org, Token string
}

// Defaults of Config.
const (
	DefaultOrg   = "sim-github-org"
	DefaultToken = "sim-github-token"
)

func (c Config) org() string   { return cmp.Or(c.Org, DefaultOrg) }
func (c Config) token() string { return cmp.Or(c.Token, DefaultToken) }

// New returns the GitHub fake with no users; config gives its
// organization and token.
func New(config func() Config) fake.Vendor { return newGitHub(config) }

const firstCredentialID = 161195 // the docs' example credential_id

type github struct {
	config func() Config

	mu     sync.Mutex
	users  *fake.Directory[string, member] // by login
	nextID int64
}

// member is one organization member: their GitHub login, the email their
// external identity carries, and the SAML SSO authorizations of their
// credentials.
type member struct {
	login, email string
	auths        []credential
}

// credential is one SAML SSO authorization of a credential.
type credential struct {
	id           int64
	ssh          bool
	authorizedAt time.Time
}

func newGitHub(config func() Config) *github {
	g := &github{config: config, nextID: firstCredentialID}
	g.users = fake.NewDirectory[string](&g.mu, func(m *member) int { return len(m.auths) })
	return g
}

func (g *github) Name() string { return "github" }

func (g *github) Register(route func(string, http.HandlerFunc)) {
	// https://docs.github.com/en/graphql/guides/forming-calls-with-graphql
	route("POST /graphql", g.graphql)
	// https://docs.github.com/enterprise-cloud@latest/rest/orgs/orgs#list-saml-sso-authorizations-for-an-organization
	route("GET /orgs/{org}/credential-authorizations", g.listAuthorizations)
	// https://docs.github.com/enterprise-cloud@latest/rest/orgs/orgs#remove-a-saml-sso-authorization-for-an-organization
	route("DELETE /orgs/{org}/credential-authorizations/{credential_id}", g.removeAuthorization)
	route("/", func(w http.ResponseWriter, r *http.Request) {
		githubFail(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest")
	})
}

// AddUser makes the person a member with sessions SAML SSO authorizations
// (personal access tokens and SSH keys in turn), replacing the ones they
// had; their login is kept.
func (g *github) AddUser(email string, sessions int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	m := g.users.Ensure(email, func() (string, *member) {
		login := g.freeLogin(email)
		return login, &member{login: login, email: email}
	})
	now := time.Now().UTC().Truncate(time.Second)
	m.auths = nil
	for i := range max(sessions, 0) {
		m.auths = append(m.auths, credential{id: g.nextID, ssh: i%2 == 1, authorizedAt: now})
		g.nextID++
	}
}

// freeLogin derives a GitHub login from email's local part (letters,
// digits and single hyphens, at most 39 characters), numbered when taken;
// g.mu must be held.
func (g *github) freeLogin(email string) string {
	local, _, _ := strings.Cut(email, "@")
	var b strings.Builder
	for _, r := range strings.ToLower(local) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	base := strings.Trim(b.String(), "-")
	if len(base) > 34 {
		base = strings.Trim(base[:34], "-")
	}
	base = cmp.Or(base, "user")
	login := base
	for n := 2; g.users.ByID(login) != nil; n++ {
		login = base + "-" + strconv.Itoa(n)
	}
	return login
}

// Sessions counts the person's SAML SSO authorizations, or -1.
func (g *github) Sessions(email string) int { return g.users.Sessions(email) }

// Users returns email → SAML SSO authorizations.
func (g *github) Users() map[string]int { return g.users.Users() }

// Subject is the member a list names by login or a removal names by
// credential; a GraphQL call's subject is in its body and is not read.
func (g *github) Subject(r *http.Request) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if login := r.URL.Query().Get("login"); login != "" {
		if m := g.users.ByID(strings.ToLower(login)); m != nil {
			return m.email
		}
	}
	if id, err := strconv.ParseInt(r.PathValue("credential_id"), 10, 64); err == nil {
		if m, _ := g.credential(id); m != nil {
			return m.email
		}
	}
	return ""
}

// Authorized wants the token as "Authorization: Bearer <token>" or
// "Authorization: token <token>", which GitHub takes alike.
// https://docs.github.com/en/rest/authentication/authenticating-to-the-rest-api
func (g *github) Authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		tok, ok = strings.CutPrefix(h, "token ")
	}
	return ok && fake.SameSecret(tok, g.config().token())
}

// Fail answers a knob-made failure as GitHub does: 401 "Bad credentials",
// the primary rate limit as 403 "API rate limit exceeded …" (Quota has set
// x-ratelimit-remaining 0 and the reset), and a 503.
// https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
func (g *github) Fail(w http.ResponseWriter, f fake.Failure) {
	switch f {
	case fake.Unauthorized:
		githubFail(w, http.StatusUnauthorized, "Bad credentials", "https://docs.github.com/rest")
	case fake.RateLimited:
		githubFail(w, http.StatusForbidden, "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID.",
			"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api")
	default:
		githubFail(w, http.StatusServiceUnavailable, "Service Unavailable", "https://docs.github.com/rest")
	}
}

// Quota sets the x-ratelimit-* headers GitHub sends on every answer;
// x-ratelimit-reset is in UTC epoch seconds.
// https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#checking-the-status-of-your-rate-limit
func (g *github) Quota(h http.Header, q fake.Quota) {
	h.Set("x-ratelimit-limit", strconv.Itoa(q.Limit))
	h.Set("x-ratelimit-remaining", strconv.Itoa(q.Remaining))
	h.Set("x-ratelimit-used", strconv.Itoa(q.Limit-q.Remaining))
	h.Set("x-ratelimit-reset", strconv.FormatInt(q.Reset.Unix(), 10))
	h.Set("x-ratelimit-resource", "core")
}

// githubFail writes GitHub's error body.
func githubFail(w http.ResponseWriter, status int, msg, doc string) {
	fake.WriteJSON(w, status, map[string]string{"message": msg, "documentation_url": doc, "status": strconv.Itoa(status)})
}
