package github

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/offboarder/offboarder/simulator/fake"
)

// The fake answers one kind of GraphQL query, the documented way to find an
// organization's external identities:
//
//	organization(login: …) { samlIdentityProvider { externalIdentities(userName: …, login: …, first: …) { … } } }
//
// with literal or $variable arguments. It answers every field of the
// identities that the docs list (guid, samlIdentity, scimIdentity, user)
// whatever the selection, under nodes and under edges. Any other query is
// answered 200 with an error, as GitHub answers a query it cannot run.
// https://docs.github.com/enterprise-cloud@latest/graphql/reference/objects#externalidentity
// https://docs.github.com/enterprise-cloud@latest/graphql/reference/objects#organizationidentityprovider
var (
	githubOrgArg   = regexp.MustCompile(`organization\s*\(\s*login\s*:\s*(\$\w+|"(?:[^"\\]|\\.)*")\s*\)`)
	githubIdentArg = regexp.MustCompile(`externalIdentities\s*\(([^)]*)\)`)
	githubArg      = regexp.MustCompile(`(\w+)\s*:\s*(\$\w+|"(?:[^"\\]|\\.)*"|\d+)`)
)

// githubMaxFirst is the largest page a GraphQL connection gives.
const githubMaxFirst = 100

func (g *github) graphql(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, fake.MaxBody)).Decode(&req); err != nil || req.Query == "" {
		githubFail(w, http.StatusBadRequest, "Problems parsing JSON", "https://docs.github.com/graphql")
		return
	}
	om := githubOrgArg.FindStringSubmatch(req.Query)
	im := githubIdentArg.FindStringSubmatch(req.Query)
	if om == nil || im == nil || !strings.Contains(req.Query, "samlIdentityProvider") {
		graphQLErrors(w, nil, "OTHER", "the simulator answers only organization.samlIdentityProvider.externalIdentities queries")
		return
	}
	org, ok := githubValue(om[1], req.Variables)
	if !ok {
		graphQLErrors(w, nil, "OTHER", "Variable $org of type String! was provided invalid value")
		return
	}
	if !strings.EqualFold(org, g.config().org()) {
		graphQLErrors(w, map[string]any{"organization": nil}, "NOT_FOUND",
			fmt.Sprintf("Could not resolve to an Organization with the login of '%s'.", org))
		return
	}
	args := map[string]string{}
	for _, a := range githubArg.FindAllStringSubmatch(im[1], -1) {
		if v, ok := githubValue(a[2], req.Variables); ok {
			args[a[1]] = v
		}
	}
	first, err := strconv.Atoi(args["first"])
	if err != nil || first < 1 || first > githubMaxFirst {
		graphQLErrors(w, nil, "OTHER", "You must provide a `first` value between 1 and 100 to properly paginate the `externalIdentities` connection.")
		return
	}
	var nodes []map[string]any
	g.mu.Lock()
	for _, login := range g.users.IDs() {
		m := g.users.ByID(login)
		// userName filters on the SAML NameID or the SCIM userName, both
		// the email here; login on the linked account's login.
		if u, set := args["userName"]; set && !strings.EqualFold(u, m.email) {
			continue
		}
		if l, set := args["login"]; set && !strings.EqualFold(l, m.login) {
			continue
		}
		if len(nodes) < first {
			nodes = append(nodes, m.identity())
		}
	}
	g.mu.Unlock()
	if nodes == nil {
		nodes = []map[string]any{}
	}
	edges := make([]map[string]any, len(nodes))
	for i, n := range nodes {
		edges[i] = map[string]any{"cursor": fmt.Sprintf("Y3Vyc29yOnYyOpE%d", i), "node": n}
	}
	fake.WriteJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"organization": map[string]any{
		"samlIdentityProvider": map[string]any{"externalIdentities": map[string]any{
			"nodes": nodes, "edges": edges, "totalCount": len(nodes),
			"pageInfo": map[string]any{"hasNextPage": false, "endCursor": nil},
		}},
	}}})
}

// identity renders m's external identity: SAML NameID and SCIM userName
// are the email, and the identity is linked to m's account.
func (m *member) identity() map[string]any {
	emails := []map[string]any{{"value": m.email, "primary": true, "type": "work"}}
	given, family := fake.Names(m.email)
	return map[string]any{
		"guid":         "sim-" + m.login,
		"samlIdentity": map[string]any{"nameId": m.email, "username": m.email, "emails": emails, "givenName": given, "familyName": family},
		"scimIdentity": map[string]any{"username": m.email, "emails": emails, "givenName": given, "familyName": family},
		"user":         map[string]any{"login": m.login},
	}
}

// githubValue is an argument's value: a quoted literal, a number, or a
// $variable of vars that is a string or a number.
func githubValue(raw string, vars map[string]any) (string, bool) {
	switch {
	case strings.HasPrefix(raw, `"`):
		s, err := strconv.Unquote(raw)
		return s, err == nil
	case strings.HasPrefix(raw, "$"):
		switch v := vars[raw[1:]].(type) {
		case string:
			return v, true
		case float64:
			return strconv.Itoa(int(v)), true
		}
		return "", false
	}
	return raw, true
}

// graphQLErrors answers 200 with GraphQL errors of one type, and data
// when there is any.
func graphQLErrors(w http.ResponseWriter, data map[string]any, typ, msg string) {
	body := map[string]any{"errors": []map[string]any{{"type": typ, "message": msg}}}
	if data != nil {
		body["data"] = data
	}
	fake.WriteJSON(w, http.StatusOK, body)
}
