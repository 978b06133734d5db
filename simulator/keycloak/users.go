package keycloak

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

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
	ids := k.users.IDs()
	if u := k.users.ByEmail(strings.ToLower(q.Get("email"))); exact && u != nil {
		ids = []string{u.id} // an exact email matches one user: skip the scan
	}
	for _, id := range ids {
		u := k.users.ByID(id)
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
	realm, _ := k.config().withDefaults()
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
	u := k.users.ByID(r.PathValue("id"))
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
