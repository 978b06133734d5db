// Package salesforce is the Salesforce fake of the simulator: one org's
// OAuth token endpoint (client credentials flow), token revocation, and the
// parts of the REST API the salesforce connector calls — SOQL queries of
// User, AuthSession and OauthToken with their batches, and deleting an
// AuthSession — served under /salesforce, so that a connector's base_url
// (the org's instance) is http://host:port/salesforce. Sources, each cited
// again where it decides:
//
//   - OAuth client credentials flow and its answer: https://developer.salesforce.com/docs/atlas.en-us.chatterapi.meta/chatterapi/quickstart_connecting.htm
//   - Revoking tokens: https://developer.salesforce.com/docs/atlas.en-us.mobile_sdk.meta/mobile_sdk/oauth_revoking_tokens.htm
//   - Query and its batches: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm
//   - Deleting a record: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_delete_record.htm
//   - AuthSession: https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_authsession.htm
//   - OauthToken: https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_objects_oauthtoken.htm
//   - Status codes and the error array: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm
//   - API usage header: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_api_usage.htm
//
// The JWT bearer flow is not served: the fake's token endpoint takes the
// client credentials flow only.
package salesforce

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

// Config is the connected app the token endpoint accepts; it is read again
// on every call. "" means DefaultClientID and DefaultClientSecret.
type Config struct {
	ClientID, ClientSecret string
}

// The connected app's credentials when Config leaves them empty.
const (
	DefaultClientID     = "sim-salesforce-client"
	DefaultClientSecret = "sim-salesforce-secret"
)

const (
	tokenLife   = 2 * time.Hour // the org-wide session timeout's default
	orgID       = "00DSIM000000001"
	maxVersion  = 66 // v66.0, Spring '26
	minVersion  = 20
	dailyLimit  = 15000 // the api-usage allocation the fake reports
	userPrefix  = "005"
	sessPrefix  = "0Ak"
	queryPrefix = "01g"
)

type salesforce struct {
	config func() Config
	now    func() time.Time

	mu      sync.Mutex
	users   *fake.Directory[string, sfUser]
	tokens  fake.Tokens                 // access tokens the token endpoint issued
	cursors map[string][]map[string]any // query locator → records not yet answered
	serial  int
	used    int // API calls counted for the api-usage header
}

// sfUser is one user with their sessions (AuthSession ids) and the OAuth
// tokens connected apps hold for them.
type sfUser struct {
	id, email string
	sessions  []string
	tokens    []sfToken
}

type sfToken struct{ app, deleteToken string }

// New returns the Salesforce fake with no users; config gives its connected
// app, now its clock.
func New(config func() Config, now func() time.Time) fake.Vendor {
	v := &salesforce{config: config, now: now, cursors: map[string][]map[string]any{}}
	v.users = fake.NewDirectory[string](&v.mu, func(u *sfUser) int { return len(u.sessions) + len(u.tokens) })
	return v
}

func (v *salesforce) Name() string { return "salesforce" }

func (v *salesforce) Register(route func(string, http.HandlerFunc)) {
	route("POST /services/oauth2/token", v.token)
	route("POST /services/oauth2/revoke", v.revoke)
	route("GET /services/oauth2/revoke", v.revoke)
	route("GET /services/data/{version}/query", v.query)
	route("GET /services/data/{version}/query/{locator}", v.more)
	route("DELETE /services/data/{version}/sobjects/{object}/{id}", v.delete)
	route("/", func(w http.ResponseWriter, _ *http.Request) {
		fail(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	})
}

// AddUser creates the user (username and email the address) with that many
// sessions and as many OAuth tokens, or sets them again.
func (v *salesforce) AddUser(email string, sessions int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	u := v.users.Ensure(email, func() (string, *sfUser) {
		u := &sfUser{id: sfID(userPrefix, "user:"+email), email: email}
		return u.id, u
	})
	u.sessions, u.tokens = nil, nil
	for range max(sessions, 0) {
		v.serial++
		u.sessions = append(u.sessions, sfID(sessPrefix, fmt.Sprintf("session:%s:%d", u.id, v.serial)))
		u.tokens = append(u.tokens, sfToken{app: "Salesforce for iOS", deleteToken: "DT" + fake.RandomHex(20)})
	}
}

// Sessions counts the user's sessions and OAuth tokens together: both are
// what a leaver keeps access with.
func (v *salesforce) Sessions(email string) int { return v.users.Sessions(email) }

func (v *salesforce) Users() map[string]int { return v.users.Users() }

// Subject is the user a query names (by username or email, or by user id),
// or the owner of the AuthSession a delete names.
func (v *salesforce) Subject(r *http.Request) string {
	if id := r.PathValue("id"); id != "" {
		v.mu.Lock()
		owner := ""
		for _, uid := range v.users.IDs() {
			for _, s := range v.users.ByID(uid).sessions {
				if s == id {
					owner = uid
				}
			}
		}
		v.mu.Unlock()
		return v.users.Subject(owner, "")
	}
	q, err := parse(r.URL.Query().Get("q"))
	if err != nil || len(q.conds) == 0 {
		return ""
	}
	val := q.conds[0].value
	return v.users.Subject(val, fake.NormalEmail(val))
}

// Authorized lets the token and revoke endpoints through (they check what
// they are given) and wants a live access token everywhere else.
func (v *salesforce) Authorized(r *http.Request) bool {
	return strings.HasSuffix(r.Pattern, "/revoke") || v.tokens.Authorized(r, "/token")
}

// Fail answers a knob-made failure in the REST API's error array [status
// codes]: 401 INVALID_SESSION_ID; the org's API request limit, 403
// REQUEST_LIMIT_EXCEEDED (Salesforce sends no Retry-After); 503 for a
// server that is down.
func (v *salesforce) Fail(w http.ResponseWriter, f fake.Failure) {
	switch f {
	case fake.Unauthorized:
		fail(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
	case fake.RateLimited:
		fail(w, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
	default:
		fail(w, http.StatusServiceUnavailable, "SERVER_UNAVAILABLE", "Server is temporarily unavailable. Please try again later.")
	}
}

// Quota sends Sforce-Limit-Info: api-usage=used/allocation on every answer
// [api usage header].
func (v *salesforce) Quota(h http.Header, q fake.Quota) {
	v.mu.Lock()
	v.used++
	used := v.used
	v.mu.Unlock()
	limit := dailyLimit
	if q.Limit > 0 {
		used, limit = q.Limit-q.Remaining, q.Limit
	}
	h.Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", used, limit))
}

// fail writes the REST API's error array.
func fail(w http.ResponseWriter, status int, code, msg string) {
	fake.WriteJSON(w, status, []map[string]string{{"message": msg, "errorCode": code}})
}

// sfID derives a stable 18-character record id with the object's key
// prefix from key.
func sfID(prefix, key string) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	sum := sha256.Sum256([]byte(key))
	b := []byte(prefix)
	for _, c := range sum[:15] {
		b = append(b, alphabet[int(c)%len(alphabet)])
	}
	return string(b)
}

// credentials are the connected app's, defaults filled in.
func (v *salesforce) credentials() fake.Client {
	c := v.config()
	return fake.Client{ID: c.ClientID, Secret: c.ClientSecret}.Or(fake.Client{ID: DefaultClientID, Secret: DefaultClientSecret})
}
