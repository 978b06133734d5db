// Package zendesk is the Zendesk Support fake of the simulator: the parts
// of the Ticketing API that the zendesk connector calls, served under
// /zendesk, so that a connector's base_url (the account,
// https://{subdomain}.zendesk.com) is http://host:port/zendesk. Sources,
// each cited again where it decides:
//
//   - API-token auth, Basic "{email_address}/token:{api_token}": https://developer.zendesk.com/api-reference/introduction/security-and-auth/
//   - Search Users, Show Self, the user object: https://developer.zendesk.com/api-reference/ticketing/users/users/
//   - List Sessions, Bulk Delete Sessions, the session object: https://developer.zendesk.com/api-reference/ticketing/account-configuration/sessions/
//   - Paths with or without .json: https://developer.zendesk.com/api-reference/introduction/doc-conventions/
//   - Offset pagination (page, per_page, next_page, count): https://developer.zendesk.com/api-reference/introduction/pagination/
//   - Error bodies ({"error":…,"description":…}, text/plain for API-level
//     errors), X-Rate-Limit headers: https://developer.zendesk.com/api-reference/introduction/requests/
//   - Rate limits (429, Retry-After in seconds, a text/plain body; the
//     ratelimit-* headers of list endpoints such as Search Users):
//     https://developer.zendesk.com/api-reference/introduction/rate-limits/ and
//     https://developer.zendesk.com/documentation/ticketing/using-the-zendesk-api/best-practices-for-avoiding-rate-limiting/
package zendesk

import (
	"crypto/sha256"
	"encoding/binary"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

// adminID is the id of the admin the API token belongs to (Show Self).
const adminID int64 = 360000000001

type zendesk struct {
	config func() Config

	mu    sync.Mutex
	users *fake.Directory[int64, zendeskUser]
	next  int64 // the next session id
}

// zendeskUser is one end user of the account with their sessions.
type zendeskUser struct {
	id       int64
	email    string
	created  time.Time
	sessions []zendeskSession
}

type zendeskSession struct {
	id            int64
	authenticated time.Time
}

func newZendesk(config func() Config) *zendesk {
	z := &zendesk{config: config, next: 3432}
	z.users = fake.NewDirectory[int64](&z.mu, func(u *zendeskUser) int { return len(u.sessions) })
	return z
}

func (z *zendesk) Name() string { return "zendesk" }

func (z *zendesk) Register(route func(string, http.HandlerFunc)) {
	// Every path with and without .json [doc-conventions].
	for _, ext := range []string{"", ".json"} {
		// https://developer.zendesk.com/api-reference/ticketing/users/users/#search-users
		route("GET /api/v2/users/search"+ext, z.search)
		// https://developer.zendesk.com/api-reference/ticketing/users/users/#show-self
		route("GET /api/v2/users/me"+ext, z.me)
		// https://developer.zendesk.com/api-reference/ticketing/account-configuration/sessions/#list-sessions
		route("GET /api/v2/users/{id}/sessions"+ext, z.listSessions)
		// https://developer.zendesk.com/api-reference/ticketing/account-configuration/sessions/#bulk-delete-sessions
		route("DELETE /api/v2/users/{id}/sessions"+ext, z.deleteSessions)
	}
	// Anything else: Zendesk's 404 for an unknown path.
	route("/", func(w http.ResponseWriter, _ *http.Request) {
		zendeskFail(w, http.StatusNotFound, "InvalidEndpoint", "Not found")
	})
}

func (z *zendesk) AddUser(email string, sessions int) {
	z.mu.Lock()
	defer z.mu.Unlock()
	u := z.users.Ensure(email, func() (int64, *zendeskUser) {
		id := zendeskID(email)
		for z.users.ByID(id) != nil || id == adminID {
			id++
		}
		return id, &zendeskUser{id: id, email: email, created: time.Now().UTC().Truncate(time.Second)}
	})
	now := time.Now().UTC().Truncate(time.Second)
	u.sessions = nil
	for range sessions {
		u.sessions = append(u.sessions, zendeskSession{id: z.next, authenticated: now})
		z.next++
	}
}

func (z *zendesk) Sessions(email string) int { return z.users.Sessions(email) }

func (z *zendesk) Users() map[string]int { return z.users.Users() }

// Subject is the user the path's id names, or the one a search asks for
// with email:{address}.
func (z *zendesk) Subject(r *http.Request) string {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	email := ""
	if strings.Contains(r.Pattern, "/users/search") {
		email = searchEmail(r.URL.Query().Get("query"))
	}
	return z.users.Subject(id, email)
}

// Authorized wants Basic "{email}/token:{token}" with the configured admin
// and API token.
// https://developer.zendesk.com/api-reference/introduction/security-and-auth/
func (z *zendesk) Authorized(r *http.Request) bool {
	c := z.config().withDefaults()
	user, pass, ok := r.BasicAuth()
	return ok && fake.SameSecret(user, c.Email+"/token") && fake.SameSecret(pass, c.Token)
}

// Fail answers a knob-made failure as Zendesk does: 401 {"error":"Couldn't
// authenticate you"} for credentials it does not take, 429 with a
// text/plain reason, and a 503 in its {"error","description"} shape.
func (z *zendesk) Fail(w http.ResponseWriter, f fake.Failure) {
	switch f {
	case fake.Unauthorized:
		fake.WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "Couldn't authenticate you"})
	case fake.RateLimited:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte("Number of allowed API requests per minute exceeded"))
	default:
		zendeskFail(w, http.StatusServiceUnavailable, "unavailable", "Sorry, we could not complete your request. Please try again in a moment.")
	}
}

// Quota sends the account-wide X-Rate-Limit headers on every answer, the
// ratelimit-* ones of list endpoints, and Retry-After in seconds on a 429
// (the simulator's windows last one second).
// https://developer.zendesk.com/documentation/ticketing/using-the-zendesk-api/best-practices-for-avoiding-rate-limiting/
func (z *zendesk) Quota(h http.Header, q fake.Quota) {
	const reset = "1"
	h.Set("X-Rate-Limit", strconv.Itoa(q.Limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(q.Remaining))
	h.Set("Ratelimit-Limit", strconv.Itoa(q.Limit))
	h.Set("Ratelimit-Remaining", strconv.Itoa(q.Remaining))
	h.Set("Ratelimit-Reset", reset)
	if q.Exceeded {
		h.Set("Retry-After", reset)
	}
}

// zendeskFail writes Zendesk's business-level error body.
func zendeskFail(w http.ResponseWriter, status int, code, description string) {
	fake.WriteJSON(w, status, map[string]string{"error": code, "description": description})
}

// zendeskID derives a stable, Zendesk-sized user id from email.
func zendeskID(email string) int64 {
	sum := sha256.Sum256([]byte("zendesk:" + email))
	return 360000000000 + int64(binary.BigEndian.Uint32(sum[:4])%1_000_000_000)
}
