// Package fake holds what every vendor fake of the simulator shares: the
// Vendor interface a fake implements, the Server that mounts fakes under
// their prefixes behind the per-call knobs (latency, rate limit, error rate,
// hold) and records every call, the failures and quotas the knobs hand a
// fake to answer in its vendor's own shape, the Directory a fake keeps its
// users in, and the small pieces of the wire that several vendors have in
// common (JSON and OAuth 2.0 answers, the OAuth 2.0 Client a token endpoint
// accepts, issued bearer tokens). What a vendor documents for itself — its
// ids, wire shapes, error bodies — stays in the vendor's package.
//
// Package simulator serves the fakes and the control API; each vendor's fake
// lives in its own package under simulator/ and imports this one. Like the
// simulator, it imports no other offboarder package.
package fake

import (
	"net/http"
	"time"
)

// Vendor is one vendor fake. The Server owns the knobs and the record; the
// vendor owns its users, routes, credentials check and answer shapes.
type Vendor interface {
	// Name is the URL prefix and the Call.Vendor value.
	Name() string
	// Register adds the vendor's routes: "METHOD /path" patterns (or a bare
	// "/" catch-all) relative to the vendor prefix.
	Register(route func(pattern string, h http.HandlerFunc))
	// AddUser creates the user (a lower-case email) with that many active
	// sessions and OAuth tokens; for an existing user it sets them again.
	AddUser(email string, sessions int)
	// Sessions returns the user's active sessions, or -1 if no such user.
	Sessions(email string) int
	// Users returns email → active sessions.
	Users() map[string]int
	// Subject returns the email of the user a routed call is about, or "".
	Subject(r *http.Request) string
	// Authorized reports whether the call carries the vendor's credentials.
	Authorized(r *http.Request) bool
	// Fail answers a knob-made failure in the vendor's error shape.
	Fail(w http.ResponseWriter, f Failure)
	// Quota sets the vendor's rate-limit headers.
	Quota(h http.Header, q Quota)
}

// Failure is a knob-made failure that a vendor answers in its own shape.
type Failure int

const (
	// Unauthorized: missing or wrong credentials.
	Unauthorized Failure = iota
	// RateLimited: Knobs.RateLimit exceeded.
	RateLimited
	// Unavailable: drawn by Knobs.ErrorRate.
	Unavailable
)

// Quota is the state of one vendor's rate limit after a call was counted:
// Limit calls per window, Remaining of them left, the window ending at
// Reset, and whether this call went over.
type Quota struct {
	Limit, Remaining int
	Reset            time.Time
	Exceeded         bool
}

// Knobs are the per-call knobs every vendor call passes. The zero value
// never slows or fails a call.
type Knobs struct {
	Latency   time.Duration // added to every vendor call
	ErrorRate float64       // 0..1: share of vendor calls answered 503 in the vendor's error shape
	RateLimit int           // vendor calls per second per vendor before 429s (0: unlimited), with the vendor's own rate-limit headers
	Seed      int64         // for the error-rate draw; 0: random
	// Limits are per-vendor limits by vendor name, in place of RateLimit
	// for that vendor: Requests calls per fixed window of Per (windows
	// start at multiples of Per since the Unix epoch, as a per-minute
	// vendor window starts at each minute), like the vendors' documented
	// limits. A vendor not in it has RateLimit.
	Limits map[string]Limit
}

// Limit is one vendor's rate limit: Requests calls per window of Per.
type Limit struct {
	Requests int
	Per      time.Duration
}

// Call is one vendor call as the simulator saw it. At is when it arrived;
// Path is the vendor's own path, without the simulator's vendor prefix
// (/api/v1/users, not /okta/api/v1/users); Query is the raw query string.
// Status is 0 while the call is still in flight (latency, a Hold) and 499
// when its caller went away before it was answered. User is the email of the
// user the call is about, when the simulator could tell.
type Call struct {
	At     time.Time `json:"at"`
	Vendor string    `json:"vendor"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
	Query  string    `json:"query"`
	Status int       `json:"status"`
	User   string    `json:"user"` // email if resolved
}
