// Package zoom is the Zoom fake of the simulator: the Server-to-Server OAuth
// token endpoint and the parts of the Users API that the zoom connector
// calls, served under /zoom, so that a connector's base_url and token_url
// are http://host:port/zoom and http://host:port/zoom/oauth/token. Sources,
// each cited again where it decides:
//
//   - Server-to-Server OAuth (account_credentials, HTTP Basic, one-hour
//     tokens): https://developers.zoom.us/docs/internal-apps/s2s-oauth/
//   - OAuth error messages: https://developers.zoom.us/docs/integrations/oauth-error-messages/
//   - Users (get a user by id or email, list users, revoke a user's SSO
//     token): https://developers.zoom.us/docs/api/users/
//   - The error body {"code":…,"message":…}: https://developers.zoom.us/docs/api/errors/
//   - Rate limits (429, X-RateLimit-Category, X-RateLimit-Type,
//     X-RateLimit-Limit, X-RateLimit-Remaining; Retry-After only for a
//     daily limit): https://developers.zoom.us/docs/api/rate-limits/
//
// Every simulated user signs in with SSO; their sessions are the Zoom
// clients signed in with it, all ended by revoking the SSO token.
package zoom

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

const (
	zoomTokenLife = time.Hour // "The token's time to live is one hour"
	zoomLoginSSO  = 101       // login_types: Single Sign-On
)

type zoom struct {
	config func() Config

	mu     sync.Mutex
	users  *fake.Directory[string, zoomUser]
	tokens fake.Tokens // the access tokens the token endpoint issued
}

// zoomUser is one user of the account with the Zoom clients signed in
// with their SSO token.
type zoomUser struct {
	id, email string
	created   time.Time
	sessions  int
}

func newZoom(config func() Config) *zoom {
	z := &zoom{config: config}
	z.users = fake.NewDirectory[string](&z.mu, func(u *zoomUser) int { return u.sessions })
	return z
}

func (z *zoom) Name() string { return "zoom" }

func (z *zoom) Register(route func(string, http.HandlerFunc)) {
	// https://developers.zoom.us/docs/internal-apps/s2s-oauth/
	route("POST /oauth/token", z.token)
	// https://developers.zoom.us/docs/api/users/
	route("GET /v2/users", z.listUsers)
	route("GET /v2/users/{userId}", z.getUser)
	route("DELETE /v2/users/{userId}/token", z.revokeSSOToken)
	route("/", func(w http.ResponseWriter, r *http.Request) {
		zoomFail(w, http.StatusNotFound, 404, "Not Found")
	})
}

func (z *zoom) AddUser(email string, sessions int) {
	z.mu.Lock()
	defer z.mu.Unlock()
	u := z.users.Ensure(email, func() (string, *zoomUser) {
		sum := sha256.Sum256([]byte("zoom:" + email))
		id := base64.RawURLEncoding.EncodeToString(sum[:16]) // 22 characters, as Zoom's user ids are
		return id, &zoomUser{id: id, email: email, created: time.Now().UTC().Truncate(time.Second)}
	})
	u.sessions = sessions
}

func (z *zoom) Sessions(email string) int { return z.users.Sessions(email) }

func (z *zoom) Users() map[string]int { return z.users.Users() }

// Subject is the user the path names, by id or by email.
func (z *zoom) Subject(r *http.Request) string {
	id := r.PathValue("userId")
	return z.users.Subject(id, fake.NormalEmail(id))
}

// Authorized lets every token request through (the endpoint checks the app
// itself) and wants a live access token it issued on every other call.
func (z *zoom) Authorized(r *http.Request) bool { return z.tokens.Authorized(r, "/oauth/token") }

// Fail answers a knob-made failure in Zoom's error body: 401 code 124 for a
// missing or bad token, 429 code 429 with the per-second message for a
// rate limit, 503 for a failure of Zoom's.
// https://developers.zoom.us/docs/api/errors/
func (z *zoom) Fail(w http.ResponseWriter, f fake.Failure) {
	switch f {
	case fake.Unauthorized:
		zoomFail(w, http.StatusUnauthorized, 124, "Invalid access token.")
	case fake.RateLimited:
		zoomFail(w, http.StatusTooManyRequests, 429, "You have reached the maximum per-second rate limit for this API. Try again later.")
	default:
		zoomFail(w, http.StatusServiceUnavailable, 503, "Service temporarily unavailable.")
	}
}

// Quota sends Zoom's rate-limit headers: the simulator's limit counts per
// second, as Zoom's QPS limits do, so a 429 carries no Retry-After (Zoom
// sends one only for a daily limit).
// https://developers.zoom.us/docs/api/rate-limits/
func (z *zoom) Quota(h http.Header, q fake.Quota) {
	h.Set("X-RateLimit-Category", "Light")
	h.Set("X-RateLimit-Type", "QPS")
	h.Set("X-RateLimit-Limit", strconv.Itoa(q.Limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(q.Remaining))
}

// zoomFail writes Zoom's error body, {"code":code,"message":message}.
func zoomFail(w http.ResponseWriter, status, code int, message string) {
	fake.WriteJSON(w, status, map[string]any{"code": code, "message": message})
}

// token issues an access token for the app: POST with grant_type
// account_credentials and account_id as query or form parameters, the
// client id and secret as HTTP Basic. A wrong client is 401
// invalid_client, another grant 400 unsupported_grant_type, another
// account 400 invalid_request.
// https://developers.zoom.us/docs/internal-apps/s2s-oauth/
// https://developers.zoom.us/docs/integrations/oauth-error-messages/
func (z *zoom) token(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, fake.MaxBody)
	if err := r.ParseForm(); err != nil {
		zoomOAuthFail(w, http.StatusBadRequest, "invalid_request", "Invalid request")
		return
	}
	account, client := z.config().app()
	id, secret, ok := r.BasicAuth()
	switch {
	case !ok || !client.Is(id, secret):
		zoomOAuthFail(w, http.StatusUnauthorized, "invalid_client", "Invalid client_id or client_secret")
	case r.Form.Get("grant_type") != "account_credentials":
		zoomOAuthFail(w, http.StatusBadRequest, "unsupported_grant_type", "unsupported grant type")
	case !fake.SameSecret(r.Form.Get("account_id"), account):
		zoomOAuthFail(w, http.StatusBadRequest, "invalid_request", "Invalid account_id")
	default:
		access := z.tokens.Mint("sim-zoom-", 32, zoomTokenLife)
		fake.WriteJSON(w, http.StatusOK, map[string]any{"access_token": access, "token_type": "bearer",
			"expires_in": int(zoomTokenLife.Seconds()) - 1, "scope": "user:read:admin user:write:admin", "api_url": fake.CallerURL(r, "/zoom")})
	}
}

// zoomOAuthFail writes the token endpoint's error body.
func zoomOAuthFail(w http.ResponseWriter, status int, code, reason string) {
	fake.WriteJSON(w, status, map[string]any{"reason": reason, "error": code})
}

// userByPath is the user the path's userId names, by id or by email in
// any case; nil when there is none. z.mu must be held.
func (z *zoom) userByPath(r *http.Request) *zoomUser {
	id := r.PathValue("userId")
	if u := z.users.ByID(id); u != nil {
		return u
	}
	if strings.Contains(id, "@") {
		return z.users.ByEmail(fake.NormalEmail(id))
	}
	return nil
}

func zoomUserJSON(u *zoomUser) map[string]any {
	first, last := fake.Names(u.email)
	return map[string]any{"id": u.id, "first_name": first, "last_name": last, "display_name": first + " " + last,
		"email": u.email, "type": 2, "status": "active", "login_types": []int{zoomLoginSSO},
		"created_at": u.created.Format(time.RFC3339), "timezone": "UTC", "verified": 1, "account_id": DefaultAccountID}
}
