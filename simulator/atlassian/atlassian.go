// Package atlassian is the simulator's Atlassian Cloud admin APIs, served
// under /atlassian as they hang from https://api.atlassian.com: the
// organizations API's organization read and user search, and the
// user-management API's API tokens, lifecycle (disable) and profile of a
// managed account, all behind an organization API key sent as a bearer
// token. Sources, each cited again where it decides:
//
//   - Organizations REST API, about (API key as "Authorization: Bearer", 429 over the rate limit, rate-limit headers): https://developer.atlassian.com/cloud/admin/organization/rest/intro/
//   - API Access REST API, about (X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset as an ISO 8601 UTC time): https://developer.atlassian.com/cloud/admin/api-access/rest/intro/
//   - Orgs (GET /admin/v1/orgs/{orgId}): https://developer.atlassian.com/cloud/admin/organization/rest/api-group-orgs/
//   - Users (POST /admin/v2/orgs/{orgId}/directories/{directoryId}/users/search; emails for an exact match, exclusive with searchTerm, 400 for both; "-" for every directory; the {"errors":[…]} body): https://developer.atlassian.com/cloud/admin/organization/rest/api-group-users/
//   - User management, about (managed accounts only; the same API key): https://developer.atlassian.com/cloud/admin/user-management/rest/intro/
//   - Api Tokens (GET and DELETE /users/{account_id}/manage/api-tokens…): https://developer.atlassian.com/cloud/admin/user-management/rest/api-group-api-tokens/
//   - Lifecycle (POST /users/{account_id}/manage/lifecycle/disable, an optional message, 204; errors [{"code","message","link"}]): https://developer.atlassian.com/cloud/admin/user-management/rest/api-group-lifecycle/
//   - Profile (GET /users/{account_id}/manage/profile, {"account":{…,"account_status"}}): https://developer.atlassian.com/cloud/admin/user-management/rest/api-group-profile/
//   - Jira Cloud rate limiting (a 429 carries Retry-After in seconds): https://developer.atlassian.com/cloud/jira/platform/rate-limiting
//
// The gateway's 401 is {"code":401,"message":"Unauthorized"}. The pages
// show no body for a 404 of the user-management API; the fake answers it
// in the {"key":…} shape of that API's documented 403s.
//
// Atlassian has no session API. What the simulator counts as a user's
// sessions here is their API tokens, the credential this API can end:
// AddUser gives a user that many tokens and makes the account active
// again; deleting a token takes one away. Disabling an account does not
// change the count (its tokens stay until deleted), but it reads back as
// inactive.
package atlassian

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

// directoryID is the one directory of the fake's organization; "-" names
// every directory the key may manage.
const directoryID = "sim-directory"

type atlassian struct {
	config func() Config
	now    func() time.Time

	mu        sync.Mutex
	users     *fake.Directory[string, atlUser]
	nextID    int
	nextToken int
}

// atlUser is one managed account of the organization.
type atlUser struct {
	id, email string
	status    string // account_status: active or inactive
	message   string // the block message of the last disable
	tokens    []apiToken
	created   time.Time
	disabled  time.Time // when the last disable came
}

// apiToken is one API token as the API tokens group shows it.
type apiToken struct {
	ID         string `json:"id"`
	Label      string `json:"label"`
	CreatedAt  string `json:"createdAt"`
	LastAccess string `json:"lastAccess"`
	Expiry     string `json:"expiry"`
}

func newAtlassian(config func() Config, now func() time.Time) *atlassian {
	a := &atlassian{config: config, now: now, nextID: 1}
	a.users = fake.NewDirectory[string](&a.mu, func(u *atlUser) int { return len(u.tokens) })
	return a
}

func (a *atlassian) Name() string { return "atlassian" }

func (a *atlassian) Register(route func(string, http.HandlerFunc)) {
	route("GET /admin/v1/orgs/{orgId}", a.getOrg)
	route("POST /admin/v2/orgs/{orgId}/directories/{directoryId}/users/search", a.searchUsers)
	route("GET /users/{account_id}/manage/api-tokens", a.listTokens)
	route("DELETE /users/{account_id}/manage/api-tokens/{tokenId}", a.deleteToken)
	route("POST /users/{account_id}/manage/lifecycle/disable", a.disable)
	route("GET /users/{account_id}/manage/profile", a.profile)
	route("/", func(w http.ResponseWriter, r *http.Request) {
		orgFail(w, http.StatusNotFound, "ADMIN-UAM-404-1", "Unknown Resource", "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
}

func (a *atlassian) AddUser(email string, sessions int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now().UTC().Truncate(time.Second)
	u := a.users.Ensure(email, func() (string, *atlUser) {
		id := fmt.Sprintf("712020:%08d-5a1e-4c0d-9f1e-0000000000aa", a.nextID)
		a.nextID++
		return id, &atlUser{id: id, email: email, created: now}
	})
	u.status, u.message, u.tokens = "active", "", nil
	for range max(sessions, 0) {
		a.nextToken++
		u.tokens = append(u.tokens, apiToken{
			ID: fmt.Sprintf("sim-token-%06d", a.nextToken), Label: fmt.Sprintf("script %d", a.nextToken),
			CreatedAt: now.Format(time.RFC3339), LastAccess: now.Format(time.RFC3339),
			Expiry: now.AddDate(1, 0, 0).Format(time.RFC3339),
		})
	}
}

// Sessions is the user's API tokens: Atlassian has no session API.
func (a *atlassian) Sessions(email string) int { return a.users.Sessions(email) }

func (a *atlassian) Users() map[string]int { return a.users.Users() }

// Subject is the user the path's account id names. The user search names
// its addresses in the body, which the record does not read.
func (a *atlassian) Subject(r *http.Request) string {
	return a.users.Subject(r.PathValue("account_id"), "")
}

// Authorized wants "Authorization: Bearer <organization API key>".
func (a *atlassian) Authorized(r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && fake.SameSecret(token, a.config().token())
}

// Fail answers a knob-made failure: the gateway's 401 body for a bad key,
// the organizations API's error body for a 429 or a 503.
func (a *atlassian) Fail(w http.ResponseWriter, f fake.Failure) {
	switch f {
	case fake.Unauthorized:
		fake.WriteJSON(w, http.StatusUnauthorized, map[string]any{"code": http.StatusUnauthorized, "message": "Unauthorized"})
	case fake.RateLimited:
		orgFail(w, http.StatusTooManyRequests, "ADMIN-429", "Too Many Requests", "rate limit exceeded")
	default:
		orgFail(w, http.StatusServiceUnavailable, "ADMIN-UAM-500-1", "Internal Error", "service unavailable")
	}
}

// Quota sends the documented rate-limit headers on every answer, the
// reset as an ISO 8601 UTC time, and Retry-After on a 429.
func (a *atlassian) Quota(h http.Header, q fake.Quota) {
	h.Set("X-RateLimit-Limit", fmt.Sprint(q.Limit))
	h.Set("X-RateLimit-Remaining", fmt.Sprint(q.Remaining))
	h.Set("X-RateLimit-Reset", q.Reset.UTC().Format(time.RFC3339))
	if q.Exceeded {
		h.Set("Retry-After", fmt.Sprint(max(1, int(q.Reset.Sub(a.now()).Round(time.Second).Seconds()))))
	}
}

// orgFail writes the organizations API's error body.
func orgFail(w http.ResponseWriter, status int, code, title, detail string) {
	fake.WriteJSON(w, status, map[string]any{"errors": []map[string]string{{
		"id": fake.RandomHex(8), "status": fmt.Sprint(status), "code": code, "title": title, "detail": detail,
	}}})
}

// keyFail writes the user-management API's {"key":…} error body.
func keyFail(w http.ResponseWriter, status int, key string) {
	fake.WriteJSON(w, status, map[string]string{"key": key})
}
