// Package dropbox is the Dropbox team API fake of the simulator: the
// routes of a team-scoped app that the dropbox connector calls, served
// under /dropbox, so that a connector's base_url (https://api.dropboxapi.com)
// is http://host:port/dropbox. Sources, each cited again where it decides:
//
//   - The team routes (members/get_info_v2, members/list_v2,
//     devices/list_member_devices, devices/revoke_device_session,
//     devices/revoke_device_session_batch): https://www.dropbox.com/developers/documentation/http/teams
//   - Their arguments, results and error unions, AuthError and
//     RateLimitError: https://github.com/dropbox/dropbox-api-spec (team.stone, auth.stone)
//   - RPC calls (POST, JSON body, Authorization: Bearer) and errors (400
//     bad input in plain text, 401 with error_summary, 409 endpoint-specific
//     {"error_summary","error":{".tag"}}, 429 with Retry-After, 5xx):
//     https://www.dropbox.com/developers/documentation/http/documentation#error-handling
//   - "Rate limited responses always include a Retry-After header":
//     https://developers.dropbox.com/dbx-performance-guide
//
// Dropbox documents no answer for a path that is no route; the fake
// answers 404 with an empty body there.
package dropbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

type dropbox struct {
	config func() Config

	mu      sync.Mutex
	members *fake.Directory[string, member]
	next    int // makes session ids unique
}

// member is one team member with their device sessions.
type member struct {
	id, account, email string
	joined             time.Time
	sessions           []session
}

// session is one web session, desktop client or mobile client; kind is
// its RevokeDeviceSessionArg tag.
type session struct {
	id, kind string
	created  time.Time
}

// The RevokeDeviceSessionArg tags, one per kind of session.
const (
	webSession    = "web_session"
	desktopClient = "desktop_client"
	mobileClient  = "mobile_client"
)

func newDropbox(config func() Config) *dropbox {
	d := &dropbox{config: config}
	d.members = fake.NewDirectory[string](&d.mu, func(m *member) int { return len(m.sessions) })
	return d
}

func (d *dropbox) Name() string { return "dropbox" }

func (d *dropbox) Register(route func(string, http.HandlerFunc)) {
	// https://www.dropbox.com/developers/documentation/http/teams#team-members-get_info
	route("POST /2/team/members/get_info_v2", d.getInfo)
	// https://www.dropbox.com/developers/documentation/http/teams#team-members-list
	route("POST /2/team/members/list_v2", d.list)
	// https://www.dropbox.com/developers/documentation/http/teams#team-devices-list_member_devices
	route("POST /2/team/devices/list_member_devices", d.listDevices)
	// https://www.dropbox.com/developers/documentation/http/teams#team-devices-revoke_device_session
	route("POST /2/team/devices/revoke_device_session", d.revokeOne)
	// https://www.dropbox.com/developers/documentation/http/teams#team-devices-revoke_device_session_batch
	route("POST /2/team/devices/revoke_device_session_batch", d.revokeBatch)
	route("/", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) })
}

// AddUser makes email a team member with that many sessions, taking turns
// web session, desktop client, mobile client.
func (d *dropbox) AddUser(email string, sessions int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	m := d.members.Ensure(email, func() (string, *member) {
		m := &member{id: "dbmid:" + dropboxID("member:"+email), account: "dbid:" + dropboxID("account:"+email),
			email: email, joined: time.Now().UTC().Truncate(time.Second)}
		return m.id, m
	})
	now := time.Now().UTC().Truncate(time.Second)
	m.sessions = nil
	kinds := []string{webSession, desktopClient, mobileClient}
	prefixes := map[string]string{webSession: "dbwsid:", desktopClient: "dbdsid:", mobileClient: "dbmsid:"}
	for i := range sessions {
		d.next++
		k := kinds[i%len(kinds)]
		m.sessions = append(m.sessions, session{id: prefixes[k] + dropboxID(m.id+":"+strconv.Itoa(d.next)), kind: k, created: now})
	}
}

func (d *dropbox) Sessions(email string) int { return d.members.Sessions(email) }

func (d *dropbox) Users() map[string]int { return d.members.Users() }

// Subject is the member a call's JSON body names: its team_member_id, the
// first revoke argument's, or the first email selector. The body is read
// and put back for the handler.
func (d *dropbox) Subject(r *http.Request) string {
	raw, err := io.ReadAll(io.LimitReader(r.Body, fake.MaxBody))
	if err != nil {
		return ""
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	var b struct {
		TeamMemberID string `json:"team_member_id"`
		Members      []struct {
			Email string `json:"email"`
		} `json:"members"`
		Revoke []struct {
			TeamMemberID string `json:"team_member_id"`
		} `json:"revoke_devices"`
	}
	_ = json.Unmarshal(raw, &b)
	id, email := b.TeamMemberID, ""
	if id == "" && len(b.Revoke) > 0 {
		id = b.Revoke[0].TeamMemberID
	}
	if len(b.Members) > 0 {
		email = fake.NormalEmail(b.Members[0].Email)
	}
	return d.members.Subject(id, email)
}

// Authorized wants "Authorization: Bearer <token>" with the configured
// team token.
func (d *dropbox) Authorized(r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && fake.SameSecret(token, d.config().token())
}

// Fail answers a knob-made failure as Dropbox does [error-handling]: 401
// AuthError invalid_access_token, 429 RateLimitError too_many_requests
// (retry_after 1, the simulator's window), and a 503 in plain text.
func (d *dropbox) Fail(w http.ResponseWriter, f fake.Failure) {
	switch f {
	case fake.Unauthorized:
		fake.WriteJSON(w, http.StatusUnauthorized, map[string]any{"error_summary": "invalid_access_token/..",
			"error": map[string]string{".tag": "invalid_access_token"}})
	case fake.RateLimited:
		fake.WriteJSON(w, http.StatusTooManyRequests, map[string]any{"error_summary": "too_many_requests/..",
			"error": map[string]any{"reason": map[string]string{".tag": "too_many_requests"}, "retry_after": 1}})
	default:
		plain(w, http.StatusServiceUnavailable, "An error occurred on the Dropbox servers. Check status.dropbox.com for announcements about Dropbox service issues.")
	}
}

// Quota sends Retry-After on a 429 [dbx-performance-guide]; Dropbox sends
// no quota headers otherwise.
func (d *dropbox) Quota(h http.Header, q fake.Quota) {
	if q.Exceeded {
		h.Set("Retry-After", "1")
	}
}

// plain writes a plain-text answer, as Dropbox's 400 bad input and 5xx are.
func plain(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(text))
}

// conflict writes an endpoint-specific error: 409 with error_summary and
// the error union's tag.
func conflict(w http.ResponseWriter, tag string) {
	fake.WriteJSON(w, http.StatusConflict, map[string]any{"error_summary": tag + "/..", "error": map[string]string{".tag": tag}})
}

// dropboxID derives a stable, Dropbox-looking id from key.
func dropboxID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "AA" + base64.RawURLEncoding.EncodeToString(sum[:24])
}
