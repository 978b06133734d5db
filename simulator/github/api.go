package github

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

const (
	githubDefaultPerPage = 30  // per_page's default
	githubMaxPerPage     = 100 // per_page's maximum
	githubListDoc        = "https://docs.github.com/rest/orgs/orgs#list-saml-sso-authorizations-for-an-organization"
	githubRemoveDoc      = "https://docs.github.com/rest/orgs/orgs#remove-a-saml-sso-authorization-for-an-organization"
)

// listAuthorizations answers the organization's credential
// authorizations as an array, in credential order, optionally only those
// of one login (compared without case, as logins are); per_page (default
// 30, at most 100) and page page through them, with a Link header naming
// the next and last pages. An unknown organization is 404.
// https://docs.github.com/enterprise-cloud@latest/rest/orgs/orgs#list-saml-sso-authorizations-for-an-organization
// https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api
func (g *github) listAuthorizations(w http.ResponseWriter, r *http.Request) {
	if !g.inOrg(w, r, githubListDoc) {
		return
	}
	q := r.URL.Query()
	perPage, page := githubInt(q.Get("per_page"), githubDefaultPerPage), githubInt(q.Get("page"), 1)
	perPage = min(max(perPage, 1), githubMaxPerPage)
	page = max(page, 1)
	login := strings.ToLower(q.Get("login"))

	var all []map[string]any
	g.mu.Lock()
	for _, id := range g.users.IDs() {
		m := g.users.ByID(id)
		if login != "" && m.login != login {
			continue
		}
		for _, c := range m.auths {
			all = append(all, m.view(c))
		}
	}
	g.mu.Unlock()

	last := max((len(all)+perPage-1)/perPage, 1)
	from := min((page-1)*perPage, len(all))
	out := all[from:min(from+perPage, len(all))]
	if out == nil {
		out = []map[string]any{}
	}
	if page < last {
		w.Header().Set("Link", githubLink(r, page+1, "next")+", "+githubLink(r, last, "last"))
	}
	fake.WriteJSON(w, http.StatusOK, out)
}

// removeAuthorization removes one credential authorization: 204; 404 for
// an unknown organization or credential.
// https://docs.github.com/enterprise-cloud@latest/rest/orgs/orgs#remove-a-saml-sso-authorization-for-an-organization
func (g *github) removeAuthorization(w http.ResponseWriter, r *http.Request) {
	if !g.inOrg(w, r, githubRemoveDoc) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("credential_id"), 10, 64)
	g.mu.Lock()
	m, i := g.credential(id)
	if err == nil && m != nil {
		m.auths = append(m.auths[:i], m.auths[i+1:]...)
	}
	g.mu.Unlock()
	if err != nil || m == nil {
		githubFail(w, http.StatusNotFound, "Not Found", githubRemoveDoc)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// credential is the member holding the authorization id and its index;
// g.mu must be held.
func (g *github) credential(id int64) (*member, int) {
	for _, login := range g.users.IDs() {
		m := g.users.ByID(login)
		for i, c := range m.auths {
			if c.id == id {
				return m, i
			}
		}
	}
	return nil, -1
}

// inOrg answers 404 for a call to another organization, with the
// endpoint's documentation_url as GitHub gives it, and reports false.
func (g *github) inOrg(w http.ResponseWriter, r *http.Request, doc string) bool {
	if !strings.EqualFold(r.PathValue("org"), g.config().org()) {
		githubFail(w, http.StatusNotFound, "Not Found", doc)
		return false
	}
	return true
}

// view renders one authorization as the credential-authorization schema
// shows it: a personal access token with its last eight characters and
// scopes, an SSH key with its fingerprint and title.
func (m *member) view(c credential) map[string]any {
	v := map[string]any{"login": m.login, "credential_id": c.id, "credential_authorized_at": c.authorizedAt.Format(time.RFC3339),
		"credential_accessed_at": nil, "authorized_credential_id": c.id + 1_000_000}
	if c.ssh {
		v["credential_type"] = "SSH key"
		v["fingerprint"] = fmt.Sprintf("SHA256:sim%013d", c.id)
		v["authorized_credential_title"] = "laptop"
	} else {
		v["credential_type"] = "personal access token"
		v["token_last_eight"] = fmt.Sprintf("%08d", c.id%100_000_000)
		v["scopes"] = []string{"repo", "read:org"}
		v["authorized_credential_note"] = "sim token"
		v["authorized_credential_expires_at"] = nil
	}
	return v
}

// githubLink is one entry of a Link header: the URL of page as the caller
// reached this one.
func githubLink(r *http.Request, page int, rel string) string {
	q := r.URL.Query()
	q.Set("page", strconv.Itoa(page))
	u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
	if r.TLS != nil {
		u.Scheme = "https"
	}
	return fmt.Sprintf("<%s>; rel=%q", u.String(), rel)
}

// githubInt parses s, or answers def for "" or anything that is not a
// number.
func githubInt(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return n
}
