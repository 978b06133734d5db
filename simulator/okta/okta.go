// Package okta is the Okta fake of the simulator: the parts of the Okta
// Management API that the okta connector calls, served under /okta so that a
// connector's base_url is http://host:port/okta. Sources, each cited again
// where it decides:
//
//   - Users API: https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/
//   - User Sessions API: https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserSessions/
//   - SSWS API tokens: https://developer.okta.com/docs/api/openapi/okta-management/guides/overview
//   - Error object and codes: https://developer.okta.com/docs/reference/error-codes/
//   - Rate-limit headers: https://developer.okta.com/docs/reference/rl-best-practices/
//   - OAuth service apps (the token endpoint, in token.go): https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/main/
package okta

import (
	"crypto/sha256"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

const (
	oktaPrefix    = "/okta"
	oktaTime      = "2006-01-02T15:04:05.000Z" // Okta's timestamps: UTC, milliseconds
	oktaMaxLimit  = 200                        // listUsers: limit defaults to (and tops out at) 200…
	oktaQLimit    = 10                         // …and defaults to 10 with q
	oktaIDChars   = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	oktaErrIDText = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
)

type okta struct {
	config func() Config

	mu     sync.Mutex
	users  *fake.Directory[string, oktaUser] // by lower-case login and id
	grants map[[32]byte]oktaGrant
	jtis   map[string]time.Time // client assertion ids seen → their expiry

	// DPoP (dpop.go): proof ids seen → when, and the nonces.
	proofs           map[string]time.Time
	nonce, prevNonce string
	nonceAt          time.Time

	log []oktaLogEvent // the System Log (logs.go), oldest first
}

// UserID is the id the Okta fake gives the user with that lower-case
// email; it is the same in every run.
func UserID(email string) string { return oktaID("00u", email) }

// oktaTypeID is the id of the org's one user type.
var oktaTypeID = oktaID("oty", "default")

// oktaUser is one Okta user; login and email are the same address.
type oktaUser struct {
	id, login, firstName, lastName string
	created                        time.Time
	loggedIn                       bool
	sessions, tokens               int
	deprovisioned                  bool
}

func newOkta(config func() Config) *okta {
	withDefaults := func() Config { return config().withDefaults() }
	o := &okta{config: withDefaults, grants: map[[32]byte]oktaGrant{}, jtis: map[string]time.Time{}, proofs: map[string]time.Time{}}
	o.users = fake.NewDirectory[string](&o.mu, func(u *oktaUser) int { return u.sessions })
	return o
}

func (o *okta) Name() string { return "okta" }

func (o *okta) Register(route func(string, http.HandlerFunc)) {
	// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/#tag/User/operation/listUsers
	route("GET /api/v1/users", o.listUsers)
	// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/#tag/User/operation/getUser
	route("GET /api/v1/users/{id}", o.getUser)
	// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserSessions/#tag/UserSessions/operation/revokeUserSessions
	route("DELETE /api/v1/users/{id}/sessions", o.revokeSessions)
	// [deactivate] and [logs] in logs.go
	route("POST /api/v1/users/{id}/lifecycle/deactivate", o.deactivate)
	route("GET /api/v1/logs", o.listLogs)
	// https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/get-access-token/
	route("POST "+oktaTokenPath, o.token)
	// Anything else: E0000008, https://developer.okta.com/docs/reference/error-codes/
	route("/", func(w http.ResponseWriter, r *http.Request) {
		oktaFail(w, oktaErr(http.StatusNotFound, "E0000008", "The requested path was not found"))
	})
}

func (o *okta) AddUser(email string, sessions int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	u := o.users.Ensure(email, func() (string, *oktaUser) {
		first, last := fake.Names(email)
		u := &oktaUser{id: oktaID("00u", email), login: email, firstName: first, lastName: last,
			created: time.Now().UTC().Truncate(time.Millisecond)}
		return u.id, u
	})
	u.sessions, u.tokens = sessions, sessions
	u.loggedIn = u.loggedIn || sessions > 0
}

func (o *okta) Sessions(email string) int { return o.users.Sessions(email) }

func (o *okta) Users() map[string]int { return o.users.Users() }

// Subject resolves the user a call is about the way its route would: the
// path's id, or a list query that matches exactly one user.
func (o *okta) Subject(r *http.Request) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var u *oktaUser
	switch id := r.PathValue("id"); {
	case strings.HasSuffix(r.Pattern, "/sessions"):
		u = o.users.ByID(id)
	case id != "":
		u = o.find(id)
	case strings.HasSuffix(r.Pattern, "/api/v1/users"):
		if page, _, err := o.list(r.URL.Query()); err == nil && len(page) == 1 {
			return page[0].login
		}
	}
	if u == nil {
		return ""
	}
	return u.login
}

// Authorized lets every token request through (the endpoint checks the
// client's assertion itself) and wants, on every other call, either
// "Authorization: SSWS <token>" (compared in constant time) or
// "Authorization: Bearer <access token>" that the token endpoint issued and
// that has not expired ("DPoP <access token>" for a DPoP-bound one); what
// the token's scopes allow, and a bound token's proof, are the routes' part.
// https://developer.okta.com/docs/api/openapi/okta-management/guides/overview
// https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/main/
func (o *okta) Authorized(r *http.Request) bool {
	if strings.HasSuffix(r.Pattern, oktaTokenPath) {
		return true
	}
	if g, scheme, _, ok := o.grant(r); ok {
		return g.jkt != "" || scheme == "Bearer" // an unbound token is never DPoP
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "SSWS ")
	return fake.SameSecret(token, o.config().Token) && ok
}

// Fail answers a knob-made failure with Okta's documented code for it.
// https://developer.okta.com/docs/reference/error-codes/
func (o *okta) Fail(w http.ResponseWriter, f fake.Failure) {
	switch f {
	case fake.Unauthorized:
		oktaFail(w, oktaErr(http.StatusUnauthorized, "E0000011", "Invalid token provided"))
	case fake.RateLimited:
		oktaFail(w, oktaErr(http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests."))
	default: // E0000010 is the 503 that Okta documents.
		oktaFail(w, oktaErr(http.StatusServiceUnavailable, "E0000010", "Service is in read-only mode"))
	}
}

// Quota sets the headers Okta sends on every answer; X-Rate-Limit-Reset is
// in UTC epoch seconds.
// https://developer.okta.com/docs/reference/rl-best-practices/
func (o *okta) Quota(h http.Header, q fake.Quota) {
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(q.Limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(q.Remaining))
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(q.Reset.Unix(), 10))
}

// oktaID derives a stable Okta-style id (prefix and 17 characters) from key.
func oktaID(prefix, key string) string {
	sum := sha256.Sum256([]byte(key))
	id := []byte(prefix)
	for _, b := range sum[:17] {
		id = append(id, oktaIDChars[int(b)%len(oktaIDChars)])
	}
	return string(id)
}

// oktaBase is the org URL as the caller reached it: scheme://host/okta.
func oktaBase(r *http.Request) string {
	return fake.CallerURL(r, oktaPrefix)
}
