package atlassian

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

// maxLimit bounds a search's page; the pages name no maximum.
const maxLimit = 100

// getOrg answers the organization, or 404 for another id.
// https://developer.atlassian.com/cloud/admin/organization/rest/api-group-orgs/
func (a *atlassian) getOrg(w http.ResponseWriter, r *http.Request) {
	if !a.ownOrg(w, r) {
		return
	}
	id := r.PathValue("orgId")
	fake.WriteJSON(w, http.StatusOK, map[string]any{"data": map[string]any{
		"id": id, "type": "orgs", "attributes": map[string]string{"name": "Simulated organization"},
		"relationships": map[string]any{
			"domains": map[string]any{"links": map[string]string{"related": fake.CallerURL(r, "/atlassian/admin/v1/orgs/"+id+"/domains")}},
			"users":   map[string]any{"links": map[string]string{"related": fake.CallerURL(r, "/atlassian/admin/v1/orgs/"+id+"/users")}},
		},
		"links": map[string]string{"self": fake.CallerURL(r, "/atlassian/admin/v1/orgs/"+id)},
	}})
}

// ownOrg answers 404 for an organization other than the configured one,
// and a directory other than its own or "-".
func (a *atlassian) ownOrg(w http.ResponseWriter, r *http.Request) bool {
	if r.PathValue("orgId") != a.config().orgID() {
		orgFail(w, http.StatusNotFound, "ADMIN-UAM-404-2", "Organization not found", "no organization "+strconv.Quote(r.PathValue("orgId")))
		return false
	}
	if d := r.PathValue("directoryId"); d != "" && d != "-" && d != directoryID {
		orgFail(w, http.StatusNotFound, "ADMIN-UAM-404-1", "Unknown Resource", "no directory "+strconv.Quote(d))
		return false
	}
	return true
}

// searchUsers answers a page of the organization's users: those with one
// of emails (exact, in any case), or whose address or name holds
// searchTerm, or all; paged by limit (default and cap 100) and cursor (the
// offset the answer's links.next names). emails and searchTerm together
// are 400, as the Users group documents.
// https://developer.atlassian.com/cloud/admin/organization/rest/api-group-users/
func (a *atlassian) searchUsers(w http.ResponseWriter, r *http.Request) {
	if !a.ownOrg(w, r) {
		return
	}
	var q struct {
		Emails     []string `json:"emails"`
		SearchTerm string   `json:"searchTerm"`
		Limit      int      `json:"limit"`
		Cursor     string   `json:"cursor"`
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, fake.MaxBody))
	if err != nil || len(strings.TrimSpace(string(raw))) > 0 && json.Unmarshal(raw, &q) != nil {
		orgFail(w, http.StatusBadRequest, "ADMIN-UAM-400-1", "Bad Request", "the body is not a search request")
		return
	}
	if len(q.Emails) > 0 && q.SearchTerm != "" {
		orgFail(w, http.StatusBadRequest, "ADMIN-UAM-400-1", "Bad Request", "searchTerm and emails are mutually exclusive")
		return
	}
	offset, err := strconv.Atoi(q.Cursor)
	if q.Cursor == "" {
		offset, err = 0, nil
	}
	if err != nil || offset < 0 || q.Limit < 0 {
		orgFail(w, http.StatusBadRequest, "ADMIN-UAM-400-1", "Bad Request", "invalid cursor or limit")
		return
	}
	limit := q.Limit
	if limit == 0 || limit > maxLimit {
		limit = maxLimit
	}
	a.mu.Lock()
	var matched []map[string]any
	for _, id := range a.users.IDs() {
		u := a.users.ByID(id)
		if a.matches(u, q.Emails, q.SearchTerm) {
			matched = append(matched, a.member(r, u))
		}
	}
	a.mu.Unlock()
	end := min(offset+limit, len(matched))
	page := []map[string]any{}
	if offset < len(matched) {
		page = matched[offset:end]
	}
	links := map[string]any{"self": fake.CallerURL(r, r.URL.Path)}
	if end < len(matched) {
		links["next"] = strconv.Itoa(end)
	}
	fake.WriteJSON(w, http.StatusOK, map[string]any{"data": page, "links": links})
}

// matches reports whether u answers the search; a.mu must be held.
func (a *atlassian) matches(u *atlUser, emails []string, term string) bool {
	switch {
	case len(emails) > 0:
		return slices.ContainsFunc(emails, func(e string) bool { return fake.NormalEmail(e) == u.email })
	case term != "":
		first, last := fake.Names(u.email)
		t := strings.ToLower(term)
		return strings.Contains(u.email, t) || strings.Contains(strings.ToLower(first+" "+last), t)
	}
	return true
}

// member renders u as a user of the search; a.mu must be held.
func (a *atlassian) member(r *http.Request, u *atlUser) map[string]any {
	first, last := fake.Names(u.email)
	m := map[string]any{
		"accountId": u.id, "accountType": "atlassian", "status": "active", "accountStatus": u.status,
		"membershipStatus": "active", "addedToOrg": u.created.Format(time.RFC3339), "name": first + " " + last,
		"nickname": first, "email": u.email, "emailVerified": true, "claimStatus": "managed",
		"managementSource": "invited", "mfaEnabled": false,
		"links": map[string]string{"self": fake.CallerURL(r, "/atlassian/admin/v2/orgs/"+a.config().orgID()+"/directories/"+directoryID+"/users/"+u.id)},
	}
	if u.status != "active" {
		m["deactivatedOn"] = u.disabled.Format(time.RFC3339)
	}
	return m
}

// user is the account the path names, or nil after a 404; a.mu must be held.
func (a *atlassian) user(w http.ResponseWriter, r *http.Request) *atlUser {
	u := a.users.ByID(r.PathValue("account_id"))
	if u == nil {
		keyFail(w, http.StatusNotFound, "notFound")
	}
	return u
}

// listTokens answers the user's API tokens.
// https://developer.atlassian.com/cloud/admin/user-management/rest/api-group-api-tokens/
func (a *atlassian) listTokens(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if u := a.user(w, r); u != nil {
		fake.WriteJSON(w, http.StatusOK, append([]apiToken{}, u.tokens...))
	}
}

// deleteToken deletes one API token: 204, or 404 for a token the user
// does not have.
// https://developer.atlassian.com/cloud/admin/user-management/rest/api-group-api-tokens/
func (a *atlassian) deleteToken(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	u := a.user(w, r)
	if u == nil {
		return
	}
	i := slices.IndexFunc(u.tokens, func(t apiToken) bool { return t.ID == r.PathValue("tokenId") })
	if i < 0 {
		keyFail(w, http.StatusNotFound, "notFound")
		return
	}
	u.tokens = slices.Delete(u.tokens, i, i+1)
	w.WriteHeader(http.StatusNoContent)
}

// disable blocks the account from signing in, with the optional message
// of the body: 204. A body that is not JSON is 400 in the lifecycle
// group's [{"code","message"}] shape.
// https://developer.atlassian.com/cloud/admin/user-management/rest/api-group-lifecycle/
func (a *atlassian) disable(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Message string `json:"message"`
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, fake.MaxBody))
	if err != nil || len(strings.TrimSpace(string(raw))) > 0 && json.Unmarshal(raw, &body) != nil {
		fake.WriteJSON(w, http.StatusBadRequest, []map[string]string{{"code": "body.parse.failure", "message": "the body is not JSON"}})
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if u := a.user(w, r); u != nil {
		u.status, u.message, u.disabled = "inactive", body.Message, a.now().UTC().Truncate(time.Second)
		w.WriteHeader(http.StatusNoContent)
	}
}

// profile answers the account, its account_status with it.
// https://developer.atlassian.com/cloud/admin/user-management/rest/api-group-profile/
func (a *atlassian) profile(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	u := a.user(w, r)
	if u == nil {
		return
	}
	first, last := fake.Names(u.email)
	fake.WriteJSON(w, http.StatusOK, map[string]any{"account": map[string]any{
		"account_id": u.id, "account_type": "atlassian", "account_status": u.status, "name": first + " " + last,
		"picture": fake.CallerURL(r, "/atlassian/avatars/"+u.id), "email": u.email, "nickname": first,
		"characteristics": map[string]any{}, "zoneinfo": "UTC", "locale": "en-US", "extended_profile": map[string]any{},
	}})
}
