// Package keycloak is the Keycloak fake of the simulator: one realm's
// client-credentials token endpoint and the parts of the Admin REST API that
// the keycloak connector calls, served under /keycloak, so that a
// connector's base_url (the server root, as Keycloak 17 and later serve it,
// without /auth) is http://host:port/keycloak. Sources, each cited again
// where it decides:
//
//   - Admin REST API (users, logout, sessions, consents): https://www.keycloak.org/docs-api/latest/rest-api/index.html#_users
//   - What logout and the consents do: https://github.com/keycloak/keycloak/blob/main/services/src/main/java/org/keycloak/services/resources/admin/UserResource.java
//   - Offline access survives logout; revoked through the user's consents: https://www.keycloak.org/docs/latest/server_admin/index.html
//   - Client credentials grant: https://www.keycloak.org/docs/latest/securing_apps/index.html
//   - Error bodies: https://github.com/keycloak/keycloak/blob/main/services/src/main/java/org/keycloak/services/error/KeycloakErrorHandler.java
//     ({"error":"…"} with an optional error_description)
//
// Keycloak has no rate limit of its own; over the simulator's rate limit the fake
// answers as a rate-limiting proxy in front of it would: 429 with
// Retry-After.
package keycloak

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

const (
	keycloakTokenLife   = 5 * time.Minute  // expires_in of a service account's access token, Keycloak's default
	keycloakMaxResults  = 100              // users: max defaults to 100
	keycloakOfflineApp  = "sim-mobile-app" // the client holding every simulated user's offline tokens
	keycloakOfflineUUID = "5d1c3a0e-8f7b-4c2a-9e61-3b0d2f4a7c19"
	keycloakOfflineKey  = "Offline Token"
)

type keycloak struct {
	config func() Config

	mu     sync.Mutex
	users  *fake.Directory[string, keycloakUser]
	tokens fake.Tokens // the access tokens the token endpoint issued
}

// keycloakUser is one user of the realm with their online sessions and the
// offline sessions (offline tokens) of keycloakOfflineApp.
type keycloakUser struct {
	id, email string
	created   time.Time
	notBefore int64 // set by logout: tokens issued before it are refused
	sessions  []keycloakSession
	offline   int
}

type keycloakSession struct {
	id            string
	start, access time.Time
}

func newKeycloak(config func() Config) *keycloak {
	k := &keycloak{config: config}
	k.users = fake.NewDirectory[string](&k.mu, func(u *keycloakUser) int { return len(u.sessions) })
	return k
}

func (k *keycloak) Name() string { return "keycloak" }

func (k *keycloak) Register(route func(string, http.HandlerFunc)) {
	// https://www.keycloak.org/docs/latest/securing_apps/index.html (client credentials grant)
	route("POST /realms/{realm}/protocol/openid-connect/token", k.token)
	// https://www.keycloak.org/docs-api/latest/rest-api/index.html#_users
	route("GET /admin/realms/{realm}/users", k.listUsers)
	route("POST /admin/realms/{realm}/users/{id}/logout", k.logout)
	route("GET /admin/realms/{realm}/users/{id}/sessions", k.getSessions)
	route("GET /admin/realms/{realm}/users/{id}/consents", k.getConsents)
	route("DELETE /admin/realms/{realm}/users/{id}/consents/{client}", k.revokeConsent)
	// Anything else: JAX-RS's 404, through KeycloakErrorHandler.
	route("/", func(w http.ResponseWriter, r *http.Request) {
		keycloakFail(w, http.StatusNotFound, "HTTP 404 Not Found")
	})
}

func (k *keycloak) AddUser(email string, sessions int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	u := k.users.Ensure(email, func() (string, *keycloakUser) {
		u := &keycloakUser{id: keycloakUUID("user:" + email), email: email, created: time.Now().UTC().Truncate(time.Millisecond)}
		return u.id, u
	})
	now := time.Now().UTC().Truncate(time.Millisecond)
	u.sessions = nil
	for i := range sessions {
		u.sessions = append(u.sessions, keycloakSession{id: keycloakUUID(u.id + ":session:" + strconv.Itoa(i) + ":" + now.String()),
			start: now, access: now})
	}
	u.offline = sessions
}

// Sessions counts the online sessions; offline tokens are the user's
// tokens, as refresh tokens are elsewhere.
func (k *keycloak) Sessions(email string) int { return k.users.Sessions(email) }

func (k *keycloak) Users() map[string]int { return k.users.Users() }

// Subject is the user the path's id names, or the one a users query asks
// for by email.
func (k *keycloak) Subject(r *http.Request) string {
	email := ""
	if strings.HasSuffix(r.Pattern, "/users") {
		email = strings.ToLower(r.URL.Query().Get("email"))
	}
	return k.users.Subject(r.PathValue("id"), email)
}

// Authorized lets every token request through (the endpoint checks the
// client itself) and wants a live access token it issued on every other
// call.
func (k *keycloak) Authorized(r *http.Request) bool {
	return k.tokens.Authorized(r, "/token")
}

// Fail answers a knob-made failure as Keycloak's error handler shapes it:
// {"error":"HTTP 401 Unauthorized"} for a missing or bad bearer token, and
// {"error":"unknown_error"} for a failure of the server.
func (k *keycloak) Fail(w http.ResponseWriter, f fake.Failure) {
	switch f {
	case fake.Unauthorized:
		keycloakFail(w, http.StatusUnauthorized, "HTTP 401 Unauthorized")
	case fake.RateLimited:
		keycloakFail(w, http.StatusTooManyRequests, "HTTP 429 Too Many Requests")
	default:
		keycloakFail(w, http.StatusServiceUnavailable, "unknown_error")
	}
}

// Quota sends Retry-After on a rate-limited answer: the simulator's windows
// last one second. Keycloak itself sends no quota headers.
func (k *keycloak) Quota(h http.Header, q fake.Quota) {
	if q.Exceeded {
		h.Set("Retry-After", "1")
	}
}
