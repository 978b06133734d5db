// Package entra is the Entra fake of the simulator: the Microsoft identity
// platform's client credentials token endpoint and the parts of Microsoft
// Graph v1.0 that the entra connector calls, served under /entra, so that a
// connector's base_url is http://host:port/entra and its token_url
// http://host:port/entra/{tenant}/oauth2/v2.0/token. Sources, each cited
// again where it decides:
//
//   - Client credentials: https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow
//   - Get user: https://learn.microsoft.com/en-us/graph/api/user-get?view=graph-rest-1.0
//   - List users: https://learn.microsoft.com/en-us/graph/api/user-list?view=graph-rest-1.0
//   - The user resource: https://learn.microsoft.com/en-us/graph/api/resources/user?view=graph-rest-1.0
//   - revokeSignInSessions: https://learn.microsoft.com/en-us/graph/api/user-revokesigninsessions?view=graph-rest-1.0
//   - Query parameters and quoting: https://learn.microsoft.com/en-us/graph/query-parameters
//   - Error body and codes: https://learn.microsoft.com/en-us/graph/errors
//   - Throttling (429, Retry-After): https://learn.microsoft.com/en-us/graph/throttling
package entra

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

const (
	entraPrefix     = "/entra"
	entraGraphRoot  = "https://graph.microsoft.com" // the public cloud's resource, also accepted as the scope
	entraTokenLife  = 3599 * time.Second            // expires_in of a client credentials token
	entraPageSize   = 100                           // list users: the default page size…
	entraMaxTop     = 999                           // …and the largest $top
	entraDateFormat = "2006-01-02T15:04:05Z"        // Graph's DateTimeOffset, UTC
	// entraGraphAppID is Microsoft Graph's application id, named in the
	// WWW-Authenticate challenge of a refused token.
	entraGraphAppID = "00000003-0000-0000-c000-000000000000"
)

type entra struct {
	config func() Config

	mu     sync.Mutex
	users  *fake.Directory[string, entraUser] // by lower-case userPrincipalName (= email) and object id
	tokens fake.Tokens                        // the access tokens the token endpoint issued
	seq    int64                              // the last change's sequence, for the delta query (delta.go)
}

// entraUser is one member of the tenant; userPrincipalName and mail are the
// same address.
type entraUser struct {
	id, upn, givenName, surname string
	validFrom                   time.Time // signInSessionsValidFromDateTime
	sessions                    int
	disabled                    bool  // accountEnabled false
	changed                     int64 // the sequence of its last change (delta.go)
}

func newEntra(config func() Config) *entra {
	e := &entra{config: config}
	e.users = fake.NewDirectory[string](&e.mu, func(u *entraUser) int { return u.sessions })
	return e
}

func (e *entra) Name() string { return "entra" }

func (e *entra) Register(route func(string, http.HandlerFunc)) {
	// https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow#get-a-token
	route("POST /{tenant}/oauth2/v2.0/token", e.token)
	// https://learn.microsoft.com/en-us/graph/api/user-list?view=graph-rest-1.0
	route("GET /v1.0/users", e.listUsers)
	// https://learn.microsoft.com/en-us/graph/api/user-get?view=graph-rest-1.0
	route("GET /v1.0/users/{id}", e.getUser)
	// [delta] and [update] in delta.go
	route("GET /v1.0/users/delta", e.delta)
	route("PATCH /v1.0/users/{id}", e.updateUser)
	// https://learn.microsoft.com/en-us/graph/api/user-revokesigninsessions?view=graph-rest-1.0
	route("POST /v1.0/users/{id}/revokeSignInSessions", e.revoke)
	route("/", func(w http.ResponseWriter, r *http.Request) {
		segs := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, entraPrefix), "/"), "/")
		graphFail(w, r, http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+segs[len(segs)-1]+"'.")
	})
}

func (e *entra) AddUser(email string, sessions int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	u := e.users.Ensure(email, func() (string, *entraUser) {
		first, last := fake.Names(email)
		e.seq++
		u := &entraUser{id: entraID(email), upn: email, givenName: first, surname: last,
			validFrom: time.Now().UTC().Truncate(time.Second), changed: e.seq}
		return u.id, u
	})
	u.sessions = sessions
}

func (e *entra) Sessions(email string) int { return e.users.Sessions(email) }

func (e *entra) Users() map[string]int { return e.users.Users() }

// Subject resolves the user a call is about the way its route would: the
// path's id or UPN, or a filter that matches exactly one user.
func (e *entra) Subject(r *http.Request) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if u := e.find(r.PathValue("id")); u != nil {
		return u.upn
	}
	if f := r.URL.Query().Get("$filter"); f != "" && strings.HasSuffix(r.Pattern, "/v1.0/users") {
		if match, _, msg := parseEntraFilter(f); msg == "" {
			var found []*entraUser
			for _, id := range e.users.IDs() {
				if u := e.users.ByID(id); match(u) {
					found = append(found, u)
				}
			}
			if len(found) == 1 {
				return found[0].upn
			}
		}
	}
	return ""
}

// Authorized lets every token request through (the endpoint checks the
// client itself) and wants, on every Graph call, a bearer token the token
// endpoint issued that has not expired.
func (e *entra) Authorized(r *http.Request) bool {
	return e.tokens.Authorized(r, "/oauth2/v2.0/token")
}

// Fail answers a knob-made failure in Graph's error shape: 401
// InvalidAuthenticationToken with a Bearer challenge, 429 TooManyRequests
// (Retry-After comes from quota) and 503 serviceNotAvailable with
// Retry-After, as Graph may send it.
// https://learn.microsoft.com/en-us/graph/errors, https://learn.microsoft.com/en-us/graph/throttling
func (e *entra) Fail(w http.ResponseWriter, f fake.Failure) {
	switch f {
	case fake.Unauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="`+entraGraphAppID+`"`)
		graphFail(w, nil, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure.")
	case fake.RateLimited:
		graphFail(w, nil, http.StatusTooManyRequests, "TooManyRequests", "Please retry again later.")
	default:
		w.Header().Set("Retry-After", "1")
		graphFail(w, nil, http.StatusServiceUnavailable, "serviceNotAvailable", "The service is temporarily unavailable. Please retry later.")
	}
}

// Quota sends Retry-After on a rate-limited answer: the simulator's windows
// last one second. Graph sends no quota headers otherwise.
// https://learn.microsoft.com/en-us/graph/throttling
func (e *entra) Quota(h http.Header, q fake.Quota) {
	if q.Exceeded {
		h.Set("Retry-After", "1")
	}
}

// graphFail writes Graph's error body: code, message and innerError with
// the date, a request-id and the caller's client-request-id (r may be nil).
// https://learn.microsoft.com/en-us/graph/errors
func graphFail(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	reqID := entraGUID(fake.RandomHex(16))
	clientID := reqID
	if r != nil && r.Header.Get("client-request-id") != "" {
		clientID = r.Header.Get("client-request-id")
	}
	fake.WriteJSON(w, status, map[string]any{"error": map[string]any{
		"code": code, "message": message,
		"innerError": map[string]string{"date": time.Now().UTC().Format("2006-01-02T15:04:05"), "request-id": reqID, "client-request-id": clientID},
	}})
}

func graphNotFound(w http.ResponseWriter, r *http.Request, key string) {
	graphFail(w, r, http.StatusNotFound, "Request_ResourceNotFound",
		"Resource '"+key+"' does not exist or one of its queried reference-property objects are not present.")
}

// entraID derives a stable object id (a GUID) from the email.
func entraID(email string) string {
	sum := sha256.Sum256([]byte("entra:" + email))
	return entraGUID(fmt.Sprintf("%x", sum[:16]))
}

// entraGUID formats 32 hex digits as a version-4 style GUID.
func entraGUID(h string) string {
	b := []byte(h)
	b[12] = '4'
	b[16] = "89ab"[strings.IndexByte("0123456789abcdef", b[16])%4]
	return string(b[:8]) + "-" + string(b[8:12]) + "-" + string(b[12:16]) + "-" + string(b[16:20]) + "-" + string(b[20:32])
}
