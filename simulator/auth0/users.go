package auth0

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

// usersByEmail answers the users whose email is exactly email: the match
// is case-sensitive, and the tenant's database keeps emails in lower case.
// https://auth0.com/docs/api/management/v2/users-by-email/get-users-by-email
func (a *auth0) usersByEmail(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	email := q.Get("email")
	if email == "" {
		auth0Fail(w, http.StatusBadRequest, "Bad Request",
			"Query validation error: 'Missing required property: email' on property email (Email address to search for (case-sensitive)).",
			"invalid_query_string")
		return
	}
	out := []map[string]any{}
	a.mu.Lock()
	if u := a.users.ByEmail(email); u != nil {
		out = append(out, auth0Fields(a.view(u), q))
	}
	a.mu.Unlock()
	fake.WriteJSON(w, http.StatusOK, out)
}

// listUsers answers one page of users (page from 0, per_page up to 100) as
// an array, without include_totals.
// https://auth0.com/docs/api/management/v2/users/get-users
func (a *auth0) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, err1 := auth0Int(q.Get("page"), 0)
	per, err2 := auth0Int(q.Get("per_page"), 50)
	if err1 != nil || err2 != nil || page < 0 || per < 0 || per > auth0MaxPerPage {
		auth0Fail(w, http.StatusBadRequest, "Bad Request", "Query validation error: page and per_page must be integers, per_page at most 100.", "invalid_query_string")
		return
	}
	out := []map[string]any{}
	a.mu.Lock()
	ids := a.users.IDs()
	for _, id := range ids[min(page*per, len(ids)):min((page+1)*per, len(ids))] {
		out = append(out, auth0Fields(a.view(a.users.ByID(id)), q))
	}
	a.mu.Unlock()
	fake.WriteJSON(w, http.StatusOK, out)
}

// deleteSessions ends every session of the user; Auth0 accepts with 202.
// https://auth0.com/docs/api/management/v2/users/delete-sessions-for-user
func (a *auth0) deleteSessions(w http.ResponseWriter, r *http.Request) {
	if a.withUser(w, r, func(u *auth0User) { u.sessions = nil }) {
		w.WriteHeader(http.StatusAccepted)
	}
}

// deleteRefreshTokens revokes every refresh token of the user; 202.
// https://auth0.com/docs/api/management/v2/users/delete-refresh-tokens-for-user
func (a *auth0) deleteRefreshTokens(w http.ResponseWriter, r *http.Request) {
	if a.withUser(w, r, func(u *auth0User) { u.tokens = nil }) {
		w.WriteHeader(http.StatusAccepted)
	}
}

// getSessions answers {"sessions": […], "next": "…"}; next is left out on
// the last page.
// https://auth0.com/docs/api/management/v2/users/get-sessions-for-user
func (a *auth0) getSessions(w http.ResponseWriter, r *http.Request) {
	var all []map[string]any
	ok := a.withUser(w, r, func(u *auth0User) {
		for _, s := range u.sessions {
			at := s.created.Format(auth0Time)
			all = append(all, map[string]any{"id": s.id, "user_id": u.id, "created_at": at, "updated_at": at,
				"authenticated_at": at, "last_interacted_at": at,
				"idle_expires_at": s.created.Add(72 * time.Hour).Format(auth0Time),
				"expires_at":      s.created.Add(30 * 24 * time.Hour).Format(auth0Time),
				"device": map[string]string{"initial_user_agent": "Mozilla/5.0 (simulated)", "initial_ip": "192.0.2.10",
					"initial_asn": "64496", "last_user_agent": "Mozilla/5.0 (simulated)", "last_ip": "192.0.2.10", "last_asn": "64496"},
				"clients":        []map[string]string{{"client_id": "sim-app"}},
				"authentication": map[string]any{"methods": []map[string]string{{"name": "pwd", "timestamp": at}}},
			})
		}
	})
	if ok {
		a.page(w, r, "sessions", all)
	}
}

// getRefreshTokens answers {"tokens": […], "next": "…"}.
// https://auth0.com/docs/api/management/v2/users/get-refresh-tokens-for-user
func (a *auth0) getRefreshTokens(w http.ResponseWriter, r *http.Request) {
	var all []map[string]any
	ok := a.withUser(w, r, func(u *auth0User) {
		for _, t := range u.tokens {
			at := t.created.Format(auth0Time)
			all = append(all, map[string]any{"id": t.id, "user_id": u.id, "created_at": at,
				"idle_expires_at": t.created.Add(15 * 24 * time.Hour).Format(auth0Time),
				"expires_at":      t.created.Add(30 * 24 * time.Hour).Format(auth0Time),
				"client_id":       "sim-app", "session_id": t.sessionID, "rotating": true,
				"resource_servers":  []map[string]string{{"audience": "https://api.example.com/", "scopes": "openid offline_access"}},
				"last_exchanged_at": at,
			})
		}
	})
	if ok {
		a.page(w, r, "tokens", all)
	}
}

// page answers one page of items under key: from is the opaque cursor of a
// previous answer's next, take the page size (default 50, at most 100).
func (a *auth0) page(w http.ResponseWriter, r *http.Request, key string, items []map[string]any) {
	q := r.URL.Query()
	take, err1 := auth0Int(q.Get("take"), auth0DefaultTake)
	from, err2 := auth0Int(q.Get("from"), 0)
	if err1 != nil || err2 != nil || take < 1 || take > auth0MaxTake || from < 0 {
		auth0Fail(w, http.StatusBadRequest, "Bad Request", "Query validation error: take must be 1 to 100 and from a cursor from next.", "invalid_query_string")
		return
	}
	start, end := min(from, len(items)), min(from+take, len(items))
	out := map[string]any{key: append([]map[string]any{}, items[start:end]...)}
	if end < len(items) {
		out["next"] = strconv.Itoa(end)
	}
	fake.WriteJSON(w, http.StatusOK, out)
}

// withUser runs f, under a.mu, on the user the path's id names; an unknown
// id is 404 inexistent_user, and f is not run.
func (a *auth0) withUser(w http.ResponseWriter, r *http.Request, f func(u *auth0User)) bool {
	a.mu.Lock()
	u := a.users.ByID(r.PathValue("id"))
	if u != nil {
		f(u)
	}
	a.mu.Unlock()
	if u == nil {
		auth0Fail(w, http.StatusNotFound, "Not Found", "The user does not exist.", "inexistent_user")
	}
	return u != nil
}

// view renders u as Auth0's user object; a.mu must be held.
func (a *auth0) view(u *auth0User) map[string]any {
	at := u.created.Format(auth0Time)
	local, _, _ := strings.Cut(u.email, "@")
	return map[string]any{
		"user_id": u.id, "email": u.email, "email_verified": true, "name": u.email, "nickname": local,
		"created_at": at, "updated_at": at,
		"identities": []map[string]any{{"connection": "Username-Password-Authentication", "provider": "auth0",
			"user_id": strings.TrimPrefix(u.id, "auth0|"), "isSocial": false}},
	}
}

// auth0Fields keeps the keys that the fields parameter names (a comma-separated
// list), or drops them with include_fields=false.
func auth0Fields(v map[string]any, q url.Values) map[string]any {
	list := q.Get("fields")
	if list == "" {
		return v
	}
	names := strings.Split(list, ",")
	include := q.Get("include_fields") != "false"
	out := map[string]any{}
	for k, x := range v {
		if slices.Contains(names, k) == include {
			out[k] = x
		}
	}
	return out
}

// auth0Fail writes the Management API's error body.
func auth0Fail(w http.ResponseWriter, status int, errText, message, code string) {
	body := map[string]any{"statusCode": status, "error": errText, "message": message}
	if code != "" {
		body["errorCode"] = code
	}
	fake.WriteJSON(w, status, body)
}

// auth0Hex derives a stable hex id of n bytes from key.
func auth0Hex(key string, n int) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:n])
}

// auth0Int parses s, or answers def for "".
func auth0Int(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	return strconv.Atoi(s)
}
