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
	"crypto/sha256"
	"encoding/hex"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

const (
	defaultKeycloakRealm    = "demo"
	defaultKeycloakClientID = "sim-keycloak-client"
	defaultKeycloakSecret   = "sim-keycloak-secret"

	keycloakTokenLife   = 5 * time.Minute  // expires_in of a service account's access token, Keycloak's default
	keycloakMaxResults  = 100              // users: max defaults to 100
	keycloakOfflineApp  = "sim-mobile-app" // the client holding every simulated user's offline tokens
	keycloakOfflineUUID = "5d1c3a0e-8f7b-4c2a-9e61-3b0d2f4a7c19"
	keycloakOfflineKey  = "Offline Token"
)

type keycloak struct {
	config func() Config

	mu      sync.Mutex
	byEmail map[string]*keycloakUser
	byID    map[string]*keycloakUser
	ids     []string    // every user id, sorted: the listing order
	tokens  fake.Tokens // the access tokens the token endpoint issued
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
	return &keycloak{config: config, byEmail: map[string]*keycloakUser{}, byID: map[string]*keycloakUser{}}
}

// keycloakSettings are the realm and client the fake serves, defaults
// filled in.
func keycloakSettings(o Config) (realm, clientID, secret string) {
	realm, clientID, secret = o.Realm, o.ClientID, o.ClientSecret
	if realm == "" {
		realm = defaultKeycloakRealm
	}
	if clientID == "" {
		clientID = defaultKeycloakClientID
	}
	if secret == "" {
		secret = defaultKeycloakSecret
	}
	return realm, clientID, secret
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
	u := k.byEmail[email]
	if u == nil {
		u = &keycloakUser{id: keycloakUUID("user:" + email), email: email, created: time.Now().UTC().Truncate(time.Millisecond)}
		k.byEmail[email], k.byID[u.id] = u, u
		i, _ := slices.BinarySearch(k.ids, u.id)
		k.ids = slices.Insert(k.ids, i, u.id)
	}
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
func (k *keycloak) Sessions(email string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	if u := k.byEmail[email]; u != nil {
		return len(u.sessions)
	}
	return -1
}

func (k *keycloak) Users() map[string]int {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make(map[string]int, len(k.byEmail))
	for email, u := range k.byEmail {
		out[email] = len(u.sessions)
	}
	return out
}

func (k *keycloak) Subject(r *http.Request) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	if u := k.byID[r.PathValue("id")]; u != nil {
		return u.email
	}
	if u := k.byEmail[strings.ToLower(r.URL.Query().Get("email"))]; u != nil && strings.HasSuffix(r.Pattern, "/users") {
		return u.email
	}
	return ""
}

// Authorized lets every token request through (the endpoint checks the
// client itself) and wants a live access token it issued on every other
// call.
func (k *keycloak) Authorized(r *http.Request) bool {
	if strings.HasSuffix(r.Pattern, "/token") {
		return true
	}
	return k.tokens.Valid(r)
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

// token issues a service account's access token for client credentials:
// grant_type client_credentials with client_id and client_secret in the
// form or as HTTP Basic. An unknown realm is 404 "Realm does not exist", a
// missing grant_type 400 invalid_request, another grant 400
// unsupported_grant_type, a wrong client 401 unauthorized_client.
// https://www.keycloak.org/docs/latest/securing_apps/index.html
func (k *keycloak) token(w http.ResponseWriter, r *http.Request) {
	realm, clientID, secret := keycloakSettings(k.config())
	if r.PathValue("realm") != realm {
		keycloakFail(w, http.StatusNotFound, "Realm does not exist")
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		fake.OAuth2Fail(w, http.StatusBadRequest, "invalid_request", "Missing form parameter: grant_type")
		return
	}
	if err := r.ParseForm(); err != nil {
		fake.OAuth2Fail(w, http.StatusBadRequest, "invalid_request", "Missing form parameter: grant_type")
		return
	}
	switch g := r.PostForm.Get("grant_type"); g {
	case "client_credentials":
	case "":
		fake.OAuth2Fail(w, http.StatusBadRequest, "invalid_request", "Missing form parameter: grant_type")
		return
	default:
		fake.OAuth2Fail(w, http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant_type")
		return
	}
	id, sec := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if bid, bsec, ok := r.BasicAuth(); ok {
		id, _ = url.QueryUnescape(bid)
		sec, _ = url.QueryUnescape(bsec)
	}
	if !fake.SameSecret(id, clientID) || !fake.SameSecret(sec, secret) {
		fake.OAuth2Fail(w, http.StatusUnauthorized, "unauthorized_client", "Invalid client or Invalid client credentials")
		return
	}
	access := "sim-keycloak-" + fake.RandomHex(24)
	k.tokens.Issue(access, keycloakTokenLife)
	fake.WriteJSON(w, http.StatusOK, map[string]any{"access_token": access, "expires_in": int(keycloakTokenLife.Seconds()),
		"refresh_expires_in": 0, "token_type": "Bearer", "not-before-policy": 0, "scope": "profile email"})
}

// listUsers answers the realm's users as an array: email and username
// match a substring, or the whole value with exact=true, in any case; first
// and max page through them (max defaults to 100). A bound that is not an
// integer is JAX-RS's 404.
// https://www.keycloak.org/docs-api/latest/rest-api/index.html#_users
func (k *keycloak) listUsers(w http.ResponseWriter, r *http.Request) {
	if !k.inRealm(w, r) {
		return
	}
	q := r.URL.Query()
	first, err1 := keycloakInt(q.Get("first"), 0)
	limit, err2 := keycloakInt(q.Get("max"), keycloakMaxResults)
	if err1 != nil || err2 != nil {
		keycloakFail(w, http.StatusNotFound, "HTTP 404 Not Found")
		return
	}
	exact := q.Get("exact") == "true"
	matches := func(value, want string) bool {
		value, want = strings.ToLower(value), strings.ToLower(want)
		if exact {
			return want == "" || value == want
		}
		return strings.Contains(value, want)
	}
	out := []map[string]any{}
	k.mu.Lock()
	ids := k.ids
	if u := k.byEmail[strings.ToLower(q.Get("email"))]; exact && u != nil {
		ids = []string{u.id} // an exact email matches one user: skip the scan
	}
	for _, id := range ids {
		u := k.byID[id]
		local, _, _ := strings.Cut(u.email, "@")
		if !matches(u.email, q.Get("email")) || !matches(local, q.Get("username")) {
			continue
		}
		if first > 0 {
			first--
			continue
		}
		if len(out) == limit {
			break
		}
		out = append(out, k.view(u))
	}
	k.mu.Unlock()
	fake.WriteJSON(w, http.StatusOK, out)
}

// logout ends every online session of the user and sets their not-before
// time; offline sessions survive it. 204.
// https://github.com/keycloak/keycloak/blob/main/services/src/main/java/org/keycloak/services/resources/admin/UserResource.java
func (k *keycloak) logout(w http.ResponseWriter, r *http.Request) {
	if k.withUser(w, r, func(u *keycloakUser) {
		u.sessions, u.notBefore = nil, time.Now().Unix()
	}) {
		w.WriteHeader(http.StatusNoContent)
	}
}

// getSessions answers the user's online sessions as an array of
// UserSessionRepresentation.
// https://www.keycloak.org/docs-api/latest/rest-api/index.html#_users
func (k *keycloak) getSessions(w http.ResponseWriter, r *http.Request) {
	out := []map[string]any{}
	if k.withUser(w, r, func(u *keycloakUser) {
		local, _, _ := strings.Cut(u.email, "@")
		for _, s := range u.sessions {
			out = append(out, map[string]any{"id": s.id, "username": local, "userId": u.id, "ipAddress": "192.0.2.10",
				"start": s.start.UnixMilli(), "lastAccess": s.access.UnixMilli(), "rememberMe": false,
				"clients": map[string]string{keycloakOfflineUUID: keycloakOfflineApp}})
		}
	}) {
		fake.WriteJSON(w, http.StatusOK, out)
	}
}

// getConsents answers the clients the user consented to or holds offline
// tokens for; a client with offline tokens carries the additional grant
// "Offline Token".
// https://github.com/keycloak/keycloak/blob/main/services/src/main/java/org/keycloak/services/resources/admin/UserResource.java
func (k *keycloak) getConsents(w http.ResponseWriter, r *http.Request) {
	out := []map[string]any{}
	if k.withUser(w, r, func(u *keycloakUser) {
		if u.offline > 0 {
			out = append(out, map[string]any{"clientId": keycloakOfflineApp, "grantedClientScopes": []string{},
				"createdDate": nil, "lastUpdatedDate": nil,
				"additionalGrants": []map[string]string{{"client": keycloakOfflineUUID, "key": keycloakOfflineKey}}})
		}
	}) {
		fake.WriteJSON(w, http.StatusOK, out)
	}
}

// revokeConsent revokes the user's consent and offline tokens for the
// client named by its clientId: 204; 404 "Client not found" for an unknown
// client, "Consent nor offline token not found" when there is nothing to
// revoke.
// https://github.com/keycloak/keycloak/blob/main/services/src/main/java/org/keycloak/services/resources/admin/UserResource.java
func (k *keycloak) revokeConsent(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("client") != keycloakOfflineApp {
		if k.withUser(w, r, func(*keycloakUser) {}) {
			keycloakFail(w, http.StatusNotFound, "Client not found")
		}
		return
	}
	had := false
	if !k.withUser(w, r, func(u *keycloakUser) { had, u.offline = u.offline > 0, 0 }) {
		return
	}
	if !had {
		keycloakFail(w, http.StatusNotFound, "Consent nor offline token not found")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// inRealm answers 404 "Realm not found." for an Admin API call to another
// realm and reports false.
func (k *keycloak) inRealm(w http.ResponseWriter, r *http.Request) bool {
	realm, _, _ := keycloakSettings(k.config())
	if r.PathValue("realm") != realm {
		keycloakFail(w, http.StatusNotFound, "Realm not found.")
		return false
	}
	return true
}

// withUser runs f, under k.mu, on the user the path's id names; an unknown
// realm or id is a 404, and f is not run.
func (k *keycloak) withUser(w http.ResponseWriter, r *http.Request, f func(u *keycloakUser)) bool {
	if !k.inRealm(w, r) {
		return false
	}
	k.mu.Lock()
	u := k.byID[r.PathValue("id")]
	if u != nil {
		f(u)
	}
	k.mu.Unlock()
	if u == nil {
		keycloakFail(w, http.StatusNotFound, "User not found")
	}
	return u != nil
}

// view renders u as a brief UserRepresentation; k.mu must be held.
func (k *keycloak) view(u *keycloakUser) map[string]any {
	local, _, _ := strings.Cut(u.email, "@")
	return map[string]any{"id": u.id, "username": local, "email": u.email, "emailVerified": true,
		"enabled": true, "createdTimestamp": u.created.UnixMilli(), "notBefore": u.notBefore}
}

// keycloakFail writes Keycloak's error body.
func keycloakFail(w http.ResponseWriter, status int, msg string) {
	fake.WriteJSON(w, status, map[string]string{"error": msg})
}

// keycloakUUID derives a stable UUID-shaped id from key.
func keycloakUUID(key string) string {
	sum := sha256.Sum256([]byte(key))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

// keycloakInt parses s, or answers def for ""; a negative value counts as
// def.
func keycloakInt(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if n < 0 {
		n = def
	}
	return n, err
}
