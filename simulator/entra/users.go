package entra

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

// getUser answers a user by object id or userPrincipalName (any case),
// with the default properties or those $select names; 404
// Request_ResourceNotFound if there is none.
// https://learn.microsoft.com/en-us/graph/api/user-get?view=graph-rest-1.0
func (e *entra) getUser(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("id")
	sel, msg := entraSelect(r.URL.Query().Get("$select"))
	if msg != "" {
		graphFail(w, r, http.StatusBadRequest, "Request_BadRequest", msg)
		return
	}
	e.mu.Lock()
	u := e.find(key)
	var view map[string]any
	if u != nil {
		view = e.view(u, sel)
	}
	e.mu.Unlock()
	if u == nil {
		graphNotFound(w, r, key)
		return
	}
	view["@odata.context"] = entraContext(r, sel, "/$entity")
	fake.WriteJSON(w, http.StatusOK, view)
}

// listUsers answers {"value": [...]} one page at a time ($top, default
// 100, at most 999), with @odata.nextLink while more are left. $filter
// takes eq on id, mail and userPrincipalName, joined with and / or; values
// are single-quoted, a quote inside written twice.
// https://learn.microsoft.com/en-us/graph/api/user-list?view=graph-rest-1.0
// https://learn.microsoft.com/en-us/graph/query-parameters#escaping-single-quotes
func (e *entra) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sel, msg := entraSelect(q.Get("$select"))
	if msg != "" {
		graphFail(w, r, http.StatusBadRequest, "Request_BadRequest", msg)
		return
	}
	top := entraPageSize
	if t := q.Get("$top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 || n > entraMaxTop {
			graphFail(w, r, http.StatusBadRequest, "Request_BadRequest", "Invalid page size specified: '"+t+"'. Must be between 1 and 999 inclusive.")
			return
		}
		top = n
	}
	match := func(*entraUser) bool { return true }
	if f := q.Get("$filter"); f != "" {
		m, code, msg := parseEntraFilter(f)
		if msg != "" {
			graphFail(w, r, http.StatusBadRequest, code, msg)
			return
		}
		match = m
	}
	skip := 0
	if s := q.Get("$skiptoken"); s != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(s, "sim"))
		if err != nil || n < 0 || !strings.HasPrefix(s, "sim") {
			graphFail(w, r, http.StatusBadRequest, "Request_BadRequest", "Invalid SkipToken value.")
			return
		}
		skip = n
	}
	page := []map[string]any{}
	next := -1
	e.mu.Lock()
	ids := e.users.IDs()
	for i := skip; i < len(ids); i++ {
		u := e.users.ByID(ids[i])
		if !match(u) {
			continue
		}
		if len(page) == top {
			next = i
			break
		}
		page = append(page, e.view(u, sel))
	}
	e.mu.Unlock()
	body := map[string]any{"@odata.context": entraContext(r, sel, ""), "value": page}
	if next >= 0 {
		q.Set("$skiptoken", "sim"+strconv.Itoa(next))
		body["@odata.nextLink"] = fake.CallerURL(r, entraPrefix+"/v1.0/users") + "?" + q.Encode()
	}
	fake.WriteJSON(w, http.StatusOK, body)
}

// revoke sets the user's signInSessionsValidFromDateTime to now (whole
// seconds, as Graph shows it) and ends their sessions. Graph documents 200
// with {"value": true}; 404 Request_ResourceNotFound if there is no such
// user.
// https://learn.microsoft.com/en-us/graph/api/user-revokesigninsessions?view=graph-rest-1.0
func (e *entra) revoke(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("id")
	e.mu.Lock()
	u := e.find(key)
	if u != nil {
		u.validFrom, u.sessions = time.Now().UTC().Truncate(time.Second), 0
	}
	e.mu.Unlock()
	if u == nil {
		graphNotFound(w, r, key)
		return
	}
	fake.WriteJSON(w, http.StatusOK, map[string]any{"@odata.context": fake.CallerURL(r, entraPrefix+"/v1.0/$metadata#Edm.Boolean"), "value": true})
}

// find resolves an object id or a userPrincipalName; e.mu must be held.
func (e *entra) find(key string) *entraUser {
	if u := e.users.ByID(strings.ToLower(key)); u != nil {
		return u
	}
	return e.users.ByEmail(strings.ToLower(key))
}

// entraProp is one user property: its name, how it reads and whether Graph
// returns it without $select.
type entraProp struct {
	name   string
	value  func(u *entraUser) any
	byDflt bool
}

// entraProps are the user properties the fake keeps.
// https://learn.microsoft.com/en-us/graph/api/resources/user?view=graph-rest-1.0
var entraProps = []entraProp{
	{"businessPhones", func(*entraUser) any { return []string{} }, true},
	{"displayName", func(u *entraUser) any { return u.givenName + " " + u.surname }, true},
	{"givenName", func(u *entraUser) any { return u.givenName }, true},
	{"jobTitle", func(*entraUser) any { return nil }, true},
	{"mail", func(u *entraUser) any { return u.upn }, true},
	{"mobilePhone", func(*entraUser) any { return nil }, true},
	{"officeLocation", func(*entraUser) any { return nil }, true},
	{"preferredLanguage", func(*entraUser) any { return nil }, true},
	{"surname", func(u *entraUser) any { return u.surname }, true},
	{"userPrincipalName", func(u *entraUser) any { return u.upn }, true},
	{"id", func(u *entraUser) any { return u.id }, true},
	{"accountEnabled", func(u *entraUser) any { return !u.disabled }, false},
	// Returned only on $select.
	{"signInSessionsValidFromDateTime", func(u *entraUser) any { return u.validFrom.UTC().Format(entraDateFormat) }, false},
}

// entraSelect reads $select into property names (nil: the defaults), or
// says which property the user resource lacks.
func entraSelect(s string) ([]string, string) {
	if s == "" {
		return nil, ""
	}
	var names []string
	for n := range strings.SplitSeq(s, ",") {
		n = strings.TrimSpace(n)
		i := slices.IndexFunc(entraProps, func(p entraProp) bool { return strings.EqualFold(p.name, n) })
		if i < 0 {
			return nil, "Could not find a property named '" + n + "' on type 'Microsoft.DirectoryServices.User'."
		}
		names = append(names, entraProps[i].name)
	}
	return names, ""
}

// view renders u with the selected properties; e.mu must be held.
func (e *entra) view(u *entraUser, sel []string) map[string]any {
	v := map[string]any{}
	for _, p := range entraProps {
		if (sel == nil && p.byDflt) || slices.Contains(sel, p.name) {
			v[p.name] = p.value(u)
		}
	}
	return v
}

// entraContext is the @odata.context of a users answer.
func entraContext(r *http.Request, sel []string, suffix string) string {
	c := fake.CallerURL(r, entraPrefix+"/v1.0/$metadata#users")
	if sel != nil {
		c += "(" + strings.Join(sel, ",") + ")"
	}
	return c + suffix
}
