package zoom

import (
	"net/http"
	"strconv"

	"github.com/offboarder/offboarder/simulator/fake"
)

const zoomMaxPageSize = 2000 // list users: page_size up to 2000 (default 30)

// getUser answers the user the path names by id or email, or 404 code 1001
// "User does not exist".
// https://developers.zoom.us/docs/api/users/#tag/users/GET/users/{userId}
func (z *zoom) getUser(w http.ResponseWriter, r *http.Request) {
	z.mu.Lock()
	u := z.userByPath(r)
	var out map[string]any
	if u != nil {
		out = zoomUserJSON(u)
	}
	z.mu.Unlock()
	if u == nil {
		zoomFail(w, http.StatusNotFound, 1001, "User does not exist: "+r.PathValue("userId")+".")
		return
	}
	fake.WriteJSON(w, http.StatusOK, out)
}

// revokeSSOToken revokes the user's SSO token, which signs them out of the
// Zoom clients signed in with it: 204, or 404 code 1001.
// https://developers.zoom.us/docs/api/users/#tag/users/DELETE/users/{userId}/token
func (z *zoom) revokeSSOToken(w http.ResponseWriter, r *http.Request) {
	z.mu.Lock()
	u := z.userByPath(r)
	if u != nil {
		u.sessions = 0
	}
	z.mu.Unlock()
	if u == nil {
		zoomFail(w, http.StatusNotFound, 1001, "User does not exist: "+r.PathValue("userId")+".")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// listUsers answers one page of the account's users: page_size (default
// 30, at most 2000) and next_page_token; a page_size that is no number is
// 400 code 300.
// https://developers.zoom.us/docs/api/users/#tag/users/GET/users
func (z *zoom) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size := 30
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			zoomFail(w, http.StatusBadRequest, 300, "Invalid field: page_size.")
			return
		}
		size = min(n, zoomMaxPageSize)
	}
	start := 0
	if t := q.Get("next_page_token"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			zoomFail(w, http.StatusBadRequest, 300, "Invalid field: next_page_token.")
			return
		}
		start = n
	}
	z.mu.Lock()
	ids := z.users.IDs()
	users := []map[string]any{}
	for _, id := range ids[min(start, len(ids)):min(start+size, len(ids))] {
		users = append(users, zoomUserJSON(z.users.ByID(id)))
	}
	total := len(ids)
	z.mu.Unlock()
	next := ""
	if start+size < total {
		next = strconv.Itoa(start + size)
	}
	fake.WriteJSON(w, http.StatusOK, map[string]any{"page_size": size, "total_records": total,
		"next_page_token": next, "users": users})
}
