package okta

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/offboarder/offboarder/simulator/fake"
)

// getUser finds a user by id, login or (unambiguous) login shortname.
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/#tag/User/operation/getUser
func (o *okta) getUser(w http.ResponseWriter, r *http.Request) {
	if !o.allowed(w, r, oktaReadScope) {
		return
	}
	id := r.PathValue("id")
	o.mu.Lock()
	u := o.find(id)
	var view oktaUserJSON
	if u != nil {
		view = o.view(u, oktaBase(r))
	}
	o.mu.Unlock()
	if u == nil {
		oktaFail(w, oktaNotFound(id))
		return
	}
	fake.WriteJSON(w, http.StatusOK, view)
}

// listUsers answers a JSON array (empty when nothing matches), one page at a
// time, with Link headers rel="self" and rel="next".
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/#tag/User/operation/listUsers
func (o *okta) listUsers(w http.ResponseWriter, r *http.Request) {
	if !o.allowed(w, r, oktaReadScope) {
		return
	}
	base := oktaBase(r)
	o.mu.Lock()
	page, next, err := o.list(r.URL.Query())
	views := make([]oktaUserJSON, len(page))
	for i, u := range page {
		views[i] = o.view(u, base)
	}
	o.mu.Unlock()
	if err != nil {
		oktaFail(w, err)
		return
	}
	self := base + "/api/v1/users"
	if r.URL.RawQuery != "" {
		self += "?" + r.URL.RawQuery
	}
	w.Header().Add("Link", "<"+self+`>; rel="self"`)
	if next != "" {
		q := r.URL.Query()
		q.Set("after", next)
		w.Header().Add("Link", "<"+base+"/api/v1/users?"+q.Encode()+`>; rel="next"`)
	}
	fake.WriteJSON(w, http.StatusOK, views)
}

// list applies a listUsers query; next is the after cursor of the next page,
// "" on the last. o.mu must be held.
func (o *okta) list(q url.Values) (page []*oktaUser, next string, err error) {
	search, filter, text := q.Get("search"), q.Get("filter"), q.Get("q")
	given := 0
	for _, p := range []string{search, filter, text} {
		if p != "" {
			given++
		}
	}
	if given > 1 {
		return nil, "", oktaErr(http.StatusBadRequest, "E0000033", "Bad request. Can't specify a search query and filter in the same request.")
	}
	limit := oktaMaxLimit
	if text != "" {
		limit = oktaQLimit
	}
	if l := q.Get("limit"); l != "" {
		n, convErr := strconv.Atoi(l)
		if convErr != nil || n < 1 {
			return nil, "", oktaErr(http.StatusBadRequest, "E0000001", "Api validation failed: limit", "limit: must be a positive integer")
		}
		limit = min(n, oktaMaxLimit)
	}
	match := func(*oktaUser) bool { return true }
	switch {
	case search != "" || filter != "":
		mode, expr := oktaSearch, search
		if filter != "" {
			mode, expr = oktaFilter, filter
		}
		e, parseErr := parseOktaExpr(expr, mode)
		if parseErr != nil {
			return nil, "", oktaErr(http.StatusBadRequest, "E0000031", "Bad request. Invalid filter parameter.", parseErr.Error())
		}
		match = e.match
	case text != "":
		// q: a startsWith match on firstName, lastName or email.
		t := strings.ToLower(text)
		match = func(u *oktaUser) bool {
			return slices.ContainsFunc([]string{u.firstName, u.lastName, u.login}, func(v string) bool {
				return strings.HasPrefix(strings.ToLower(v), t)
			})
		}
	}
	after := q.Get("after")
	ids := o.users.IDs()
	start, found := slices.BinarySearch(ids, after)
	if found {
		start++
	}
	for _, id := range ids[start:] {
		if u := o.users.ByID(id); match(u) {
			if len(page) == limit {
				if text != "" { // q doesn't paginate
					break
				}
				return page, page[len(page)-1].id, nil
			}
			page = append(page, u)
		}
	}
	return page, "", nil
}

// revokeSessions ends every session of the user given by id (an id, not a
// login) and, with oauthTokens=true, their OAuth tokens; it answers 204 every
// time, also when nothing was left. oauthTokens defaults to false and
// forgetDevices to true; like Okta's Java stack, only "true" (any case) is
// true.
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserSessions/#tag/UserSessions/operation/revokeUserSessions
func (o *okta) revokeSessions(w http.ResponseWriter, r *http.Request) {
	if !o.allowed(w, r, oktaManageScope) {
		return
	}
	id := r.PathValue("id")
	oauthTokens := strings.EqualFold(r.URL.Query().Get("oauthTokens"), "true")
	o.mu.Lock()
	u := o.users.ByID(id)
	if u != nil {
		u.sessions = 0
		if oauthTokens {
			u.tokens = 0
		}
	}
	o.mu.Unlock()
	if u == nil {
		oktaFail(w, oktaNotFound(id))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// find resolves an id, a login, or a login shortname that only one user has.
// o.mu must be held.
func (o *okta) find(key string) *oktaUser {
	if u := o.users.ByID(key); u != nil {
		return u
	}
	if u := o.users.ByEmail(strings.ToLower(key)); u != nil {
		return u
	}
	var found *oktaUser
	for _, login := range o.users.Emails() {
		if short, _, _ := strings.Cut(login, "@"); strings.EqualFold(short, key) {
			if found != nil {
				return nil
			}
			found = o.users.ByEmail(login)
		}
	}
	return found
}

// oktaUserJSON is Okta's User object, as far as the simulator knows it.
type oktaUserJSON struct {
	ID              string              `json:"id"`
	Status          string              `json:"status"`
	Created         string              `json:"created"`
	Activated       string              `json:"activated"`
	StatusChanged   string              `json:"statusChanged"`
	LastLogin       *string             `json:"lastLogin"`
	LastUpdated     string              `json:"lastUpdated"`
	PasswordChanged *string             `json:"passwordChanged"`
	Type            oktaRef             `json:"type"`
	Profile         oktaProfile         `json:"profile"`
	Credentials     json.RawMessage     `json:"credentials"`
	Links           map[string]oktaLink `json:"_links"`
}

type oktaRef struct {
	ID string `json:"id"`
}

type oktaProfile struct {
	FirstName   string  `json:"firstName"`
	LastName    string  `json:"lastName"`
	MobilePhone *string `json:"mobilePhone"`
	SecondEmail *string `json:"secondEmail"`
	Login       string  `json:"login"`
	Email       string  `json:"email"`
}

type oktaLink struct {
	Href   string `json:"href"`
	Method string `json:"method,omitempty"`
}

// view renders u; o.mu must be held.
func (o *okta) view(u *oktaUser, base string) oktaUserJSON {
	at := u.created.Format(oktaTime)
	v := oktaUserJSON{
		ID: u.id, Status: "ACTIVE", Created: at, Activated: at, StatusChanged: at, LastUpdated: at,
		Type:        oktaRef{ID: oktaTypeID},
		Profile:     oktaProfile{FirstName: u.firstName, LastName: u.lastName, Login: u.login, Email: u.login},
		Credentials: json.RawMessage(`{"provider":{"type":"OKTA","name":"OKTA"}}`),
		Links: map[string]oktaLink{
			"self":       {Href: base + "/api/v1/users/" + u.id},
			"type":       {Href: base + "/api/v1/meta/types/user/" + oktaTypeID},
			"suspend":    {Href: base + "/api/v1/users/" + u.id + "/lifecycle/suspend", Method: http.MethodPost},
			"deactivate": {Href: base + "/api/v1/users/" + u.id + "/lifecycle/deactivate", Method: http.MethodPost},
		},
	}
	if u.loggedIn {
		v.LastLogin = &at
	}
	if u.deprovisioned {
		v.Status = "DEPROVISIONED"
	}
	return v
}
