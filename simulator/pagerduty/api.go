package pagerduty

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

const (
	pagerdutyDefaultLimit = 25  // limit's default
	pagerdutyMaxLimit     = 100 // limit's maximum
)

// listUsers answers the account's users in id order, those whose name or
// email contains query (without case) when it is given, a page of limit
// (default 25, at most 100) from offset, with more telling whether any
// follow and total null (total=true is not asked for).
// https://developer.pagerduty.com/api-reference/c96e889522dd6-list-users
func (p *pagerduty) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err1 := pagerdutyInt(q.Get("limit"), pagerdutyDefaultLimit)
	offset, err2 := pagerdutyInt(q.Get("offset"), 0)
	if err1 != nil || err2 != nil || limit < 1 || offset < 0 {
		pagerdutyFail(w, http.StatusBadRequest, "Invalid Input Provided", 2001, "limit and offset must be non-negative integers")
		return
	}
	limit = min(limit, pagerdutyMaxLimit)
	query := strings.ToLower(strings.TrimSpace(q.Get("query")))
	var match []map[string]any
	p.mu.Lock()
	for _, id := range p.users.IDs() {
		u := p.users.ByID(id)
		first, last := fake.Names(u.email)
		name := first + " " + last
		if query != "" && !strings.Contains(strings.ToLower(name), query) && !strings.Contains(u.email, query) {
			continue
		}
		match = append(match, pagerdutyUser(r, u, name))
	}
	p.mu.Unlock()
	page := match[min(offset, len(match)):min(offset+limit, len(match))]
	if page == nil {
		page = []map[string]any{}
	}
	fake.WriteJSON(w, http.StatusOK, map[string]any{"users": page, "limit": limit, "offset": offset,
		"more": offset+limit < len(match), "total": nil})
}

// deleteDelegations revokes the delegations of user_id of the types in
// type (web, mobile, comma-separated; both required), at once — "This is a
// synchronous API" — and answers 200 {"status":"ok"}, also when there was
// nothing to revoke. A missing or unknown argument is 400 (the call
// documents no 404).
// https://developer.pagerduty.com/api-reference/ad1161db75db1-delete-all-o-auth-delegations
func (p *pagerduty) deleteDelegations(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var kinds []string
	for k := range strings.SplitSeq(q.Get("type"), ",") {
		if k = strings.TrimSpace(k); k != "web" && k != "mobile" {
			pagerdutyFail(w, http.StatusBadRequest, "Invalid Input Provided", 2001, "type must be one or more of mobile, web")
			return
		}
		kinds = append(kinds, k)
	}
	p.mu.Lock()
	u := p.users.ByID(q.Get("user_id"))
	if u != nil {
		for i, d := range u.delegations {
			if slices.Contains(kinds, d.kind) {
				u.delegations[i].revoked = true
			}
		}
	}
	p.mu.Unlock()
	if u == nil {
		pagerdutyFail(w, http.StatusBadRequest, "Invalid Input Provided", 2001, "user_id is not a user of this account")
		return
	}
	fake.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// listDelegations answers the user's delegations, filtered by
// delegation_type and status (comma-separated), a page of limit (default
// 25, at most 100) from cursor, with more and next_cursor. An unknown user
// is 404.
// https://developer.pagerduty.com/api-reference/fc03ba9dffd1f-list-user-o-auth-delegations
func (p *pagerduty) listDelegations(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err1 := pagerdutyInt(q.Get("limit"), pagerdutyDefaultLimit)
	start, err2 := pagerdutyInt(q.Get("cursor"), 0)
	if err1 != nil || err2 != nil || limit < 1 || start < 0 {
		pagerdutyFail(w, http.StatusBadRequest, "Invalid Input Provided", 2001, "limit and cursor must be ones this API gave")
		return
	}
	limit = min(limit, pagerdutyMaxLimit)
	in := func(filter, v string) bool {
		return filter == "" || slices.Contains(strings.Split(filter, ","), v)
	}
	var match []map[string]any
	p.mu.Lock()
	u := p.users.ByID(r.PathValue("id"))
	if u != nil {
		for _, d := range u.delegations {
			status := "issued"
			if d.revoked {
				status = "revoked"
			}
			if in(q.Get("delegation_type"), d.kind) && in(q.Get("status"), status) {
				match = append(match, pagerdutyDelegation(r, u, d, status))
			}
		}
	}
	p.mu.Unlock()
	if u == nil {
		pagerdutyFail(w, http.StatusNotFound, "Not Found", 2100)
		return
	}
	page := match[min(start, len(match)):min(start+limit, len(match))]
	if page == nil {
		page = []map[string]any{}
	}
	more := start+limit < len(match)
	var next any
	if more {
		next = strconv.Itoa(start + limit)
	}
	fake.WriteJSON(w, http.StatusOK, map[string]any{"oauth_delegations": page, "limit": limit, "more": more, "next_cursor": next})
}

// pagerdutyUser renders u as the User schema's fields the fake keeps.
func pagerdutyUser(r *http.Request, u *user, name string) map[string]any {
	return map[string]any{"id": u.id, "type": "user", "summary": name, "name": name, "email": u.email,
		"self": fake.CallerURL(r, "/pagerduty/users/"+u.id), "html_url": "https://simulated.pagerduty.com/users/" + u.id,
		"role": "user", "time_zone": "Etc/UTC", "color": "green", "invitation_sent": false, "teams": []any{}}
}

// pagerdutyDelegation renders d as the OAuthDelegation schema; the
// schema's delegation_type is sent as the doc's example's type too.
func pagerdutyDelegation(r *http.Request, u *user, d delegation, status string) map[string]any {
	return map[string]any{"id": d.id, "delegation_type": d.kind, "type": d.kind, "client_id": d.client, "status": status,
		"scope": d.scope, "created_at": d.created.Format(time.RFC3339), "expires_at": d.created.Add(7 * 24 * time.Hour).Format(time.RFC3339),
		"self": fake.CallerURL(r, "/pagerduty/users/"+u.id+"/oauth_delegations/"+d.id)}
}

// pagerdutyInt parses s, or answers def for "".
func pagerdutyInt(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	return strconv.Atoi(s)
}
