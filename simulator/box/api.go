package box

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

// token issues the enterprise service account's token: grant_type
// client_credentials, the app's client_id and client_secret,
// box_subject_type=enterprise and box_subject_id=<enterprise id>. A wrong
// app is 400 invalid_client "The client credentials are invalid", a wrong
// enterprise 400 invalid_grant "Grant credentials are invalid", another
// subject type 400 unauthorized_client.
// https://developer.box.com/guides/authentication/client-credentials/
func (b *box) token(w http.ResponseWriter, r *http.Request) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	r.Body = http.MaxBytesReader(w, r.Body, fake.MaxBody)
	if ct != "application/x-www-form-urlencoded" || r.ParseForm() != nil {
		fake.OAuth2Fail(w, http.StatusBadRequest, "invalid_request", "Invalid grant_type parameter or parameter missing")
		return
	}
	f := r.PostForm
	app, enterprise := b.app()
	switch {
	case f.Get("grant_type") != "client_credentials":
		fake.OAuth2Fail(w, http.StatusBadRequest, "invalid_request", "Invalid grant_type parameter or parameter missing")
	case !app.Is(fake.PresentedClient(r, f)):
		fake.OAuth2Fail(w, http.StatusBadRequest, "invalid_client", "The client credentials are invalid")
	case f.Get("box_subject_type") != "enterprise":
		fake.OAuth2Fail(w, http.StatusBadRequest, "unauthorized_client", `The "box_subject_type" value is unauthorized for this client_id`)
	case f.Get("box_subject_id") != enterprise:
		fake.OAuth2Fail(w, http.StatusBadRequest, "invalid_grant", "Grant credentials are invalid")
	default:
		access := b.tokens.Mint("", 16, tokenLife)
		fake.WriteJSON(w, http.StatusOK, map[string]any{"access_token": access, "expires_in": int(tokenLife.Seconds()),
			"restricted_to": []any{}, "token_type": "bearer"})
	}
}

// listUsers answers the enterprise's users whose name or login start with
// filter_term (any case), offset and limit (default 100, at most 1000)
// paging through them. user_type external finds nobody: every simulated
// user is managed. A bad limit or offset is 400 bad_request.
// https://developer.box.com/reference/get-users/
func (b *box) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err1 := number(q.Get("limit"), 100)
	offset, err2 := number(q.Get("offset"), 0)
	if err1 != nil || err2 != nil || limit > 1000 {
		fail(w, http.StatusBadRequest, "bad_request", "Bad Request", "Invalid value for limit or offset")
		return
	}
	term := strings.ToLower(q.Get("filter_term"))
	entries := []map[string]any{}
	total := 0
	b.mu.Lock()
	for _, id := range b.users.IDs() {
		u := b.users.ByID(id)
		if q.Get("user_type") == "external" || !(strings.HasPrefix(u.login, term) || strings.HasPrefix(strings.ToLower(u.name), term)) {
			continue
		}
		if total >= offset && len(entries) < limit {
			entries = append(entries, map[string]any{"type": "user", "id": u.id, "name": u.name, "login": u.login, "status": "active"})
		}
		total++
	}
	b.mu.Unlock()
	fake.WriteJSON(w, http.StatusOK, map[string]any{"total_count": total, "limit": limit, "offset": offset, "entries": entries})
}

// terminate takes a job to end the sessions of the users named by
// user_ids and user_logins (both required): 202 with a message; the
// sessions end jobDelay later. No users is 400 "Users can not be NULL or
// EMPTY", a body that is not JSON 400 "Supported payload format is JSON",
// an id that is not a string 400 "User id format is string"; when none of
// the users is in the enterprise, 404 not_found.
// https://developer.box.com/reference/post-users-terminate-sessions/
func (b *box) terminate(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, fake.MaxBody))
	var body struct {
		UserIDs    []json.RawMessage `json:"user_ids"`
		UserLogins []string          `json:"user_logins"`
	}
	if err != nil || json.Unmarshal(raw, &body) != nil {
		fail(w, http.StatusBadRequest, "bad_request", "Bad Request", "Supported payload format is JSON")
		return
	}
	if body.UserIDs == nil || body.UserLogins == nil || len(body.UserIDs)+len(body.UserLogins) == 0 {
		fail(w, http.StatusBadRequest, "bad_request", "Bad Request", "Users can not be NULL or EMPTY")
		return
	}
	var ids []string
	for _, m := range body.UserIDs {
		var id string
		if json.Unmarshal(m, &id) != nil {
			fail(w, http.StatusBadRequest, "bad_request", "Bad Request", "User id format is string")
			return
		}
		ids = append(ids, id)
	}
	b.mu.Lock()
	var found []*boxUser
	for _, id := range ids {
		if u := b.users.ByID(id); u != nil {
			found = append(found, u)
		}
	}
	for _, login := range body.UserLogins {
		if u := b.users.ByEmail(fake.NormalEmail(login)); u != nil {
			found = append(found, u)
		}
	}
	b.mu.Unlock()
	if len(found) == 0 {
		fail(w, http.StatusNotFound, "not_found", "Not Found", "")
		return
	}
	time.AfterFunc(jobDelay, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, u := range found {
			u.sessions = 0
		}
	})
	fake.WriteJSON(w, http.StatusAccepted, map[string]string{"message": "Request is successful, please check the admin\nevents for the status of the job"})
}

// number parses a non-negative integer, or answers def for "".
func number(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err == nil && n < 0 {
		err = strconv.ErrRange
	}
	return n, err
}
