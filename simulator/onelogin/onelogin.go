// Package onelogin is the OneLogin fake of the simulator: Generate Tokens v2
// and the parts of the API that the onelogin connector calls, served under
// /onelogin, so that a connector's base_url (the account's API host) is
// http://host:port/onelogin. Sources, each cited again where it decides:
//
//   - Generate Tokens v2: https://developers.onelogin.com/api-docs/2/oauth20-tokens/generate-tokens-2
//   - List Users v2: https://developers.onelogin.com/api-docs/2/users/list-users
//   - Query parameters, wildcards, pagination: https://developers.onelogin.com/api-docs/2/getting-started/using-query-parameters
//   - Log User Out (v1) and its error bodies: https://developers.onelogin.com/api-docs/1/users/log-user-out
//   - Rate-limit headers: https://developers.onelogin.com/api-docs/2/oauth20-tokens/get-rate-limit
//   - The v2 error body: https://developers.onelogin.com/api-docs/2/apps/list-users
//
// Knob-made failures are answered in the v2 error shape on every route;
// the handlers' own errors on /api/1 routes use the v1 shape.
package onelogin

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

const (
	oneloginTokenLife = 10 * time.Hour // "an access token is valid for 10 hours"
	oneloginPageLimit = 50             // List Users "returns up to 50 users per page"
	oneloginAccountID = 555555
)

type onelogin struct {
	config func() Config
	now    func() time.Time // the simulator's clock, for the seconds left until a rate-limit reset

	mu     sync.Mutex
	users  *fake.Directory[int64, oneloginUser]
	tokens fake.Tokens // the access tokens the token endpoint issued
}

// oneloginUser is one OneLogin user with their OneLogin sessions.
type oneloginUser struct {
	id       int64
	email    string
	created  time.Time
	sessions int
}

func newOneLogin(config func() Config, now func() time.Time) *onelogin {
	o := &onelogin{config: config, now: now}
	o.users = fake.NewDirectory[int64](&o.mu, func(u *oneloginUser) int { return u.sessions })
	return o
}

func (o *onelogin) Name() string { return "onelogin" }

func (o *onelogin) Register(route func(string, http.HandlerFunc)) {
	// https://developers.onelogin.com/api-docs/2/oauth20-tokens/generate-tokens-2
	route("POST /auth/oauth2/v2/token", o.token)
	// https://developers.onelogin.com/api-docs/2/users/list-users
	route("GET /api/2/users", o.listUsers)
	// https://developers.onelogin.com/api-docs/1/users/log-user-out
	route("PUT /api/1/users/{id}/logout", o.logout)
	route("/", func(w http.ResponseWriter, r *http.Request) {
		oneloginFailV1(w, http.StatusNotFound, "not found", "No Route Exists")
	})
}

func (o *onelogin) AddUser(email string, sessions int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	u := o.users.Ensure(email, func() (int64, *oneloginUser) {
		sum := sha256.Sum256([]byte("onelogin:" + email))
		id := int64(10_000_000 + binary.BigEndian.Uint32(sum[:4])%90_000_000) // 8 digits, as OneLogin's ids are
		for o.users.ByID(id) != nil {
			id++
		}
		return id, &oneloginUser{id: id, email: email, created: time.Now().UTC().Truncate(time.Millisecond)}
	})
	u.sessions = sessions
}

func (o *onelogin) Sessions(email string) int { return o.users.Sessions(email) }

func (o *onelogin) Users() map[string]int { return o.users.Users() }

// Subject is the user the path's id names, or the one a users query asks
// for by email.
func (o *onelogin) Subject(r *http.Request) string {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64) // 0, no user's id, if it is none
	email := ""
	if strings.HasSuffix(r.Pattern, "/users") {
		email = strings.ToLower(r.URL.Query().Get("email"))
	}
	return o.users.Subject(id, email)
}

// Authorized lets every token request through (the endpoint checks the
// credential pair itself) and wants a live access token it issued on every
// other call, as "bearer <token>" (v2) or "bearer:<token>" (v1), in any
// case.
func (o *onelogin) Authorized(r *http.Request) bool {
	if strings.HasSuffix(r.Pattern, "/v2/token") {
		return true
	}
	h := r.Header.Get("Authorization")
	if len(h) < len("bearer ")+1 || !strings.EqualFold(h[:len("bearer")], "bearer") || (h[6] != ' ' && h[6] != ':') {
		return false
	}
	return o.tokens.Live(strings.TrimSpace(h[7:]))
}

// Fail answers a knob-made failure in the v2 error shape.
// https://developers.onelogin.com/api-docs/2/apps/list-users
func (o *onelogin) Fail(w http.ResponseWriter, f fake.Failure) {
	switch f {
	case fake.Unauthorized:
		oneloginFailV2(w, http.StatusUnauthorized, "UnauthorizedError", "Unauthorized")
	case fake.RateLimited:
		oneloginFailV2(w, http.StatusTooManyRequests, "TooManyRequestsError", "Too Many Requests")
	default:
		oneloginFailV2(w, http.StatusServiceUnavailable, "ServiceUnavailableError", "Service Unavailable")
	}
}

// Quota sets the rate-limit headers OneLogin sends with resource API
// answers; X-RateLimit-Reset is the remaining time in seconds before the
// limit resets, not an epoch.
// https://developers.onelogin.com/api-docs/2/oauth20-tokens/get-rate-limit
func (o *onelogin) Quota(h http.Header, q fake.Quota) {
	left := max(int64(math.Ceil(q.Reset.Sub(o.now()).Seconds())), 0)
	h.Set("X-RateLimit-Limit", strconv.Itoa(q.Limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(q.Remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(left, 10))
}

// listUsers answers one page of users as an array: email matches the whole
// address in any case, or a pattern with "*" wildcards; fields picks the
// attributes (id always comes); limit (at most 50) and page (from 1) page
// through them, with the pagination headers.
// https://developers.onelogin.com/api-docs/2/users/list-users
// https://developers.onelogin.com/api-docs/2/getting-started/using-query-parameters
func (o *onelogin) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err1 := oneloginInt(q.Get("limit"), oneloginPageLimit)
	page, err2 := oneloginInt(q.Get("page"), 1)
	if err1 != nil || err2 != nil || limit < 1 || page < 1 {
		oneloginFailV2(w, http.StatusUnprocessableEntity, "UnprocessableEntityError", "invalid value in \"limit\" or \"page\"")
		return
	}
	limit = min(limit, oneloginPageLimit)
	want := strings.ToLower(q.Get("email"))
	var fields []string
	if f := q.Get("fields"); f != "" {
		fields = strings.Split(f, ",")
	}
	var all []map[string]any
	o.mu.Lock()
	ids := o.users.IDs()
	if u := o.users.ByEmail(want); u != nil && !strings.Contains(want, "*") {
		ids = []int64{u.id} // an exact email matches one user: skip the scan
	}
	for _, id := range ids {
		u := o.users.ByID(id)
		if want != "" && !oneloginMatch(want, u.email) {
			continue
		}
		all = append(all, oneloginFields(o.view(u), fields))
	}
	o.mu.Unlock()
	start, end := min((page-1)*limit, len(all)), min(page*limit, len(all))
	pages := (len(all) + limit - 1) / limit
	h := w.Header()
	h.Set("Total-Count", strconv.Itoa(len(all)))
	h.Set("Total-Pages", strconv.Itoa(pages))
	h.Set("Current-Page", strconv.Itoa(page))
	h.Set("Page-Items", strconv.Itoa(end-start))
	fake.WriteJSON(w, http.StatusOK, append([]map[string]any{}, all[start:end]...))
}

// logout ends the user's OneLogin session: 200 with a success status. An
// id that is not an integer is 400, an unknown one 404, in the v1 shape.
// https://developers.onelogin.com/api-docs/1/users/log-user-out
func (o *onelogin) logout(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		fake.WriteJSON(w, http.StatusBadRequest, map[string]any{"status": map[string]any{"error": true, "code": http.StatusBadRequest,
			"type": "bad request", "message": map[string]string{"attribute": "id", "description": "ID is incorrect"}}})
		return
	}
	o.mu.Lock()
	u := o.users.ByID(id)
	if u != nil {
		u.sessions = 0
	}
	o.mu.Unlock()
	if u == nil {
		oneloginFailV1(w, http.StatusNotFound, "not found", "User not found")
		return
	}
	fake.WriteJSON(w, http.StatusOK, map[string]any{"status": map[string]any{"code": http.StatusOK, "error": false,
		"message": "Success", "type": "success"}})
}

// view renders u as OneLogin's user; o.mu must be held.
func (o *onelogin) view(u *oneloginUser) map[string]any {
	local, _, _ := strings.Cut(u.email, "@")
	at := u.created.Format("2006-01-02T15:04:05.000Z")
	return map[string]any{"id": u.id, "email": u.email, "username": local, "firstname": local, "lastname": "Simulated",
		"state": 1, "status": 1, "created_at": at, "updated_at": at, "activated_at": at, "last_login": nil,
		"invalid_login_attempts": 0, "locked_until": nil, "external_id": nil, "directory_id": nil}
}

// oneloginFields keeps id and the named attributes of v; none named keeps all.
func oneloginFields(v map[string]any, fields []string) map[string]any {
	if len(fields) == 0 {
		return v
	}
	out := map[string]any{"id": v["id"]}
	for _, f := range fields {
		if x, ok := v[strings.TrimSpace(f)]; ok {
			out[strings.TrimSpace(f)] = x
		}
	}
	return out
}

// oneloginFailV1 writes the v1 error body:
// {"status":{"error":true,"code":…,"type":…,"message":…}}.
func oneloginFailV1(w http.ResponseWriter, status int, typ, message string) {
	fake.WriteJSON(w, status, map[string]any{"status": map[string]any{"error": true, "code": status, "type": typ, "message": message}})
}

// oneloginFailV2 writes the v2 error body: {"message","statusCode","name"}.
func oneloginFailV2(w http.ResponseWriter, status int, name, message string) {
	fake.WriteJSON(w, status, map[string]any{"message": message, "statusCode": status, "name": name})
}

// oneloginMatch reports whether s is pattern, where each "*" in pattern
// stands for any run of characters and nothing else is special.
func oneloginMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

// oneloginInt parses s, or answers def for "".
func oneloginInt(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	return strconv.Atoi(s)
}
