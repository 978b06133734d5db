// Package scim is the simulator's SCIM 2.0 service provider, shaped as
// Lucid's SCIM API: the Users endpoints of RFC 7644 below Lucid's SCIM root
// /scim/v2, served under /lucid, so that a scim connector's base_url is
// http://host:port/lucid/scim/v2 (Lucid's own is
// https://users.lucid.app/scim/v2). Sources, each cited again where it
// decides:
//
//   - RFC 7643 (the User resource: userName, emails, active; §5 the service provider configuration): https://www.rfc-editor.org/rfc/rfc7643
//   - RFC 7644 (§3.4.2 query, filter and pagination, §3.5.2 PATCH, §3.12 error bodies): https://www.rfc-editor.org/rfc/rfc7644
//   - Lucid's SCIM API (base URL, bearer token, the User): https://developer.lucid.co/scim/
//   - Lucid's Get All Users (startIndex, count, filter with eq only, 400 for a bad filter, 401): https://developer.lucid.co/reference/getallusers
//   - Lucid's Modify User (PATCH; 403 "if the user does not exist"): https://lucid.readme.io/v1.0/reference/modifyuserpatch
//   - Lucid's error codes (Get User 404 when not found): https://community.lucid.co/admin-questions-2/scim-common-error-codes-with-troubleshooting-steps-6685
//
// Lucid documents no error body; the fake answers RFC 7644 §3.12's
// {"schemas":[…Error],"status":"400","scimType":"invalidFilter","detail":"…"}.
// Lucid documents no rate limit either: over the simulator's rate limit the
// fake answers 429 with Retry-After, as RFC 7644 §3.12 lists 429.
//
// SCIM has no sessions. What the simulator counts as a user's sessions here
// is whether they can still sign in: 1 while the account is active, 0 once
// it is deactivated (active=false). AddUser with a positive count makes
// the account active again; with 0 it makes it inactive.
package scim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

const (
	scimRoot     = "/scim/v2"
	mediaType    = "application/scim+json" // RFC 7644 §3.1
	errorSchema  = "urn:ietf:params:scim:api:messages:2.0:Error"
	listSchema   = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	patchSchema  = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	userSchema   = "urn:ietf:params:scim:schemas:core:2.0:User"
	firstLucidID = 1_000_001 // ids are "lucid-<n>", n of the same width
)

type lucid struct {
	config func() Config

	mu     sync.Mutex
	users  *fake.Directory[string, lucidUser]
	nextID int
}

// lucidUser is one account: its email is its userName and its one work
// email, as Lucid provisions them ("The user's username (usually their
// email)", https://developer.lucid.co/scim/).
type lucidUser struct {
	id, email         string
	active            bool
	created, modified time.Time
}

func (u *lucidUser) displayName() string {
	first, last := fake.Names(u.email)
	return first + " " + last
}

func newLucid(config func() Config) *lucid {
	l := &lucid{config: config, nextID: firstLucidID}
	l.users = fake.NewDirectory[string](&l.mu, func(u *lucidUser) int {
		if u.active {
			return 1
		}
		return 0
	})
	return l
}

func (l *lucid) Name() string { return "lucid" }

func (l *lucid) Register(route func(string, http.HandlerFunc)) {
	// RFC 7644 §3.4.2, https://developer.lucid.co/reference/getallusers
	route("GET "+scimRoot+"/Users", l.listUsers)
	// RFC 7644 §3.4.1
	route("GET "+scimRoot+"/Users/{id}", l.getUser)
	// RFC 7644 §3.5.2, https://lucid.readme.io/v1.0/reference/modifyuserpatch
	route("PATCH "+scimRoot+"/Users/{id}", l.patchUser)
	// RFC 7644 §4, RFC 7643 §5
	route("GET "+scimRoot+"/ServiceProviderConfig", l.serviceProviderConfig)
	route("/", func(w http.ResponseWriter, r *http.Request) {
		scimFail(w, http.StatusNotFound, "", "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
}

func (l *lucid) AddUser(email string, sessions int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now().UTC().Truncate(time.Second)
	u := l.users.Ensure(email, func() (string, *lucidUser) {
		id := fmt.Sprintf("lucid-%d", l.nextID)
		l.nextID++
		return id, &lucidUser{id: id, email: email, created: now}
	})
	u.active, u.modified = sessions > 0, now
}

// Sessions is 1 while the account is active and 0 once it is deactivated:
// SCIM has no sessions, and deactivation is what it can do.
func (l *lucid) Sessions(email string) int { return l.users.Sessions(email) }

func (l *lucid) Users() map[string]int { return l.users.Users() }

// Subject is the user the path's id names, or the one a users query's
// filter asks for by userName or email.
func (l *lucid) Subject(r *http.Request) string {
	email := ""
	if strings.HasSuffix(r.Pattern, "/Users") {
		if f, err := parseFilter(r.URL.Query().Get("filter")); err == nil {
			email = f.email()
		}
	}
	return l.users.Subject(r.PathValue("id"), email)
}

// Authorized wants "Authorization: Bearer <token>" with the configured
// SCIM token (https://developer.lucid.co/scim/, "Bearer Token Authorization").
func (l *lucid) Authorized(r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && fake.SameSecret(token, l.config().token())
}

// Fail answers a knob-made failure as an RFC 7644 §3.12 error: 401 for a
// bad token (Lucid: "Unauthorized. Occurs if bearer token is invalid"),
// 429 over the rate limit, 503 for a drawn failure.
func (l *lucid) Fail(w http.ResponseWriter, f fake.Failure) {
	switch f {
	case fake.Unauthorized:
		scimFail(w, http.StatusUnauthorized, "", "bearer token is invalid")
	case fake.RateLimited:
		scimFail(w, http.StatusTooManyRequests, "", "too many requests")
	default:
		scimFail(w, http.StatusServiceUnavailable, "", "service unavailable")
	}
}

// Quota sends Retry-After on a rate-limited answer: the simulator's windows
// last one second. Lucid documents no quota headers.
func (l *lucid) Quota(h http.Header, q fake.Quota) {
	if q.Exceeded {
		h.Set("Retry-After", "1")
	}
}

// writeSCIM answers v with SCIM's media type.
func writeSCIM(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", mediaType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// scimFail writes an RFC 7644 §3.12 error body: status as a string,
// scimType when there is one.
func scimFail(w http.ResponseWriter, status int, scimType, detail string) {
	body := map[string]any{"schemas": []string{errorSchema}, "status": fmt.Sprint(status), "detail": detail}
	if scimType != "" {
		body["scimType"] = scimType
	}
	writeSCIM(w, status, body)
}
