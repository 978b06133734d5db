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
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"math/rand/v2"
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
	oktaPrefix    = "/okta"
	oktaTime      = "2006-01-02T15:04:05.000Z" // Okta's timestamps: UTC, milliseconds
	oktaMaxLimit  = 200                        // listUsers: limit defaults to (and tops out at) 200…
	oktaQLimit    = 10                         // …and defaults to 10 with q
	oktaIDChars   = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	oktaErrIDText = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
)

type okta struct {
	config func() Config

	mu      sync.Mutex
	byID    map[string]*oktaUser
	ids     []string             // every id, sorted: the listing order
	byLogin map[string]*oktaUser // lower-case login
	grants  map[[32]byte]oktaGrant
	jtis    map[string]time.Time // client assertion ids seen → their expiry

	// DPoP (dpop.go): proof ids seen → when, and the nonces.
	proofs           map[string]time.Time
	nonce, prevNonce string
	nonceAt          time.Time
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
}

func newOkta(config func() Config) *okta {
	withDefaults := func() Config { return config().withDefaults() }
	return &okta{config: withDefaults, byID: map[string]*oktaUser{}, byLogin: map[string]*oktaUser{},
		grants: map[[32]byte]oktaGrant{}, jtis: map[string]time.Time{}, proofs: map[string]time.Time{}}
}

func (o *okta) Name() string { return "okta" }

func (o *okta) Register(route func(string, http.HandlerFunc)) {
	// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/#tag/User/operation/listUsers
	route("GET /api/v1/users", o.listUsers)
	// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/#tag/User/operation/getUser
	route("GET /api/v1/users/{id}", o.getUser)
	// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserSessions/#tag/UserSessions/operation/revokeUserSessions
	route("DELETE /api/v1/users/{id}/sessions", o.revokeSessions)
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
	u := o.byLogin[email]
	if u == nil {
		first, last := fake.Names(email)
		u = &oktaUser{id: oktaID("00u", email), login: email, firstName: first, lastName: last,
			created: time.Now().UTC().Truncate(time.Millisecond)}
		o.byID[u.id], o.byLogin[email] = u, u
		i, _ := slices.BinarySearch(o.ids, u.id)
		o.ids = slices.Insert(o.ids, i, u.id)
	}
	u.sessions, u.tokens = sessions, sessions
	u.loggedIn = u.loggedIn || sessions > 0
}

func (o *okta) Sessions(email string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	if u := o.byLogin[email]; u != nil {
		return u.sessions
	}
	return -1
}

func (o *okta) Users() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[string]int, len(o.byLogin))
	for login, u := range o.byLogin {
		out[login] = u.sessions
	}
	return out
}

// Subject resolves the user a call is about the way its route would: the
// path's id, or a list query that matches exactly one user.
func (o *okta) Subject(r *http.Request) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var u *oktaUser
	switch id := r.PathValue("id"); {
	case strings.HasSuffix(r.Pattern, "/sessions"):
		u = o.byID[id]
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
	got, want := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(o.config().Token))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1 && ok
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

// getUser finds a user by id, login or (unambiguous) login shortname.
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/#tag/User/operation/getUser
func (o *okta) getUser(w http.ResponseWriter, r *http.Request) {
	if !o.allowed(w, r, oktaReadScope) {
		return
	}
	id := r.PathValue("id")
	o.mu.Lock()
	u := o.find(id)
	var view oktaUserJSON
	if u != nil {
		view = o.view(u, oktaBase(r))
	}
	o.mu.Unlock()
	if u == nil {
		oktaFail(w, oktaNotFound(id))
		return
	}
	fake.WriteJSON(w, http.StatusOK, view)
}

// listUsers answers a JSON array (empty when nothing matches), one page at a
// time, with Link headers rel="self" and rel="next".
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/#tag/User/operation/listUsers
func (o *okta) listUsers(w http.ResponseWriter, r *http.Request) {
	if !o.allowed(w, r, oktaReadScope) {
		return
	}
	base := oktaBase(r)
	o.mu.Lock()
	page, next, err := o.list(r.URL.Query())
	views := make([]oktaUserJSON, len(page))
	for i, u := range page {
		views[i] = o.view(u, base)
	}
	o.mu.Unlock()
	if err != nil {
		oktaFail(w, err)
		return
	}
	self := base + "/api/v1/users"
	if r.URL.RawQuery != "" {
		self += "?" + r.URL.RawQuery
	}
	w.Header().Add("Link", "<"+self+`>; rel="self"`)
	if next != "" {
		q := r.URL.Query()
		q.Set("after", next)
		w.Header().Add("Link", "<"+base+"/api/v1/users?"+q.Encode()+`>; rel="next"`)
	}
	fake.WriteJSON(w, http.StatusOK, views)
}

// list applies a listUsers query; next is the after cursor of the next page,
// "" on the last. o.mu must be held.
func (o *okta) list(q url.Values) (page []*oktaUser, next string, err error) {
	search, filter, text := q.Get("search"), q.Get("filter"), q.Get("q")
	given := 0
	for _, p := range []string{search, filter, text} {
		if p != "" {
			given++
		}
	}
	if given > 1 {
		return nil, "", oktaErr(http.StatusBadRequest, "E0000033", "Bad request. Can't specify a search query and filter in the same request.")
	}
	limit := oktaMaxLimit
	if text != "" {
		limit = oktaQLimit
	}
	if l := q.Get("limit"); l != "" {
		n, convErr := strconv.Atoi(l)
		if convErr != nil || n < 1 {
			return nil, "", oktaErr(http.StatusBadRequest, "E0000001", "Api validation failed: limit", "limit: must be a positive integer")
		}
		limit = min(n, oktaMaxLimit)
	}
	match := func(*oktaUser) bool { return true }
	switch {
	case search != "" || filter != "":
		mode, expr := oktaSearch, search
		if filter != "" {
			mode, expr = oktaFilter, filter
		}
		e, parseErr := parseOktaExpr(expr, mode)
		if parseErr != nil {
			return nil, "", oktaErr(http.StatusBadRequest, "E0000031", "Bad request. Invalid filter parameter.", parseErr.Error())
		}
		match = e.match
	case text != "":
		// q: a startsWith match on firstName, lastName or email.
		t := strings.ToLower(text)
		match = func(u *oktaUser) bool {
			return slices.ContainsFunc([]string{u.firstName, u.lastName, u.login}, func(v string) bool {
				return strings.HasPrefix(strings.ToLower(v), t)
			})
		}
	}
	after := q.Get("after")
	start, found := slices.BinarySearch(o.ids, after)
	if found {
		start++
	}
	for _, id := range o.ids[start:] {
		if u := o.byID[id]; match(u) {
			if len(page) == limit {
				if text != "" { // q doesn't paginate
					break
				}
				return page, page[len(page)-1].id, nil
			}
			page = append(page, u)
		}
	}
	return page, "", nil
}

// revokeSessions ends every session of the user given by id (an id, not a
// login) and, with oauthTokens=true, their OAuth tokens; it answers 204 every
// time, also when nothing was left. oauthTokens defaults to false and
// forgetDevices to true; like Okta's Java stack, only "true" (any case) is
// true.
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserSessions/#tag/UserSessions/operation/revokeUserSessions
func (o *okta) revokeSessions(w http.ResponseWriter, r *http.Request) {
	if !o.allowed(w, r, oktaManageScope) {
		return
	}
	id := r.PathValue("id")
	oauthTokens := strings.EqualFold(r.URL.Query().Get("oauthTokens"), "true")
	o.mu.Lock()
	u := o.byID[id]
	if u != nil {
		u.sessions = 0
		if oauthTokens {
			u.tokens = 0
		}
	}
	o.mu.Unlock()
	if u == nil {
		oktaFail(w, oktaNotFound(id))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// find resolves an id, a login, or a login shortname that only one user has.
// o.mu must be held.
func (o *okta) find(key string) *oktaUser {
	if u := o.byID[key]; u != nil {
		return u
	}
	if u := o.byLogin[strings.ToLower(key)]; u != nil {
		return u
	}
	var found *oktaUser
	for login, u := range o.byLogin {
		if short, _, _ := strings.Cut(login, "@"); strings.EqualFold(short, key) {
			if found != nil {
				return nil
			}
			found = u
		}
	}
	return found
}

// oktaUserJSON is Okta's User object, as far as the simulator knows it.
type oktaUserJSON struct {
	ID              string              `json:"id"`
	Status          string              `json:"status"`
	Created         string              `json:"created"`
	Activated       string              `json:"activated"`
	StatusChanged   string              `json:"statusChanged"`
	LastLogin       *string             `json:"lastLogin"`
	LastUpdated     string              `json:"lastUpdated"`
	PasswordChanged *string             `json:"passwordChanged"`
	Type            oktaRef             `json:"type"`
	Profile         oktaProfile         `json:"profile"`
	Credentials     json.RawMessage     `json:"credentials"`
	Links           map[string]oktaLink `json:"_links"`
}

type oktaRef struct {
	ID string `json:"id"`
}

type oktaProfile struct {
	FirstName   string  `json:"firstName"`
	LastName    string  `json:"lastName"`
	MobilePhone *string `json:"mobilePhone"`
	SecondEmail *string `json:"secondEmail"`
	Login       string  `json:"login"`
	Email       string  `json:"email"`
}

type oktaLink struct {
	Href   string `json:"href"`
	Method string `json:"method,omitempty"`
}

// view renders u; o.mu must be held.
func (o *okta) view(u *oktaUser, base string) oktaUserJSON {
	at := u.created.Format(oktaTime)
	v := oktaUserJSON{
		ID: u.id, Status: "ACTIVE", Created: at, Activated: at, StatusChanged: at, LastUpdated: at,
		Type:        oktaRef{ID: oktaTypeID},
		Profile:     oktaProfile{FirstName: u.firstName, LastName: u.lastName, Login: u.login, Email: u.login},
		Credentials: json.RawMessage(`{"provider":{"type":"OKTA","name":"OKTA"}}`),
		Links: map[string]oktaLink{
			"self":       {Href: base + "/api/v1/users/" + u.id},
			"type":       {Href: base + "/api/v1/meta/types/user/" + oktaTypeID},
			"suspend":    {Href: base + "/api/v1/users/" + u.id + "/lifecycle/suspend", Method: http.MethodPost},
			"deactivate": {Href: base + "/api/v1/users/" + u.id + "/lifecycle/deactivate", Method: http.MethodPost},
		},
	}
	if u.loggedIn {
		v.LastLogin = &at
	}
	return v
}

// oktaError is Okta's Error object; it is also the Go error of a failed call.
// https://developer.okta.com/docs/reference/error-codes/
type oktaError struct {
	status       int
	ErrorCode    string      `json:"errorCode"`
	ErrorSummary string      `json:"errorSummary"`
	ErrorLink    string      `json:"errorLink"`
	ErrorID      string      `json:"errorId"`
	ErrorCauses  []oktaCause `json:"errorCauses"`
}

type oktaCause struct {
	ErrorSummary string `json:"errorSummary"`
}

func (e *oktaError) Error() string { return e.ErrorCode + ": " + e.ErrorSummary }

func oktaErr(status int, code, summary string, causes ...string) *oktaError {
	e := &oktaError{status: status, ErrorCode: code, ErrorSummary: summary, ErrorLink: code, ErrorCauses: []oktaCause{}}
	for _, c := range causes {
		e.ErrorCauses = append(e.ErrorCauses, oktaCause{ErrorSummary: c})
	}
	return e
}

func oktaNotFound(id string) *oktaError {
	return oktaErr(http.StatusNotFound, "E0000007", fmt.Sprintf("Not found: Resource not found: %s (User)", id))
}

// oktaFail writes err (an *oktaError) with a fresh errorId like Okta's
// ("oae" and 22 more characters).
func oktaFail(w http.ResponseWriter, err error) {
	e, ok := err.(*oktaError)
	if !ok {
		e = oktaErr(http.StatusInternalServerError, "E0000009", "Internal Server Error")
	}
	id := []byte("oae")
	for range 22 {
		id = append(id, oktaErrIDText[rand.IntN(len(oktaErrIDText))])
	}
	e.ErrorID = string(id)
	fake.WriteJSON(w, e.status, e)
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
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + oktaPrefix
}
