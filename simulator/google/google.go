// Package google is the Google fake of the simulator: the service-account
// token endpoint and the parts of the Admin SDK Directory API that the
// google connector calls, served under /google, so that a connector's
// base_url is http://host:port/google and its token_url
// http://host:port/google/token. Sources, each cited again where it decides:
//
//   - Service-account token exchange: https://developers.google.com/identity/protocols/oauth2/service-account
//   - users.signOut: https://developers.google.com/workspace/admin/directory/reference/rest/v1/users/signOut
//   - tokens.list / tokens.delete: https://developers.google.com/workspace/admin/directory/reference/rest/v1/tokens
//   - Error body and rate-limit answers: https://developers.google.com/workspace/admin/directory/v1/limits
//     and https://cloud.google.com/apis/design/errors
//   - Retry-After on rate-limit answers: https://github.com/googleworkspace/cli/issues/777
package google

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

const (
	googleScope      = "https://www.googleapis.com/auth/admin.directory.user.security"
	googleJWTBearer  = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	googleTokenLife  = 3599 * time.Second // expires_in of Google's access tokens
	googleMaxJWTLife = time.Hour          // exp - iat may be at most an hour
	googleClockSkew  = 5 * time.Minute
)

type google struct {
	config  func() Config
	limited atomic.Uint64 // rate-limited answers so far: odd ones are 403, even ones 429

	mu     sync.Mutex
	users  *fake.Directory[string, googleUser]
	grants map[[32]byte]googleGrant // sha256 of an issued access token → what it grants
}

// googleUser is one Workspace user with their web sessions and the OAuth
// tokens they granted to applications.
type googleUser struct {
	id, email string
	sessions  int
	apps      []googleApp
}

// googleApp is one application holding a user's tokens.
type googleApp struct {
	clientID, displayText string
	nativeApp, anonymous  bool
}

// googleGrant is what an issued access token allows.
type googleGrant struct {
	sub     string // the impersonated user; "" for the service account itself
	scopes  []string
	expires time.Time
}

func newGoogle(config func() Config) *google {
	g := &google{config: config, grants: map[[32]byte]googleGrant{}}
	g.users = fake.NewDirectory[string](&g.mu, func(u *googleUser) int { return u.sessions })
	return g
}

func (g *google) Name() string { return "google" }

func (g *google) Register(route func(string, http.HandlerFunc)) {
	// https://developers.google.com/identity/protocols/oauth2/service-account#authorizingrequests
	route("POST /token", g.token)
	// https://developers.google.com/workspace/admin/directory/reference/rest/v1/users/signOut
	route("POST /admin/directory/v1/users/{userKey}/signOut", g.signOut)
	// https://developers.google.com/workspace/admin/directory/reference/rest/v1/tokens/list
	route("GET /admin/directory/v1/users/{userKey}/tokens", g.listTokens)
	// https://developers.google.com/workspace/admin/directory/reference/rest/v1/tokens/delete
	route("DELETE /admin/directory/v1/users/{userKey}/tokens/{clientId}", g.deleteToken)
	route("/", func(w http.ResponseWriter, r *http.Request) {
		googleFail(w, http.StatusNotFound, "NOT_FOUND", "notFound", "Not Found")
	})
}

// googleApps are the applications a simulated user has granted tokens to,
// in order; a user with n sessions holds tokens of the first n (cycling).
var googleApps = []googleApp{
	{clientID: "1072944905499-sim01.apps.googleusercontent.com", displayText: "Google Drive for desktop", nativeApp: true},
	{clientID: "2049583920384-sim02.apps.googleusercontent.com", displayText: "Simulated CRM"},
	{clientID: "3305719283746-sim03.apps.googleusercontent.com", displayText: "Simulated Calendar Sync"},
	{clientID: "anonymous", displayText: "anonymous", anonymous: true},
}

func (g *google) AddUser(email string, sessions int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	u := g.users.Ensure(email, func() (string, *googleUser) {
		u := &googleUser{id: googleID(email), email: email}
		return u.id, u
	})
	u.sessions, u.apps = sessions, nil
	for i := range min(sessions, len(googleApps)) {
		u.apps = append(u.apps, googleApps[i])
	}
}

func (g *google) Sessions(email string) int { return g.users.Sessions(email) }

func (g *google) Users() map[string]int { return g.users.Users() }

func (g *google) Subject(r *http.Request) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if u := g.find(r.PathValue("userKey")); u != nil {
		return u.email
	}
	return ""
}

// Authorized lets every token request through (the endpoint checks its own
// assertion) and wants a live access token it issued on every other call.
func (g *google) Authorized(r *http.Request) bool {
	if strings.HasSuffix(r.Pattern, "/token") {
		return true
	}
	_, ok := g.grant(r)
	return ok
}

// Fail answers a knob-made failure in Google's error shape. Rate limits
// alternate between the two answers the Directory API documents: 403
// userRateLimitExceeded (the per-user quota) and 429 rateLimitExceeded (the
// per-account one).
// https://developers.google.com/workspace/admin/directory/v1/limits
func (g *google) Fail(w http.ResponseWriter, f fake.Failure) {
	switch f {
	case fake.Unauthorized:
		// https://cloud.google.com/apis/design/errors: UNAUTHENTICATED.
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
		googleFail(w, http.StatusUnauthorized, "UNAUTHENTICATED", "authError", "Invalid Credentials")
	case fake.RateLimited:
		if g.limited.Add(1)%2 == 1 {
			googleFailIn(w, http.StatusForbidden, "PERMISSION_DENIED", "usageLimits", "userRateLimitExceeded", "User Rate Limit Exceeded")
		} else {
			googleFailIn(w, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED", "usageLimits", "rateLimitExceeded",
				"Quota exceeded for quota metric 'Queries' and limit 'Queries per minute' of service 'admin.googleapis.com'.")
		}
	default:
		googleFail(w, http.StatusServiceUnavailable, "UNAVAILABLE", "backendError", "The service is currently unavailable.")
	}
}

// Quota sends Retry-After on a rate-limited answer: the simulator's windows
// last one second. Google sends no quota headers otherwise.
func (g *google) Quota(h http.Header, q fake.Quota) {
	if q.Exceeded {
		h.Set("Retry-After", "1")
	}
}

// withUser runs f, under g.mu, on the user the call's userKey names, for a
// caller allowed to manage user security. Otherwise it answers Google's
// error and reports false: 403 for a token that acts as no user of the
// domain or lacks the scope, 404 for no such user.
func (g *google) withUser(w http.ResponseWriter, r *http.Request, f func(u *googleUser)) bool {
	gr, _ := g.grant(r)
	switch {
	case gr.sub == "":
		googleFail(w, http.StatusForbidden, "PERMISSION_DENIED", "forbidden", "Not Authorized to access this resource/api")
		return false
	case !slices.Contains(gr.scopes, googleScope):
		googleFail(w, http.StatusForbidden, "PERMISSION_DENIED", "insufficientPermissions", "Request had insufficient authentication scopes.")
		return false
	}
	g.mu.Lock()
	u := g.find(r.PathValue("userKey"))
	if key := r.PathValue("userKey"); u == nil && (fake.NormalEmail(key) == gr.sub || key == googleID(gr.sub)) {
		// The admin the token acts as exists, as Google issues no token for
		// one that does not; unless added, it has no sessions or tokens.
		u = &googleUser{id: googleID(gr.sub), email: gr.sub}
	}
	if u != nil {
		f(u)
	}
	g.mu.Unlock()
	if u == nil {
		googleFail(w, http.StatusNotFound, "NOT_FOUND", "notFound", "Resource Not Found: userKey")
	}
	return u != nil
}

// signOut ends every web and device session; the answer has no body.
// https://developers.google.com/workspace/admin/directory/reference/rest/v1/users/signOut
func (g *google) signOut(w http.ResponseWriter, r *http.Request) {
	if g.withUser(w, r, func(u *googleUser) { u.sessions = 0 }) {
		w.WriteHeader(http.StatusNoContent)
	}
}

// listTokens answers the user's tokens, leaving items out when there is
// none, as Google does with empty lists.
// https://developers.google.com/workspace/admin/directory/reference/rest/v1/tokens/list
func (g *google) listTokens(w http.ResponseWriter, r *http.Request) {
	type token struct {
		Kind        string   `json:"kind"`
		Etag        string   `json:"etag"`
		ClientID    string   `json:"clientId"`
		DisplayText string   `json:"displayText"`
		Anonymous   bool     `json:"anonymous"`
		NativeApp   bool     `json:"nativeApp"`
		UserKey     string   `json:"userKey"`
		Scopes      []string `json:"scopes"`
	}
	var list struct {
		Kind  string  `json:"kind"`
		Etag  string  `json:"etag"`
		Items []token `json:"items,omitempty"`
	}
	ok := g.withUser(w, r, func(u *googleUser) {
		list.Kind, list.Etag = "admin#directory#tokenList", googleEtag(u.id, len(u.apps))
		for _, a := range u.apps {
			list.Items = append(list.Items, token{Kind: "admin#directory#token", Etag: googleEtag(u.id, a.clientID),
				ClientID: a.clientID, DisplayText: a.displayText, Anonymous: a.anonymous, NativeApp: a.nativeApp,
				UserKey: u.id, Scopes: []string{"openid", "https://www.googleapis.com/auth/userinfo.email"}})
		}
	})
	if ok {
		fake.WriteJSON(w, http.StatusOK, list)
	}
}

// deleteToken deletes every token the user issued to clientId; the answer
// has no body, and a client without tokens is 404.
// https://developers.google.com/workspace/admin/directory/reference/rest/v1/tokens/delete
func (g *google) deleteToken(w http.ResponseWriter, r *http.Request) {
	deleted := false
	ok := g.withUser(w, r, func(u *googleUser) {
		n := len(u.apps)
		u.apps = slices.DeleteFunc(u.apps, func(a googleApp) bool { return a.clientID == r.PathValue("clientId") })
		deleted = len(u.apps) < n
	})
	switch {
	case !ok:
		return
	case !deleted:
		googleFail(w, http.StatusNotFound, "NOT_FOUND", "notFound", "Resource Not Found: clientId")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// find resolves a userKey: the unique id or the primary email, in any case.
// g.mu must be held.
func (g *google) find(key string) *googleUser {
	if u := g.users.ByID(key); u != nil {
		return u
	}
	return g.users.ByEmail(fake.NormalEmail(key))
}

// googleFail writes Google's error body with the global domain.
func googleFail(w http.ResponseWriter, code int, status, reason, message string) {
	googleFailIn(w, code, status, "global", reason, message)
}

// googleFailIn writes Google's error body: code, message, errors[] (with
// domain and reason) and status.
// https://developers.google.com/workspace/admin/directory/v1/limits, https://cloud.google.com/apis/design/errors
func googleFailIn(w http.ResponseWriter, code int, status, domain, reason, message string) {
	type detail struct {
		Message string `json:"message"`
		Domain  string `json:"domain"`
		Reason  string `json:"reason"`
	}
	fake.WriteJSON(w, code, map[string]any{"error": map[string]any{
		"code": code, "message": message, "status": status,
		"errors": []detail{{Message: message, Domain: domain, Reason: reason}},
	}})
}

// googleID derives a stable 21-digit Google user id from the email.
func googleID(email string) string {
	sum := sha256.Sum256([]byte("google:" + email))
	n := new(big.Int).SetBytes(sum[:])
	return "1" + fmt.Sprintf("%020s", n.Mod(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(20), nil)).String())
}

func googleEtag(parts ...any) string {
	sum := sha256.Sum256(fmt.Append(nil, parts...))
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
}
