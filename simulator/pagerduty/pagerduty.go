// Package pagerduty is the PagerDuty fake of the simulator: one account's
// users and their OAuth delegations (the web app's sessions, the mobile
// app's, and integrations'), served under /pagerduty, so that a
// connector's base_url (https://api.pagerduty.com on PagerDuty) is
// http://host:port/pagerduty. Sources, each cited again where it decides:
//
//   - The REST API's OpenAPI description (every route, parameter, answer and
//     error body below): https://github.com/PagerDuty/api-schema/blob/main/reference/REST/openapiv3.json
//   - Delete all OAuth delegations (synchronous; web and mobile):
//     https://developer.pagerduty.com/api-reference/ad1161db75db1-delete-all-o-auth-delegations
//   - List a user's delegations (status, delegation_type, cursor):
//     https://developer.pagerduty.com/api-reference/fc03ba9dffd1f-list-user-o-auth-delegations
//   - Authentication (Authorization: Token token=…): https://developer.pagerduty.com/docs/authentication
//   - Errors ({"error":{"message","code","errors"}}): https://developer.pagerduty.com/docs/errors
//   - Rate limits (429 with ratelimit-limit, ratelimit-remaining and
//     ratelimit-reset in seconds): https://support.pagerduty.com/docs/rest-api-rate-limits
//
// Every simulated person is a user with as many web and mobile delegations
// as they have sessions (in turn) and, when they have any, one
// integration delegation (the Slack app), which DELETE /oauth_delegations
// does not take. Sessions counts the web and mobile delegations still
// issued.
package pagerduty

import (
	"cmp"
	"crypto/sha256"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

// Config is the API key the PagerDuty fake accepts; it is read again on
// every call. "" means "sim-pagerduty-token".
type Config struct {
	Token string
}

// DefaultToken is the API key the fake accepts when Config.Token is "".
const DefaultToken = "sim-pagerduty-token"

func (c Config) token() string { return cmp.Or(c.Token, DefaultToken) }

// New returns the PagerDuty fake with no users; config gives its API key,
// and now is the simulator's clock (for the seconds to a rate-limit reset).
func New(config func() Config, now func() time.Time) fake.Vendor {
	return newPagerDuty(config, now)
}

type pagerduty struct {
	config func() Config
	now    func() time.Time

	mu    sync.Mutex
	users *fake.Directory[string, user]
	seq   int // delegations made so far, for their ids
}

type user struct {
	id, email   string
	delegations []delegation
}

// delegation is one OAuth delegation of a user.
type delegation struct {
	id, kind, client, scope string
	created                 time.Time
	revoked                 bool
}

func (u *user) signedIn() int {
	n := 0
	for _, d := range u.delegations {
		if !d.revoked && d.kind != "integration" {
			n++
		}
	}
	return n
}

func newPagerDuty(config func() Config, now func() time.Time) *pagerduty {
	p := &pagerduty{config: config, now: now}
	p.users = fake.NewDirectory[string](&p.mu, (*user).signedIn)
	return p
}

func (p *pagerduty) Name() string { return "pagerduty" }

func (p *pagerduty) Register(route func(string, http.HandlerFunc)) {
	// https://developer.pagerduty.com/api-reference/c96e889522dd6-list-users
	route("GET /users", p.listUsers)
	// https://developer.pagerduty.com/api-reference/ad1161db75db1-delete-all-o-auth-delegations
	route("DELETE /oauth_delegations", p.deleteDelegations)
	// https://developer.pagerduty.com/api-reference/fc03ba9dffd1f-list-user-o-auth-delegations
	route("GET /users/{id}/oauth_delegations", p.listDelegations)
	route("/", func(w http.ResponseWriter, r *http.Request) {
		pagerdutyFail(w, http.StatusNotFound, "Not Found", 2100)
	})
}

// AddUser makes the user with sessions web and mobile delegations (in
// turn) and, with any, one integration delegation, replacing those they
// had; their id is kept.
func (p *pagerduty) AddUser(email string, sessions int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.users.Ensure(email, func() (string, *user) {
		id := p.freeID(email)
		return id, &user{id: id, email: email}
	})
	now := time.Now().UTC().Truncate(time.Second)
	u.delegations = nil
	for i := range max(sessions, 0) {
		kind, client, scope := "web", "PagerDutyLogin", "openid profile"
		if i%2 == 1 {
			kind, client, scope = "mobile", "PagerDutyMobile", "openid profile offline_access"
		}
		u.delegations = append(u.delegations, p.delegation(kind, client, scope, now))
	}
	if sessions > 0 {
		u.delegations = append(u.delegations, p.delegation("integration", "PagerDutySlackApp", "read write", now))
	}
}

// delegation makes a fresh delegation; p.mu must be held.
func (p *pagerduty) delegation(kind, client, scope string, now time.Time) delegation {
	p.seq++
	sum := sha256.Sum256([]byte("delegation:" + strconv.Itoa(p.seq)))
	const hex = "0123456789abcdef"
	id := make([]byte, 0, 36)
	for i, b := range sum[:16] {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			id = append(id, '-')
		}
		id = append(id, hex[b>>4], hex[b&15])
	}
	return delegation{id: string(id), kind: kind, client: client, scope: scope, created: now}
}

// freeID derives a PagerDuty-style id ("P" and six capitals or digits)
// from email, one not in use; p.mu must be held.
func (p *pagerduty) freeID(email string) string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	for n := 0; ; n++ {
		sum := sha256.Sum256([]byte("user:" + email + ":" + strconv.Itoa(n)))
		id := []byte{'P'}
		for _, b := range sum[:6] {
			id = append(id, chars[int(b)%len(chars)])
		}
		if p.users.ByID(string(id)) == nil {
			return string(id)
		}
	}
}

// Sessions counts the user's web and mobile delegations still issued.
func (p *pagerduty) Sessions(email string) int { return p.users.Sessions(email) }

func (p *pagerduty) Users() map[string]int { return p.users.Users() }

// Subject is the user a path's id or a deletion's user_id names.
func (p *pagerduty) Subject(r *http.Request) string {
	return p.users.Subject(cmp.Or(r.PathValue("id"), r.URL.Query().Get("user_id")), "")
}

// Authorized wants "Authorization: Token token=<key>".
// https://developer.pagerduty.com/docs/authentication
func (p *pagerduty) Authorized(r *http.Request) bool {
	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Token token=")
	return ok && fake.SameSecret(key, p.config().token())
}

// Fail answers a knob-made failure in PagerDuty's error body: 401, the
// rate limit's 429, and a 500.
// https://developer.pagerduty.com/docs/errors
func (p *pagerduty) Fail(w http.ResponseWriter, f fake.Failure) {
	switch f {
	case fake.Unauthorized:
		pagerdutyFail(w, http.StatusUnauthorized, "Unauthorized", 2006)
	case fake.RateLimited:
		pagerdutyFail(w, http.StatusTooManyRequests, "Rate Limit Exceeded", 2020)
	default:
		pagerdutyFail(w, http.StatusInternalServerError, "Internal Server Error", 0)
	}
}

// Quota sets PagerDuty's rate-limit headers: ratelimit-reset is the
// seconds until the window resets.
// https://support.pagerduty.com/docs/rest-api-rate-limits
func (p *pagerduty) Quota(h http.Header, q fake.Quota) {
	h.Set("ratelimit-limit", strconv.Itoa(q.Limit))
	h.Set("ratelimit-remaining", strconv.Itoa(q.Remaining))
	secs := int(q.Reset.Sub(p.now()).Round(time.Second) / time.Second)
	h.Set("ratelimit-reset", strconv.Itoa(max(secs, 1)))
}

// pagerdutyFail writes PagerDuty's error body; a code of 0 is left out,
// and details, if any, go in errors.
func pagerdutyFail(w http.ResponseWriter, status int, msg string, code int, details ...string) {
	e := map[string]any{"message": msg}
	if code != 0 {
		e["code"] = code
	}
	if len(details) > 0 {
		e["errors"] = details
	}
	fake.WriteJSON(w, status, map[string]any{"error": e})
}
