package zendesk

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

// searchPageSize is Search Users' default and largest per_page.
const searchPageSize = 100

// search answers Search Users: query in Zendesk's search syntax, of which
// the fake knows email:{address} (the whole address, quoted or not, in any
// case) and bare words (a part of the email or the name). Offset pagination
// with page and per_page (up to 100), next_page and count.
// https://developer.zendesk.com/api-reference/ticketing/users/users/#search-users
// https://developer.zendesk.com/api-reference/introduction/pagination/
func (z *zendesk) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, err1 := positive(q.Get("page"), 1)
	per, err2 := positive(q.Get("per_page"), searchPageSize)
	if err1 != nil || err2 != nil {
		zendeskFail(w, http.StatusBadRequest, "InvalidPaginationParameter", "page and per_page must be positive integers")
		return
	}
	per = min(per, searchPageSize)
	query := strings.TrimSpace(q.Get("query"))
	if query == "" && q.Get("external_id") == "" {
		zendeskFail(w, http.StatusBadRequest, "InvalidSearch", "Search query is required")
		return
	}
	email, words := searchEmail(query), searchWords(query)
	var hits []*zendeskUser
	z.mu.Lock()
	if u := z.users.ByEmail(email); email != "" && u != nil && len(words) == 0 {
		hits = []*zendeskUser{u} // one exact address: skip the scan
	} else if email == "" || z.users.ByEmail(email) != nil {
		for _, id := range z.users.IDs() {
			if u := z.users.ByID(id); matches(u, email, words) {
				hits = append(hits, u)
			}
		}
	}
	out := []map[string]any{}
	for i := (page - 1) * per; i < len(hits) && len(out) < per; i++ {
		out = append(out, z.view(r, hits[i]))
	}
	z.mu.Unlock()
	var next any
	if page*per < len(hits) {
		v := url.Values{"query": {query}, "page": {strconv.Itoa(page + 1)}, "per_page": {strconv.Itoa(per)}}
		next = fake.CallerURL(r, "/zendesk/api/v2/users/search.json?"+v.Encode())
	}
	fake.WriteJSON(w, http.StatusOK, map[string]any{"users": out, "next_page": next, "previous_page": nil, "count": len(hits)})
}

// me answers Show Self: the admin the API token belongs to.
// https://developer.zendesk.com/api-reference/ticketing/users/users/#show-self
func (z *zendesk) me(w http.ResponseWriter, r *http.Request) {
	c := z.config().withDefaults()
	fake.WriteJSON(w, http.StatusOK, map[string]any{"user": map[string]any{
		"id": adminID, "url": fake.CallerURL(r, "/zendesk/api/v2/users/"+strconv.FormatInt(adminID, 10)+".json"),
		"name": "Simulated Admin", "email": c.Email, "role": "admin", "active": true, "verified": true, "suspended": false,
	}})
}

// listSessions answers List Sessions of a user: {"sessions":[…]} with
// offset pagination's next_page and count; an unknown user is 404
// RecordNotFound.
// https://developer.zendesk.com/api-reference/ticketing/account-configuration/sessions/#list-sessions
func (z *zendesk) listSessions(w http.ResponseWriter, r *http.Request) {
	out := []map[string]any{}
	if !z.withUser(w, r, func(u *zendeskUser) {
		for _, s := range u.sessions {
			out = append(out, map[string]any{
				"id": s.id, "user_id": u.id,
				"url":              fake.CallerURL(r, "/zendesk/api/v2/users/"+strconv.FormatInt(u.id, 10)+"/sessions/"+strconv.FormatInt(s.id, 10)+".json"),
				"authenticated_at": s.authenticated.Format(time.RFC3339),
				"last_seen_at":     s.authenticated.Format(time.RFC3339),
			})
		}
	}) {
		return
	}
	fake.WriteJSON(w, http.StatusOK, map[string]any{"sessions": out, "next_page": nil, "previous_page": nil, "count": len(out)})
}

// deleteSessions answers Bulk Delete Sessions: every session of the user
// ends, 204 No Content; an unknown user is 404 RecordNotFound.
// https://developer.zendesk.com/api-reference/ticketing/account-configuration/sessions/#bulk-delete-sessions
func (z *zendesk) deleteSessions(w http.ResponseWriter, r *http.Request) {
	if z.withUser(w, r, func(u *zendeskUser) { u.sessions = nil }) {
		w.WriteHeader(http.StatusNoContent)
	}
}

// withUser runs f, under z.mu, on the user the path's id names; an
// unknown id is 404 RecordNotFound and f is not run.
func (z *zendesk) withUser(w http.ResponseWriter, r *http.Request, f func(u *zendeskUser)) bool {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	z.mu.Lock()
	var u *zendeskUser
	if err == nil {
		u = z.users.ByID(id)
	}
	if u != nil {
		f(u)
	}
	z.mu.Unlock()
	if u == nil {
		zendeskFail(w, http.StatusNotFound, "RecordNotFound", "Not found")
	}
	return u != nil
}

// view renders u as an end user object; z.mu must be held.
// https://developer.zendesk.com/api-reference/ticketing/users/users/ (JSON format)
func (z *zendesk) view(r *http.Request, u *zendeskUser) map[string]any {
	first, last := fake.Names(u.email)
	return map[string]any{"id": u.id, "url": fake.CallerURL(r, "/zendesk/api/v2/users/"+strconv.FormatInt(u.id, 10)+".json"),
		"name": first + " " + last, "email": u.email, "role": "end-user", "active": true, "verified": true,
		"suspended": false, "created_at": u.created.Format(time.RFC3339)}
}

// searchEmail is the address of an email: term of query, unquoted and in
// lower case, or "".
func searchEmail(query string) string {
	for _, f := range strings.Fields(query) {
		if v, ok := strings.CutPrefix(strings.ToLower(f), "email:"); ok {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

// searchWords are the bare words of query in lower case: neither an email:
// term nor type:user.
func searchWords(query string) []string {
	var words []string
	for _, f := range strings.Fields(strings.ToLower(query)) {
		if !strings.HasPrefix(f, "email:") && f != "type:user" {
			words = append(words, strings.Trim(f, `"`))
		}
	}
	return words
}

// matches reports whether u has the address email (if any) and every word
// in its email or name.
func matches(u *zendeskUser, email string, words []string) bool {
	if email != "" && u.email != email {
		return false
	}
	first, last := fake.Names(u.email)
	name := strings.ToLower(first + " " + last)
	for _, w := range words {
		if !strings.Contains(u.email, w) && !strings.Contains(name, w) {
			return false
		}
	}
	return true
}

// positive parses s as an integer of at least 1, or answers def for "".
func positive(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err == nil && n < 1 {
		err = strconv.ErrRange
	}
	return n, err
}
