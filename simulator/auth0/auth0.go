// Package auth0 is the Auth0 fake of the simulator: the client-credentials
// token endpoint and the parts of the Management API v2 that the auth0
// connector calls, served under /auth0, so that a connector's base_url (the
// tenant) is http://host:port/auth0. Sources, each cited again where it
// decides:
//
//   - Management API tokens: https://auth0.com/docs/secure/tokens/access-tokens/management-api-access-tokens/get-management-api-access-tokens-for-production
//   - Users by email: https://auth0.com/docs/api/management/v2/users-by-email/get-users-by-email
//   - List users: https://auth0.com/docs/api/management/v2/users/get-users
//   - User sessions: https://auth0.com/docs/manage-users/sessions/manage-user-sessions-with-auth0-management-api
//   - User refresh tokens: https://auth0.com/docs/secure/tokens/manage-refresh-tokens-with-auth0-management-api
//   - Rate-limit headers: https://auth0.com/docs/troubleshoot/customer-support/operational-policies/rate-limit-policy
//   - Error body (statusCode, error, message, errorCode): https://auth0.com/docs/api/management/v2
package auth0

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

const (
	auth0Time        = "2006-01-02T15:04:05.000Z" // Auth0's timestamps: UTC, milliseconds
	auth0TokenLife   = 24 * time.Hour             // expires_in of a Management API token
	auth0DefaultTake = 50                         // sessions and refresh tokens per page without take
	auth0MaxTake     = 100
	auth0MaxPerPage  = 100
	auth0Scopes      = "read:users delete:sessions read:sessions delete:refresh_tokens read:refresh_tokens"
)

type auth0 struct {
	config func() Config

	mu     sync.Mutex
	users  *fake.Directory[string, auth0User]
	tokens fake.Tokens // the access tokens the token endpoint issued
}

// auth0User is one user of the tenant's database connection with their
// sessions and refresh tokens.
type auth0User struct {
	id, email string
	created   time.Time
	sessions  []auth0Session
	tokens    []auth0Refresh
}

type auth0Session struct {
	id      string
	created time.Time
}

type auth0Refresh struct {
	id, sessionID string
	created       time.Time
}

func newAuth0(config func() Config) *auth0 {
	a := &auth0{config: config}
	a.users = fake.NewDirectory[string](&a.mu, func(u *auth0User) int { return len(u.sessions) })
	return a
}

func (a *auth0) Name() string { return "auth0" }

func (a *auth0) Register(route func(string, http.HandlerFunc)) {
	// https://auth0.com/docs/secure/tokens/access-tokens/management-api-access-tokens/get-management-api-access-tokens-for-production
	route("POST /oauth/token", a.token)
	// https://auth0.com/docs/api/management/v2/users-by-email/get-users-by-email
	route("GET /api/v2/users-by-email", a.usersByEmail)
	// https://auth0.com/docs/api/management/v2/users/get-users
	route("GET /api/v2/users", a.listUsers)
	// https://auth0.com/docs/api/management/v2/users/get-sessions-for-user
	route("GET /api/v2/users/{id}/sessions", a.getSessions)
	// https://auth0.com/docs/api/management/v2/users/delete-sessions-for-user
	route("DELETE /api/v2/users/{id}/sessions", a.deleteSessions)
	// https://auth0.com/docs/api/management/v2/users/get-refresh-tokens-for-user
	route("GET /api/v2/users/{id}/refresh-tokens", a.getRefreshTokens)
	// https://auth0.com/docs/api/management/v2/users/delete-refresh-tokens-for-user
	route("DELETE /api/v2/users/{id}/refresh-tokens", a.deleteRefreshTokens)
	route("/", func(w http.ResponseWriter, r *http.Request) {
		auth0Fail(w, http.StatusNotFound, "Not Found", "Not Found", "")
	})
}

func (a *auth0) AddUser(email string, sessions int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	u := a.users.Ensure(email, func() (string, *auth0User) {
		u := &auth0User{id: "auth0|" + auth0Hex("user:"+email, 12), email: email, created: time.Now().UTC().Truncate(time.Millisecond)}
		return u.id, u
	})
	now := time.Now().UTC().Truncate(time.Millisecond)
	u.sessions, u.tokens = nil, nil
	for i := range sessions {
		sid := auth0Hex(u.id+":session:"+strconv.Itoa(i)+":"+now.String(), 16)
		u.sessions = append(u.sessions, auth0Session{id: sid, created: now})
		u.tokens = append(u.tokens, auth0Refresh{id: "tokn_" + auth0Hex(sid, 12), sessionID: sid, created: now})
	}
}

func (a *auth0) Sessions(email string) int { return a.users.Sessions(email) }

func (a *auth0) Users() map[string]int { return a.users.Users() }

// Subject is the user the path's id names, or the one users-by-email asks
// for.
func (a *auth0) Subject(r *http.Request) string {
	email := ""
	if strings.HasSuffix(r.Pattern, "/users-by-email") {
		email = r.URL.Query().Get("email")
	}
	return a.users.Subject(r.PathValue("id"), email)
}

// Authorized lets every token request through (the endpoint checks the
// client itself) and wants a live access token it issued on every other
// call.
func (a *auth0) Authorized(r *http.Request) bool {
	return a.tokens.Authorized(r, "/oauth/token")
}

// Fail answers a knob-made failure in the Management API's error shape.
func (a *auth0) Fail(w http.ResponseWriter, f fake.Failure) {
	switch f {
	case fake.Unauthorized:
		fake.WriteJSON(w, http.StatusUnauthorized, map[string]any{"statusCode": http.StatusUnauthorized, "error": "Unauthorized",
			"message": "Invalid token", "attributes": map[string]string{"error": "Invalid token"}})
	case fake.RateLimited:
		auth0Fail(w, http.StatusTooManyRequests, "Too Many Requests", "Global limit has been reached", "too_many_requests")
	default:
		auth0Fail(w, http.StatusServiceUnavailable, "Service Unavailable", "The service is temporarily unavailable. Please try again later.", "")
	}
}

// Quota sets the rate-limit headers Auth0 sends on every answer;
// X-RateLimit-Reset is the UNIX epoch second the limit resets.
// https://auth0.com/docs/troubleshoot/customer-support/operational-policies/rate-limit-policy
func (a *auth0) Quota(h http.Header, q fake.Quota) {
	h.Set("X-RateLimit-Limit", strconv.Itoa(q.Limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(q.Remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(q.Reset.Unix(), 10))
}
