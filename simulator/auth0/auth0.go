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
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
	auth0Time        = "2006-01-02T15:04:05.000Z" // Auth0's timestamps: UTC, milliseconds
	auth0TokenLife   = 24 * time.Hour             // expires_in of a Management API token
	auth0DefaultTake = 50                         // sessions and refresh tokens per page without take
	auth0MaxTake     = 100
	auth0MaxPerPage  = 100
	auth0Scopes      = "read:users delete:sessions read:sessions delete:refresh_tokens read:refresh_tokens"
)

type auth0 struct {
	config func() Config

	mu      sync.Mutex
	byEmail map[string]*auth0User
	byID    map[string]*auth0User
	ids     []string    // every user id, sorted: the listing order
	tokens  fake.Tokens // the access tokens the token endpoint issued
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
	return &auth0{config: config, byEmail: map[string]*auth0User{}, byID: map[string]*auth0User{}}
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
	u := a.byEmail[email]
	if u == nil {
		u = &auth0User{id: "auth0|" + auth0Hex("user:"+email, 12), email: email, created: time.Now().UTC().Truncate(time.Millisecond)}
		a.byEmail[email], a.byID[u.id] = u, u
		i, _ := slices.BinarySearch(a.ids, u.id)
		a.ids = slices.Insert(a.ids, i, u.id)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	u.sessions, u.tokens = nil, nil
	for i := range sessions {
		sid := auth0Hex(u.id+":session:"+strconv.Itoa(i)+":"+now.String(), 16)
		u.sessions = append(u.sessions, auth0Session{id: sid, created: now})
		u.tokens = append(u.tokens, auth0Refresh{id: "tokn_" + auth0Hex(sid, 12), sessionID: sid, created: now})
	}
}

func (a *auth0) Sessions(email string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if u := a.byEmail[email]; u != nil {
		return len(u.sessions)
	}
	return -1
}

func (a *auth0) Users() map[string]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string]int, len(a.byEmail))
	for email, u := range a.byEmail {
		out[email] = len(u.sessions)
	}
	return out
}

func (a *auth0) Subject(r *http.Request) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if u := a.byID[r.PathValue("id")]; u != nil {
		return u.email
	}
	if u := a.byEmail[r.URL.Query().Get("email")]; u != nil && strings.HasSuffix(r.Pattern, "/users-by-email") {
		return u.email
	}
	return ""
}

// Authorized lets every token request through (the endpoint checks the
// client itself) and wants a live access token it issued on every other
// call.
func (a *auth0) Authorized(r *http.Request) bool {
	if strings.HasSuffix(r.Pattern, "/oauth/token") {
		return true
	}
	return a.tokens.Valid(r)
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

// token issues a Management API token for client credentials: grant_type
// client_credentials, client_id and client_secret in the body (or as HTTP
// Basic) and audience https://{tenant}/api/v2/, as a form or as JSON. A
// wrong client is 401 access_denied; another audience is 403.
// https://auth0.com/docs/secure/tokens/access-tokens/management-api-access-tokens/get-management-api-access-tokens-for-production
func (a *auth0) token(w http.ResponseWriter, r *http.Request) {
	p, err := auth0TokenParams(w, r)
	if err != nil {
		fake.OAuth2Fail(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	if p.Get("grant_type") != "client_credentials" {
		fake.OAuth2Fail(w, http.StatusForbidden, "unauthorized_client", "Grant type '"+p.Get("grant_type")+"' not allowed for the client.")
		return
	}
	o := a.config().withDefaults()
	if !fake.SameSecret(p.Get("client_id"), o.ClientID) || !fake.SameSecret(p.Get("client_secret"), o.ClientSecret) {
		fake.OAuth2Fail(w, http.StatusUnauthorized, "access_denied", "Unauthorized")
		return
	}
	switch aud := p.Get("audience"); aud {
	case fake.CallerURL(r, "/auth0/api/v2/"):
	case "":
		fake.OAuth2Fail(w, http.StatusForbidden, "access_denied", "No audience parameter was provided, and no default audience has been configured")
		return
	default:
		fake.OAuth2Fail(w, http.StatusForbidden, "access_denied", "Service not found: "+aud)
		return
	}
	access := "sim-auth0-mgmt-" + fake.RandomHex(24)
	a.tokens.Issue(access, auth0TokenLife)
	fake.WriteJSON(w, http.StatusOK, map[string]any{"access_token": access, "scope": auth0Scopes,
		"expires_in": int(auth0TokenLife.Seconds()), "token_type": "Bearer"})
}

// auth0TokenParams reads a token request from a form or a JSON body, with
// the client credentials from HTTP Basic when the body has none.
func auth0TokenParams(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	p := url.Values{}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/json" {
		var body map[string]string
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, fake.MaxBody)).Decode(&body); err != nil {
			return nil, err
		}
		for k, v := range body {
			p.Set(k, v)
		}
	} else {
		if err := r.ParseForm(); err != nil {
			return nil, err
		}
		p = r.PostForm
	}
	if id, secret, ok := r.BasicAuth(); ok && p.Get("client_id") == "" {
		p.Set("client_id", id)
		p.Set("client_secret", secret)
	}
	return p, nil
}

// usersByEmail answers the users whose email is exactly email: the match
// is case-sensitive, and the tenant's database keeps emails in lower case.
// https://auth0.com/docs/api/management/v2/users-by-email/get-users-by-email
func (a *auth0) usersByEmail(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	email := q.Get("email")
	if email == "" {
		auth0Fail(w, http.StatusBadRequest, "Bad Request",
			"Query validation error: 'Missing required property: email' on property email (Email address to search for (case-sensitive)).",
			"invalid_query_string")
		return
	}
	out := []map[string]any{}
	a.mu.Lock()
	if u := a.byEmail[email]; u != nil {
		out = append(out, auth0Fields(a.view(u), q))
	}
	a.mu.Unlock()
	fake.WriteJSON(w, http.StatusOK, out)
}

// listUsers answers one page of users (page from 0, per_page up to 100) as
// an array, without include_totals.
// https://auth0.com/docs/api/management/v2/users/get-users
func (a *auth0) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, err1 := auth0Int(q.Get("page"), 0)
	per, err2 := auth0Int(q.Get("per_page"), 50)
	if err1 != nil || err2 != nil || page < 0 || per < 0 || per > auth0MaxPerPage {
		auth0Fail(w, http.StatusBadRequest, "Bad Request", "Query validation error: page and per_page must be integers, per_page at most 100.", "invalid_query_string")
		return
	}
	out := []map[string]any{}
	a.mu.Lock()
	for _, id := range a.ids[min(page*per, len(a.ids)):min((page+1)*per, len(a.ids))] {
		out = append(out, auth0Fields(a.view(a.byID[id]), q))
	}
	a.mu.Unlock()
	fake.WriteJSON(w, http.StatusOK, out)
}

// deleteSessions ends every session of the user; Auth0 accepts with 202.
// https://auth0.com/docs/api/management/v2/users/delete-sessions-for-user
func (a *auth0) deleteSessions(w http.ResponseWriter, r *http.Request) {
	if a.withUser(w, r, func(u *auth0User) { u.sessions = nil }) {
		w.WriteHeader(http.StatusAccepted)
	}
}

// deleteRefreshTokens revokes every refresh token of the user; 202.
// https://auth0.com/docs/api/management/v2/users/delete-refresh-tokens-for-user
func (a *auth0) deleteRefreshTokens(w http.ResponseWriter, r *http.Request) {
	if a.withUser(w, r, func(u *auth0User) { u.tokens = nil }) {
		w.WriteHeader(http.StatusAccepted)
	}
}

// getSessions answers {"sessions": […], "next": "…"}; next is left out on
// the last page.
// https://auth0.com/docs/api/management/v2/users/get-sessions-for-user
func (a *auth0) getSessions(w http.ResponseWriter, r *http.Request) {
	var all []map[string]any
	ok := a.withUser(w, r, func(u *auth0User) {
		for _, s := range u.sessions {
			at := s.created.Format(auth0Time)
			all = append(all, map[string]any{"id": s.id, "user_id": u.id, "created_at": at, "updated_at": at,
				"authenticated_at": at, "last_interacted_at": at,
				"idle_expires_at": s.created.Add(72 * time.Hour).Format(auth0Time),
				"expires_at":      s.created.Add(30 * 24 * time.Hour).Format(auth0Time),
				"device": map[string]string{"initial_user_agent": "Mozilla/5.0 (simulated)", "initial_ip": "192.0.2.10",
					"initial_asn": "64496", "last_user_agent": "Mozilla/5.0 (simulated)", "last_ip": "192.0.2.10", "last_asn": "64496"},
				"clients":        []map[string]string{{"client_id": "sim-app"}},
				"authentication": map[string]any{"methods": []map[string]string{{"name": "pwd", "timestamp": at}}},
			})
		}
	})
	if ok {
		a.page(w, r, "sessions", all)
	}
}

// getRefreshTokens answers {"tokens": […], "next": "…"}.
// https://auth0.com/docs/api/management/v2/users/get-refresh-tokens-for-user
func (a *auth0) getRefreshTokens(w http.ResponseWriter, r *http.Request) {
	var all []map[string]any
	ok := a.withUser(w, r, func(u *auth0User) {
		for _, t := range u.tokens {
			at := t.created.Format(auth0Time)
			all = append(all, map[string]any{"id": t.id, "user_id": u.id, "created_at": at,
				"idle_expires_at": t.created.Add(15 * 24 * time.Hour).Format(auth0Time),
				"expires_at":      t.created.Add(30 * 24 * time.Hour).Format(auth0Time),
				"client_id":       "sim-app", "session_id": t.sessionID, "rotating": true,
				"resource_servers":  []map[string]string{{"audience": "https://api.example.com/", "scopes": "openid offline_access"}},
				"last_exchanged_at": at,
			})
		}
	})
	if ok {
		a.page(w, r, "tokens", all)
	}
}

// page answers one page of items under key: from is the opaque cursor of a
// previous answer's next, take the page size (default 50, at most 100).
func (a *auth0) page(w http.ResponseWriter, r *http.Request, key string, items []map[string]any) {
	q := r.URL.Query()
	take, err1 := auth0Int(q.Get("take"), auth0DefaultTake)
	from, err2 := auth0Int(q.Get("from"), 0)
	if err1 != nil || err2 != nil || take < 1 || take > auth0MaxTake || from < 0 {
		auth0Fail(w, http.StatusBadRequest, "Bad Request", "Query validation error: take must be 1 to 100 and from a cursor from next.", "invalid_query_string")
		return
	}
	start, end := min(from, len(items)), min(from+take, len(items))
	out := map[string]any{key: append([]map[string]any{}, items[start:end]...)}
	if end < len(items) {
		out["next"] = strconv.Itoa(end)
	}
	fake.WriteJSON(w, http.StatusOK, out)
}

// withUser runs f, under a.mu, on the user the path's id names; an unknown
// id is 404 inexistent_user, and f is not run.
func (a *auth0) withUser(w http.ResponseWriter, r *http.Request, f func(u *auth0User)) bool {
	a.mu.Lock()
	u := a.byID[r.PathValue("id")]
	if u != nil {
		f(u)
	}
	a.mu.Unlock()
	if u == nil {
		auth0Fail(w, http.StatusNotFound, "Not Found", "The user does not exist.", "inexistent_user")
	}
	return u != nil
}

// view renders u as Auth0's user object; a.mu must be held.
func (a *auth0) view(u *auth0User) map[string]any {
	at := u.created.Format(auth0Time)
	local, _, _ := strings.Cut(u.email, "@")
	return map[string]any{
		"user_id": u.id, "email": u.email, "email_verified": true, "name": u.email, "nickname": local,
		"created_at": at, "updated_at": at,
		"identities": []map[string]any{{"connection": "Username-Password-Authentication", "provider": "auth0",
			"user_id": strings.TrimPrefix(u.id, "auth0|"), "isSocial": false}},
	}
}

// auth0Fields keeps the keys that the fields parameter names (a comma-separated
// list), or drops them with include_fields=false.
func auth0Fields(v map[string]any, q url.Values) map[string]any {
	list := q.Get("fields")
	if list == "" {
		return v
	}
	names := strings.Split(list, ",")
	include := q.Get("include_fields") != "false"
	out := map[string]any{}
	for k, x := range v {
		if slices.Contains(names, k) == include {
			out[k] = x
		}
	}
	return out
}

// auth0Fail writes the Management API's error body.
func auth0Fail(w http.ResponseWriter, status int, errText, message, code string) {
	body := map[string]any{"statusCode": status, "error": errText, "message": message}
	if code != "" {
		body["errorCode"] = code
	}
	fake.WriteJSON(w, status, body)
}

// auth0Hex derives a stable hex id of n bytes from key.
func auth0Hex(key string, n int) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:n])
}

// auth0Int parses s, or answers def for "".
func auth0Int(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	return strconv.Atoi(s)
}
