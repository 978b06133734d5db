// Package box is the Box fake of the simulator: the client credentials
// grant for an enterprise's service account, the enterprise's user list
// and session termination, served under /box, so that a connector's
// base_url (the API root, https://api.box.com at Box) is
// http://host:port/box, its API under /box/2.0 and its token endpoint
// /box/oauth2/token. Sources, each cited again where it decides:
//
//   - Client credentials grant: https://developer.box.com/guides/authentication/client-credentials/
//   - Token endpoint: https://developer.box.com/reference/post-oauth2-token/
//   - List users: https://developer.box.com/reference/get-users/
//   - Terminate sessions: https://developer.box.com/reference/post-users-terminate-sessions/
//     (https://github.com/box/box-openapi/blob/main/content/paths/session_termination__post_users_terminate_sessions.yml)
//   - Errors: https://developer.box.com/reference/resources/client-error/
//   - Rate limits: https://developer.box.com/guides/api-calls/permissions-and-errors/rate-limits/
//
// Session termination is asynchronous at Box: the fake takes the job,
// answers 202, and ends the sessions a moment later (jobDelay).
package box

import (
	"crypto/sha256"
	"encoding/binary"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

// Config is the app and enterprise the token endpoint accepts; it is read
// again on every call. "" means the defaults below.
type Config struct {
	ClientID, ClientSecret, EnterpriseID string
}

// The app and enterprise when Config leaves them empty.
const (
	DefaultClientID     = "sim-box-client"
	DefaultClientSecret = "sim-box-secret"
	DefaultEnterpriseID = "1000001"
)

const (
	tokenLife = time.Hour             // expires_in of a service account's token
	jobDelay  = 50 * time.Millisecond // how long a termination job takes
)

type box struct {
	config func() Config

	mu     sync.Mutex
	users  *fake.Directory[string, boxUser]
	tokens fake.Tokens
}

// boxUser is one managed user of the enterprise with their sessions.
type boxUser struct {
	id, login, name string
	sessions        int
}

// New returns the Box fake with no users.
func New(config func() Config) fake.Vendor {
	b := &box{config: config}
	b.users = fake.NewDirectory[string](&b.mu, func(u *boxUser) int { return u.sessions })
	return b
}

func (b *box) Name() string { return "box" }

func (b *box) Register(route func(string, http.HandlerFunc)) {
	route("POST /oauth2/token", b.token)
	route("GET /2.0/users", b.listUsers)
	route("POST /2.0/users/terminate_sessions", b.terminate)
	route("/", func(w http.ResponseWriter, _ *http.Request) {
		fail(w, http.StatusNotFound, "not_found", "Not Found", "")
	})
}

func (b *box) AddUser(email string, sessions int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	u := b.users.Ensure(email, func() (string, *boxUser) {
		first, last := fake.Names(email)
		u := &boxUser{id: boxID(email), login: email, name: first + " " + last}
		return u.id, u
	})
	u.sessions = max(sessions, 0)
}

func (b *box) Sessions(email string) int { return b.users.Sessions(email) }

func (b *box) Users() map[string]int { return b.users.Users() }

// Subject is the user a users query names by its whole login.
func (b *box) Subject(r *http.Request) string {
	return b.users.Subject("", fake.NormalEmail(r.URL.Query().Get("filter_term")))
}

// Authorized lets token requests through and wants a live access token
// everywhere else.
func (b *box) Authorized(r *http.Request) bool { return b.tokens.Authorized(r, "/token") }

// Fail answers a knob-made failure as Box does: a missing or bad token is
// 401 with an empty body and the reason in WWW-Authenticate; a rate limit
// 429 rate_limit_exceeded; a failing server 503 unavailable.
func (b *box) Fail(w http.ResponseWriter, f fake.Failure) {
	switch f {
	case fake.Unauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="Service", error="invalid_token", error_description="The access token provided is invalid."`)
		w.Header().Del("Content-Type")
		w.WriteHeader(http.StatusUnauthorized)
	case fake.RateLimited:
		fail(w, http.StatusTooManyRequests, "rate_limit_exceeded", "Request rate limit exceeded, please try again later", "")
	default:
		fail(w, http.StatusServiceUnavailable, "unavailable", "Unavailable", "")
	}
}

// Quota sends retry-after on a 429: the simulator's windows last a second.
func (b *box) Quota(h http.Header, q fake.Quota) {
	if q.Exceeded {
		h.Set("Retry-After", "1")
	}
}

// fail writes Box's ClientError.
func fail(w http.ResponseWriter, status int, code, msg, context string) {
	body := map[string]any{"type": "error", "status": status, "code": code, "message": msg,
		"help_url": "http://developers.box.com/docs/#errors", "request_id": fake.RandomHex(6)}
	if context != "" {
		body["context_info"] = map[string]string{"message": context}
	}
	fake.WriteJSON(w, status, body)
}

// boxID derives a stable numeric user id from the login.
func boxID(login string) string {
	sum := sha256.Sum256([]byte("box:" + login))
	return strconv.FormatUint(10000000+binary.BigEndian.Uint64(sum[:8])%89999999999, 10)
}

// app is the configured app, defaults filled in.
func (b *box) app() (fake.Client, string) {
	c := b.config()
	enterprise := c.EnterpriseID
	if enterprise == "" {
		enterprise = DefaultEnterpriseID
	}
	return fake.Client{ID: c.ClientID, Secret: c.ClientSecret}.Or(fake.Client{ID: DefaultClientID, Secret: DefaultClientSecret}), enterprise
}
