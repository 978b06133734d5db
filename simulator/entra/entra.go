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
	"slices"
	"strconv"
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
	byUPN  map[string]*entraUser // lower-case userPrincipalName (= email)
	byID   map[string]*entraUser
	ids    []string    // every object id, sorted: the listing order
	tokens fake.Tokens // the access tokens the token endpoint issued
}

// entraUser is one member of the tenant; userPrincipalName and mail are the
// same address.
type entraUser struct {
	id, upn, givenName, surname string
	validFrom                   time.Time // signInSessionsValidFromDateTime
	sessions                    int
}

func newEntra(config func() Config) *entra {
	return &entra{config: config, byUPN: map[string]*entraUser{}, byID: map[string]*entraUser{}}
}

func (e *entra) Name() string { return "entra" }

func (e *entra) Register(route func(string, http.HandlerFunc)) {
	// https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow#get-a-token
	route("POST /{tenant}/oauth2/v2.0/token", e.token)
	// https://learn.microsoft.com/en-us/graph/api/user-list?view=graph-rest-1.0
	route("GET /v1.0/users", e.listUsers)
	// https://learn.microsoft.com/en-us/graph/api/user-get?view=graph-rest-1.0
	route("GET /v1.0/users/{id}", e.getUser)
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
	u := e.byUPN[email]
	if u == nil {
		first, last := fake.Names(email)
		u = &entraUser{id: entraID(email), upn: email, givenName: first, surname: last,
			validFrom: time.Now().UTC().Truncate(time.Second)}
		e.byUPN[email], e.byID[u.id] = u, u
		i, _ := slices.BinarySearch(e.ids, u.id)
		e.ids = slices.Insert(e.ids, i, u.id)
	}
	u.sessions = sessions
}

func (e *entra) Sessions(email string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if u := e.byUPN[email]; u != nil {
		return u.sessions
	}
	return -1
}

func (e *entra) Users() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int, len(e.byUPN))
	for upn, u := range e.byUPN {
		out[upn] = u.sessions
	}
	return out
}

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
			for _, id := range e.ids {
				if match(e.byID[id]) {
					found = append(found, e.byID[id])
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
	if strings.HasSuffix(r.Pattern, "/oauth2/v2.0/token") {
		return true
	}
	return e.tokens.Valid(r)
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

// token issues an access token for client credentials: grant_type
// client_credentials, client_id, client_secret (or HTTP Basic) and scope
// {resource}/.default, where the resource is Graph's
// (https://graph.microsoft.com) or this fake's (http://host:port/entra).
// Refusals are the identity platform's error body (error,
// error_description with an AADSTS code, error_codes, timestamp, trace_id,
// correlation_id): an unknown app is 400 unauthorized_client
// (AADSTS700016), a wrong secret 401 invalid_client (AADSTS7000215), a bad
// scope 400 invalid_scope (AADSTS70011).
// https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow
func (e *entra) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		entraTokenFail(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	p := r.PostForm
	id, secret := p.Get("client_id"), p.Get("client_secret")
	if bid, bsecret, ok := r.BasicAuth(); ok && id == "" {
		id, secret = bid, bsecret
	}
	o, tenant := e.config().withDefaults(), r.PathValue("tenant")
	switch {
	case p.Get("grant_type") != "client_credentials":
		entraTokenFail(w, http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '"+p.Get("grant_type")+"'.")
	case !fake.SameSecret(id, o.ClientID):
		entraTokenFail(w, http.StatusBadRequest, "unauthorized_client", 700016,
			"Application with identifier '"+id+"' was not found in the directory '"+tenant+"'.")
	case !fake.SameSecret(secret, o.ClientSecret):
		entraTokenFail(w, http.StatusUnauthorized, "invalid_client", 7000215,
			"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '"+id+"'.")
	case !slices.Contains([]string{entraGraphRoot + "/.default", fake.CallerURL(r, entraPrefix+"/.default")}, p.Get("scope")):
		entraTokenFail(w, http.StatusBadRequest, "invalid_scope", 70011,
			"The provided value for the input parameter 'scope' is not valid. The scope "+p.Get("scope")+" is not valid.")
	default:
		access := "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.sim-entra-" + fake.RandomHex(24)
		e.tokens.Issue(access, entraTokenLife)
		life := int(entraTokenLife.Seconds())
		fake.WriteJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": life, "ext_expires_in": life, "access_token": access})
	}
}

// getUser answers a user by object id or userPrincipalName (any case),
// with the default properties or those $select names; 404
// Request_ResourceNotFound if there is none.
// https://learn.microsoft.com/en-us/graph/api/user-get?view=graph-rest-1.0
func (e *entra) getUser(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("id")
	sel, msg := entraSelect(r.URL.Query().Get("$select"))
	if msg != "" {
		graphFail(w, r, http.StatusBadRequest, "Request_BadRequest", msg)
		return
	}
	e.mu.Lock()
	u := e.find(key)
	var view map[string]any
	if u != nil {
		view = e.view(u, sel)
	}
	e.mu.Unlock()
	if u == nil {
		graphNotFound(w, r, key)
		return
	}
	view["@odata.context"] = entraContext(r, sel, "/$entity")
	fake.WriteJSON(w, http.StatusOK, view)
}

// listUsers answers {"value": [...]} one page at a time ($top, default
// 100, at most 999), with @odata.nextLink while more are left. $filter
// takes eq on id, mail and userPrincipalName, joined with and / or; values
// are single-quoted, a quote inside written twice.
// https://learn.microsoft.com/en-us/graph/api/user-list?view=graph-rest-1.0
// https://learn.microsoft.com/en-us/graph/query-parameters#escaping-single-quotes
func (e *entra) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sel, msg := entraSelect(q.Get("$select"))
	if msg != "" {
		graphFail(w, r, http.StatusBadRequest, "Request_BadRequest", msg)
		return
	}
	top := entraPageSize
	if t := q.Get("$top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 || n > entraMaxTop {
			graphFail(w, r, http.StatusBadRequest, "Request_BadRequest", "Invalid page size specified: '"+t+"'. Must be between 1 and 999 inclusive.")
			return
		}
		top = n
	}
	match := func(*entraUser) bool { return true }
	if f := q.Get("$filter"); f != "" {
		m, code, msg := parseEntraFilter(f)
		if msg != "" {
			graphFail(w, r, http.StatusBadRequest, code, msg)
			return
		}
		match = m
	}
	skip := 0
	if s := q.Get("$skiptoken"); s != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(s, "sim"))
		if err != nil || n < 0 || !strings.HasPrefix(s, "sim") {
			graphFail(w, r, http.StatusBadRequest, "Request_BadRequest", "Invalid SkipToken value.")
			return
		}
		skip = n
	}
	page := []map[string]any{}
	next := -1
	e.mu.Lock()
	for i := skip; i < len(e.ids); i++ {
		u := e.byID[e.ids[i]]
		if !match(u) {
			continue
		}
		if len(page) == top {
			next = i
			break
		}
		page = append(page, e.view(u, sel))
	}
	e.mu.Unlock()
	body := map[string]any{"@odata.context": entraContext(r, sel, ""), "value": page}
	if next >= 0 {
		q.Set("$skiptoken", "sim"+strconv.Itoa(next))
		body["@odata.nextLink"] = fake.CallerURL(r, entraPrefix+"/v1.0/users") + "?" + q.Encode()
	}
	fake.WriteJSON(w, http.StatusOK, body)
}

// revoke sets the user's signInSessionsValidFromDateTime to now (whole
// seconds, as Graph shows it) and ends their sessions. Graph documents 200
// with {"value": true}; 404 Request_ResourceNotFound if there is no such
// user.
// https://learn.microsoft.com/en-us/graph/api/user-revokesigninsessions?view=graph-rest-1.0
func (e *entra) revoke(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("id")
	e.mu.Lock()
	u := e.find(key)
	if u != nil {
		u.validFrom, u.sessions = time.Now().UTC().Truncate(time.Second), 0
	}
	e.mu.Unlock()
	if u == nil {
		graphNotFound(w, r, key)
		return
	}
	fake.WriteJSON(w, http.StatusOK, map[string]any{"@odata.context": fake.CallerURL(r, entraPrefix+"/v1.0/$metadata#Edm.Boolean"), "value": true})
}

// find resolves an object id or a userPrincipalName; e.mu must be held.
func (e *entra) find(key string) *entraUser {
	if u := e.byID[strings.ToLower(key)]; u != nil {
		return u
	}
	return e.byUPN[strings.ToLower(key)]
}

// entraProp is one user property: its name, how it reads and whether Graph
// returns it without $select.
type entraProp struct {
	name   string
	value  func(u *entraUser) any
	byDflt bool
}

// entraProps are the user properties the fake keeps.
// https://learn.microsoft.com/en-us/graph/api/resources/user?view=graph-rest-1.0
var entraProps = []entraProp{
	{"businessPhones", func(*entraUser) any { return []string{} }, true},
	{"displayName", func(u *entraUser) any { return u.givenName + " " + u.surname }, true},
	{"givenName", func(u *entraUser) any { return u.givenName }, true},
	{"jobTitle", func(*entraUser) any { return nil }, true},
	{"mail", func(u *entraUser) any { return u.upn }, true},
	{"mobilePhone", func(*entraUser) any { return nil }, true},
	{"officeLocation", func(*entraUser) any { return nil }, true},
	{"preferredLanguage", func(*entraUser) any { return nil }, true},
	{"surname", func(u *entraUser) any { return u.surname }, true},
	{"userPrincipalName", func(u *entraUser) any { return u.upn }, true},
	{"id", func(u *entraUser) any { return u.id }, true},
	{"accountEnabled", func(*entraUser) any { return true }, false},
	// Returned only on $select.
	{"signInSessionsValidFromDateTime", func(u *entraUser) any { return u.validFrom.UTC().Format(entraDateFormat) }, false},
}

// entraSelect reads $select into property names (nil: the defaults), or
// says which property the user resource lacks.
func entraSelect(s string) ([]string, string) {
	if s == "" {
		return nil, ""
	}
	var names []string
	for n := range strings.SplitSeq(s, ",") {
		n = strings.TrimSpace(n)
		i := slices.IndexFunc(entraProps, func(p entraProp) bool { return strings.EqualFold(p.name, n) })
		if i < 0 {
			return nil, "Could not find a property named '" + n + "' on type 'Microsoft.DirectoryServices.User'."
		}
		names = append(names, entraProps[i].name)
	}
	return names, ""
}

// view renders u with the selected properties; e.mu must be held.
func (e *entra) view(u *entraUser, sel []string) map[string]any {
	v := map[string]any{}
	for _, p := range entraProps {
		if (sel == nil && p.byDflt) || slices.Contains(sel, p.name) {
			v[p.name] = p.value(u)
		}
	}
	return v
}

// entraContext is the @odata.context of a users answer.
func entraContext(r *http.Request, sel []string, suffix string) string {
	c := fake.CallerURL(r, entraPrefix+"/v1.0/$metadata#users")
	if sel != nil {
		c += "(" + strings.Join(sel, ",") + ")"
	}
	return c + suffix
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

// entraTokenFail writes the identity platform's token error body, its
// description carrying the AADSTS code, trace and correlation ids and time.
// https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow#error-response
func entraTokenFail(w http.ResponseWriter, status int, code string, aadsts int, description string) {
	now := time.Now().UTC().Format("2006-01-02 15:04:05Z")
	trace, corr := entraGUID(fake.RandomHex(16)), entraGUID(fake.RandomHex(16))
	fake.WriteJSON(w, status, map[string]any{
		"error":             code,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", aadsts, description, trace, corr, now),
		"error_codes":       []int{aadsts},
		"timestamp":         now,
		"trace_id":          trace,
		"correlation_id":    corr,
	})
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
