package slack

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/offboarder/offboarder/simulator/fake"
)

const slackListMax = 1000 // admin.users.session.list: limit 1–1000, default 1000

// lookupByEmail answers the user with that email, in any case, or
// users_not_found; no email is invalid_arguments.
// https://api.slack.com/methods/users.lookupByEmail
// https://api.slack.com/types/user
func (s *slack) lookupByEmail(w http.ResponseWriter, r *http.Request) {
	email := fake.NormalEmail(params(r).Get("email"))
	if email == "" {
		slackFail(w, http.StatusOK, "invalid_arguments")
		return
	}
	s.mu.Lock()
	u := s.users.ByEmail(email)
	var id string
	if u != nil {
		id = u.id
	}
	s.mu.Unlock()
	if u == nil {
		slackFail(w, http.StatusOK, "users_not_found")
		return
	}
	first, last := fake.Names(email)
	name, _, _ := strings.Cut(email, "@")
	slackOK(w, map[string]any{"user": map[string]any{
		"id": id, "team_id": slackTeam, "name": name, "deleted": false, "is_bot": false,
		"real_name": first + " " + last, "is_admin": false, "is_owner": false,
		"profile": map[string]any{"email": email, "real_name": first + " " + last, "display_name": name},
		"enterprise_user": map[string]any{"id": id, "enterprise_id": slackEnterprise, "enterprise_name": "Simulated Org",
			"is_admin": false, "is_owner": false, "teams": []string{slackTeam}},
	}})
}

// sessionReset wipes the user's sessions: all of them, or with
// mobile_only only the phones' and with web_only only the others'. An
// unknown user is user_not_found; no user_id is invalid_arguments.
// https://api.slack.com/methods/admin.users.session.reset
func (s *slack) sessionReset(w http.ResponseWriter, r *http.Request) {
	p := params(r)
	id := p.Get("user_id")
	if id == "" {
		slackFail(w, http.StatusOK, "invalid_arguments")
		return
	}
	mobileOnly, webOnly := p.Get("mobile_only") == "true", p.Get("web_only") == "true"
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users.ByID(id)
	if u == nil {
		slackFail(w, http.StatusOK, "user_not_found")
		return
	}
	u.sessions = slices.DeleteFunc(u.sessions, func(ss slackSession) bool {
		switch {
		case mobileOnly && !webOnly:
			return ss.mobile
		case webOnly && !mobileOnly:
			return !ss.mobile
		}
		return true
	})
	slackOK(w, nil)
}

// sessionList pages through active sessions: of one user on one workspace
// when user_id and team_id are both given, of everyone when neither is;
// one without the other is invalid_arguments. cursor is the next_cursor
// of the page before.
// https://api.slack.com/methods/admin.users.session.list
func (s *slack) sessionList(w http.ResponseWriter, r *http.Request) {
	p := params(r)
	userID, team := p.Get("user_id"), p.Get("team_id")
	if (userID == "") != (team == "") {
		slackFail(w, http.StatusOK, "invalid_arguments")
		return
	}
	limit := slackListMax
	if v := p.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > slackListMax {
			slackFail(w, http.StatusOK, "invalid_limit")
			return
		}
		limit = n
	}
	offset := 0
	if c := p.Get("cursor"); c != "" {
		raw, err := base64.StdEncoding.DecodeString(c)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(raw), "offset:"))
		if err != nil || err2 != nil || n < 0 {
			slackFail(w, http.StatusOK, "invalid_cursor")
			return
		}
		offset = n
	}
	var all []map[string]any
	s.mu.Lock()
	for _, id := range s.users.IDs() {
		u := s.users.ByID(id)
		if userID != "" && (id != userID || team != slackTeam) {
			continue
		}
		for _, ss := range u.sessions {
			all = append(all, slackSessionJSON(u, ss))
		}
	}
	s.mu.Unlock()
	page := all[min(offset, len(all)):min(offset+limit, len(all))]
	next := ""
	if offset+limit < len(all) {
		next = base64.StdEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(offset+limit)))
	}
	slackOK(w, map[string]any{"active_sessions": append([]map[string]any{}, page...),
		"response_metadata": map[string]any{"next_cursor": next}})
}

// slackSessionJSON is one active_session as the list shows it: created
// only, as a session that has not changed since it began.
func slackSessionJSON(u *slackUser, ss slackSession) map[string]any {
	created := map[string]any{"device_hardware": "Mac", "os": "Mac OS X", "os_version": "14.5", "slack_client_version": "4.41.105", "ip": "192.0.2.10"}
	if ss.mobile {
		created = map[string]any{"device_hardware": "iPhone", "os": "iOS", "os_version": "17.5", "slack_client_version": "24.07.10", "ip": "198.51.100.7"}
	}
	return map[string]any{"user_id": u.id, "team_id": slackTeam, "session_id": ss.id, "created": created}
}

// authTest answers who the token is: the org's admin, on an org-wide
// install. https://api.slack.com/methods/auth.test
func (s *slack) authTest(w http.ResponseWriter, r *http.Request) {
	slackOK(w, map[string]any{"url": "https://sim-org.enterprise.slack.com/", "team": "Simulated Org", "user": "sim-admin",
		"team_id": slackEnterprise, "user_id": slackAdmin, "enterprise_id": slackEnterprise, "is_enterprise_install": true})
}
