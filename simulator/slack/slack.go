// Package slack is the Slack fake of the simulator: the Web API methods of
// an Enterprise Grid org that the slack connector calls, served under
// /slack, so that a connector's base_url is http://host:port/slack (the
// methods at /slack/api/{method}). Sources, each cited again where it
// decides:
//
//   - The Web API (methods, arguments as query, form or JSON, the token as a
//     Bearer header or a token argument, {"ok":…,"error":…} answers with
//     HTTP 200): https://api.slack.com/web
//   - users.lookupByEmail: https://api.slack.com/methods/users.lookupByEmail
//   - The user object: https://api.slack.com/types/user
//   - admin.users.session.reset: https://api.slack.com/methods/admin.users.session.reset
//   - admin.users.session.list: https://api.slack.com/methods/admin.users.session.list
//   - auth.test: https://api.slack.com/methods/auth.test
//   - Rate limits (HTTP 429, Retry-After in seconds, "ratelimited"):
//     https://api.slack.com/apis/rate-limits
//
// The org has one workspace; every simulated user is a member of it, and
// their sessions alternate between a browser and a phone.
package slack

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

const (
	slackTeam       = "T0SIMTEAM"  // the org's one workspace
	slackEnterprise = "E0SIMORG"   // the Enterprise Grid org
	slackAdmin      = "W0SIMADMIN" // the user the token belongs to
)

type slack struct {
	config func() Config
	now    func() time.Time

	mu     sync.Mutex
	users  *fake.Directory[string, slackUser]
	nextID int64 // the next session_id
}

// slackUser is one member of the org with their sessions.
type slackUser struct {
	id, email string
	sessions  []slackSession
}

// slackSession is one signed-in client; mobile ones are phones, the others
// browsers.
type slackSession struct {
	id     int64
	mobile bool
}

func newSlack(config func() Config, now func() time.Time) *slack {
	s := &slack{config: config, now: now, nextID: 1000}
	s.users = fake.NewDirectory[string](&s.mu, func(u *slackUser) int { return len(u.sessions) })
	return s
}

func (s *slack) Name() string { return "slack" }

// Register serves each method at /api/{method}; the Web API takes GET and
// POST alike (https://api.slack.com/web).
func (s *slack) Register(route func(string, http.HandlerFunc)) {
	route("/api/users.lookupByEmail", s.lookupByEmail)
	route("/api/admin.users.session.reset", s.sessionReset)
	route("/api/admin.users.session.list", s.sessionList)
	route("/api/auth.test", s.authTest)
	// An unknown method is HTTP 404 with unknown_method.
	route("/", func(w http.ResponseWriter, r *http.Request) {
		fake.WriteJSON(w, http.StatusNotFound, map[string]any{"ok": false, "error": "unknown_method", "req_method": path.Base(r.URL.Path)})
	})
}

func (s *slack) AddUser(email string, sessions int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users.Ensure(email, func() (string, *slackUser) {
		sum := sha256.Sum256([]byte("slack:" + email))
		id := "W" + strings.ToUpper(hex.EncodeToString(sum[:4])) // Grid user ids start with W
		return id, &slackUser{id: id, email: email}
	})
	u.sessions = nil
	for i := range sessions {
		s.nextID++
		u.sessions = append(u.sessions, slackSession{id: s.nextID, mobile: i%2 == 1})
	}
}

func (s *slack) Sessions(email string) int { return s.users.Sessions(email) }

func (s *slack) Users() map[string]int { return s.users.Users() }

// Subject is the user a call names by email or by user_id.
func (s *slack) Subject(r *http.Request) string {
	p := params(r)
	return s.users.Subject(p.Get("user_id"), fake.NormalEmail(p.Get("email")))
}

// Authorized wants the configured token as "Authorization: Bearer …" or
// as the token argument of the query or a form body
// (https://api.slack.com/web).
func (s *slack) Authorized(r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		token = params(r).Get("token")
	}
	return token != "" && fake.SameSecret(token, s.config().token())
}

// Fail answers a knob-made failure as Slack does: a bad token is HTTP 200
// with invalid_auth; a rate limit HTTP 429 with ratelimited (Quota sets
// Retry-After); a failure of Slack's HTTP 503 with service_unavailable.
func (s *slack) Fail(w http.ResponseWriter, f fake.Failure) {
	switch f {
	case fake.Unauthorized:
		slackFail(w, http.StatusOK, "invalid_auth")
	case fake.RateLimited:
		slackFail(w, http.StatusTooManyRequests, "ratelimited")
	default:
		slackFail(w, http.StatusServiceUnavailable, "service_unavailable")
	}
}

// Quota sends Retry-After, the seconds until the window resets, on a
// rate-limited answer; Slack sends no other quota header
// (https://api.slack.com/apis/rate-limits).
func (s *slack) Quota(h http.Header, q fake.Quota) {
	if q.Exceeded {
		h.Set("Retry-After", strconv.FormatInt(max(int64(math.Ceil(q.Reset.Sub(s.now()).Seconds())), 1), 10))
	}
}

// slackFail writes Slack's error answer, {"ok":false,"error":code}.
func slackFail(w http.ResponseWriter, status int, code string) {
	fake.WriteJSON(w, status, map[string]any{"ok": false, "error": code})
}

// slackOK writes a success answer: {"ok":true} and fields.
func slackOK(w http.ResponseWriter, fields map[string]any) {
	out := map[string]any{"ok": true}
	for k, v := range fields {
		out[k] = v
	}
	fake.WriteJSON(w, http.StatusOK, out)
}

// params are a call's arguments: the query's, then a form body's or a
// JSON body's (https://api.slack.com/web). The body is read once and put
// back, so that every step of a call can read it; JSON values that are not
// strings keep their JSON text (true, 1000).
func params(r *http.Request) url.Values {
	p := url.Values{}
	for k, vs := range r.URL.Query() {
		p[k] = append(p[k], vs...)
	}
	if r.Body == nil || r.Method == http.MethodGet {
		return p
	}
	raw, _ := io.ReadAll(io.LimitReader(r.Body, fake.MaxBody))
	r.Body = io.NopCloser(bytes.NewReader(raw))
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return p
		}
		for k, v := range m {
			var str string
			if json.Unmarshal(v, &str) == nil {
				p.Set(k, str)
			} else {
				p.Set(k, string(v))
			}
		}
	case "application/x-www-form-urlencoded":
		form, _ := url.ParseQuery(string(raw))
		for k, vs := range form {
			p[k] = append(p[k], vs...)
		}
	}
	return p
}
