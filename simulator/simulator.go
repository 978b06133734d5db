// Package simulator serves faithful fakes of the SaaS vendor APIs that
// offboarder's connectors call — Okta, Entra (Graph), Google (Directory),
// Auth0, Keycloak and OneLogin, one file per vendor — for the demo (`offboarder simulate`), end-to-end tests, benchmarks
// and fault tests.
//
// Each vendor is served under its own prefix (/okta/..., /entra/...) and keeps per-user
// session state. Every vendor call passes the same knobs (latency, rate limit,
// error rate, hold) and is recorded. A JSON control API under /_sim/ lets the
// CLI and tests in other processes read the record and turn the knobs.
//
// The fakes are shaped from the vendors' own documentation, never from our
// connectors: this package imports no other offboarder package.
package simulator

import (
	"context"
	"crypto"
	"crypto/rsa"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

const (
	defaultOktaToken     = "sim-okta-token"
	defaultAuth0ClientID = "sim-auth0-client"
	defaultAuth0Secret   = "sim-auth0-secret"
	defaultOktaClientID  = "sim-okta-client"
	defaultEntraClientID = "sim-entra-client"
	defaultEntraSecret   = "sim-entra-secret"

	// statusClientGone is recorded for a call whose caller went away (its
	// request context ended) before it was answered; nginx's 499.
	statusClientGone = 499

	// unlimitedQuota is the limit reported in rate-limit headers when
	// Options.RateLimit is 0, so that clients pacing on them never wait.
	unlimitedQuota = 1_000_000
)

// Options configure a Simulator. The zero value is a fast simulator that
// never fails on its own.
type Options struct {
	Latency   time.Duration // added to every vendor call
	ErrorRate float64       // 0..1: share of vendor calls answered 503 in the vendor's error shape
	RateLimit int           // vendor calls per second per vendor before 429s (0: unlimited), with the vendor's own rate-limit headers
	Seed      int64         // for the error-rate draw; 0: random
	OktaToken string        // the SSWS token the Okta fake accepts; "" means "sim-okta-token"

	// GoogleKey is the public key of the service account whose signed
	// assertions the Google fake's token endpoint accepts; nil accepts none.
	GoogleKey *rsa.PublicKey
	// Auth0ClientID and Auth0ClientSecret are the client credentials the
	// Auth0 fake's token endpoint accepts; "" means "sim-auth0-client" and
	// "sim-auth0-secret".
	Auth0ClientID, Auth0ClientSecret string
	// OktaClientID and OktaPublicKey are the OAuth service app whose
	// private_key_jwt client assertions the Okta fake's token endpoint
	// accepts; OktaPublicKey is an *rsa.PublicKey or *ecdsa.PublicKey. ""
	// means "sim-okta-client"; a nil key accepts no assertion.
	OktaClientID  string
	OktaPublicKey crypto.PublicKey
	// OktaDPoP makes that service app require DPoP (RFC 9449), as Okta
	// does by default for new service apps: the token endpoint wants a
	// proof with its nonce and issues DPoP-bound tokens, and the API wants
	// a proof on every call that presents one (okta_dpop.go).
	OktaDPoP bool
	// EntraClientID and EntraClientSecret are the client credentials the
	// Entra fake's token endpoint accepts; "" means "sim-entra-client" and
	// "sim-entra-secret".
	EntraClientID, EntraClientSecret string
	// KeycloakRealm is the one realm the Keycloak fake serves, and
	// KeycloakClientID and KeycloakClientSecret the service-account client
	// its token endpoint accepts; "" means "demo", "sim-keycloak-client"
	// and "sim-keycloak-secret".
	KeycloakRealm, KeycloakClientID, KeycloakClientSecret string
	// OneLoginClientID and OneLoginClientSecret are the API credential pair
	// the OneLogin fake's token endpoint accepts; "" means
	// "sim-onelogin-client" and "sim-onelogin-secret".
	OneLoginClientID, OneLoginClientSecret string
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

// Simulator holds the users, knobs and call record of every vendor fake. It
// is safe for concurrent use. Create it with New.
type Simulator struct {
	mux     *http.ServeMux
	vendors []vendor
	now     func() time.Time // the clock of rate-limit windows and the record

	mu      sync.Mutex
	opts    Options
	rng     *rand.Rand
	calls   []*Call
	holds   map[string]chan struct{}
	waiting map[string]int // calls blocked by a Hold, per vendor
	windows map[string]window
}

// window counts one vendor's calls within one wall-clock second.
type window struct {
	second int64
	used   int
}

// quota is the state of one vendor's rate limit after a call was counted.
type quota struct {
	limit, remaining int
	reset            time.Time
	exceeded         bool
}

// failure is a knob-made failure that a vendor answers in its own shape.
type failure int

const (
	failUnauthorized failure = iota // missing or wrong credentials
	failRateLimited                 // Options.RateLimit exceeded
	failUnavailable                 // drawn by Options.ErrorRate
)

// vendor is one vendor fake. The simulator owns the knobs and the record;
// the vendor owns its users, routes, credentials check and answer shapes.
type vendor interface {
	name() string // the URL prefix and the Call.Vendor value
	// register adds the vendor's routes: "METHOD /path" patterns (or a bare
	// "/" catch-all) relative to the vendor prefix.
	register(route func(pattern string, h http.HandlerFunc))
	addUser(email string, sessions int) // sets sessions (and tokens) again for an existing user
	sessions(email string) int          // -1 if no such user
	users() map[string]int              // email → active sessions
	subject(r *http.Request) string     // email of the user a routed call is about, or ""
	authorized(r *http.Request, o Options) bool
	fail(w http.ResponseWriter, f failure)
	quota(h http.Header, q quota) // the vendor's rate-limit headers
}

// New returns a Simulator with no users, serving every vendor fake.
func New(opts Options) *Simulator {
	s := &Simulator{
		mux:     http.NewServeMux(),
		now:     time.Now,
		holds:   map[string]chan struct{}{},
		waiting: map[string]int{},
		windows: map[string]window{},
	}
	s.applyOptions(opts)
	s.vendors = []vendor{newOkta(s.options), newGoogle(s.options), newAuth0(s.options), newEntra(s.options), newKeycloak(s.options), newOneLogin(s.options, func() time.Time { return s.now() })}
	for _, v := range s.vendors {
		s.mount(v)
	}
	s.mountControl()
	return s
}

// Handler serves every vendor under its prefix (/okta/...) and the control
// API under /_sim/.
func (s *Simulator) Handler() http.Handler { return s.mux }

// AddUser creates the user in every vendor with that many active sessions
// (and as many OAuth tokens where the vendor has them). Emails are
// case-insensitive and kept in lower case; a negative count counts as 0.
// Adding an existing user sets their sessions and tokens again and keeps
// their vendor ids.
func (s *Simulator) AddUser(email string, sessions int) {
	email = normalEmail(email)
	for _, v := range s.vendors {
		v.addUser(email, max(sessions, 0))
	}
}

// Seed adds n users user0001@example.com… and the demo users
// alice@example.com, bob@example.com and carol@example.com, each with 2
// active sessions.
func (s *Simulator) Seed(n int) {
	for i := 1; i <= n; i++ {
		s.AddUser(seedEmail(i), 2)
	}
	for _, name := range []string{"alice", "bob", "carol"} {
		s.AddUser(name+"@example.com", 2)
	}
}

// Sessions returns the active sessions the user has left in that vendor, or
// -1 if the vendor or the user is unknown.
func (s *Simulator) Sessions(vendor, email string) int {
	v := s.vendor(vendor)
	if v == nil {
		return -1
	}
	return v.sessions(normalEmail(email))
}

// Calls returns a copy of the call record, in order of arrival.
func (s *Simulator) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	for i, c := range s.calls {
		out[i] = *c
	}
	return out
}

// Reset clears the call record; users, knobs and holds stay. Calls in flight
// when Reset is called are not recorded.
func (s *Simulator) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

// SetOptions replaces every option, the vendors' credentials included (an
// unset one falls back to its default; Tune changes some and keeps the
// rest). Calls already past a knob keep the old value. Out-of-range values
// are clamped (a negative Latency or RateLimit counts as 0, ErrorRate is
// kept within 0..1). The error-rate draw restarts only when Seed changes.
func (s *Simulator) SetOptions(o Options) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.applyOptions(o)
}

// Tune changes some options and keeps the others: change gets a copy of the
// current ones, and what it leaves is applied as SetOptions would.
func (s *Simulator) Tune(change func(o *Options)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.opts
	change(&o)
	s.applyOptions(o)
}

// Hold makes mutating calls (any method but GET, HEAD and OPTIONS) to that
// vendor block, from now on, until release is called or the call's request
// context ends (then the call changes nothing and is recorded as 499). Holds
// on one vendor don't nest: the first release ends them all, and a release
// called again does nothing. A name that is no vendor holds nothing.
func (s *Simulator) Hold(vendor string) (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.holds[vendor]
	if !ok {
		ch = make(chan struct{})
		s.holds[vendor] = ch
	}
	return func() { s.release(vendor, ch) }
}

// release ends the hold ch on vendor if it is still the current one.
func (s *Simulator) release(vendor string, ch chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.holds[vendor]; ok && cur == ch {
		delete(s.holds, vendor)
		close(ch)
	}
}

// applyOptions normalises o and makes it current; s.mu must be held (or s
// not yet shared).
func (s *Simulator) applyOptions(o Options) {
	o.Latency = max(o.Latency, 0)
	o.RateLimit = max(o.RateLimit, 0)
	o.ErrorRate = min(max(o.ErrorRate, 0), 1)
	if o.OktaToken == "" {
		o.OktaToken = defaultOktaToken
	}
	if o.Auth0ClientID == "" {
		o.Auth0ClientID = defaultAuth0ClientID
	}
	if o.Auth0ClientSecret == "" {
		o.Auth0ClientSecret = defaultAuth0Secret
	}
	if o.OktaClientID == "" {
		o.OktaClientID = defaultOktaClientID
	}
	if o.EntraClientID == "" {
		o.EntraClientID = defaultEntraClientID
	}
	if o.EntraClientSecret == "" {
		o.EntraClientSecret = defaultEntraSecret
	}
	if s.rng == nil || o.Seed != s.opts.Seed {
		seed := o.Seed
		if seed == 0 {
			seed = rand.Int64()
		}
		s.rng = rand.New(rand.NewPCG(uint64(seed), 0x0ffb0a4d))
	}
	s.opts = o
}

func (s *Simulator) options() Options {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opts
}

func (s *Simulator) vendor(name string) vendor {
	for _, v := range s.vendors {
		if v.name() == name {
			return v
		}
	}
	return nil
}

// mount serves v's routes under "/"+v.name(), each behind the knobs.
func (s *Simulator) mount(v vendor) {
	prefix := "/" + v.name()
	v.register(func(pattern string, h http.HandlerFunc) {
		method, path := "", pattern
		if i := strings.IndexByte(pattern, ' '); i >= 0 {
			method, path = pattern[:i+1], pattern[i+1:]
		}
		s.mux.Handle(method+prefix+path, s.vendorHandler(v, prefix, h))
	})
}

// vendorHandler records the call, then runs it through the knobs in the
// order a vendor edge would: latency, rate limit, error rate, credentials,
// hold (mutating calls only), and finally the vendor's own handler.
func (s *Simulator) vendorHandler(v vendor, prefix string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call := s.record(&Call{
			At:     s.now(),
			Vendor: v.name(),
			Method: r.Method,
			Path:   strings.TrimPrefix(r.URL.Path, prefix),
			Query:  r.URL.RawQuery,
			User:   v.subject(r),
		})
		rec := &recorder{ResponseWriter: w}
		rec.Header().Set("Content-Type", "application/json")
		status := s.serve(v, h, rec, r)
		if status == 0 {
			status = rec.code()
		}
		s.mu.Lock()
		call.Status = status
		s.mu.Unlock()
	})
}

// serve answers one vendor call; it returns statusClientGone when the caller
// went away unanswered, and 0 when the answer was written to w.
func (s *Simulator) serve(v vendor, h http.HandlerFunc, w http.ResponseWriter, r *http.Request) int {
	o := s.options()
	ctx := r.Context()
	if !pause(ctx, o.Latency) {
		return statusClientGone
	}
	q := s.take(v.name(), o.RateLimit)
	v.quota(w.Header(), q)
	switch {
	case q.exceeded:
		v.fail(w, failRateLimited)
	case s.draw(o.ErrorRate):
		v.fail(w, failUnavailable)
	case !v.authorized(r, o):
		v.fail(w, failUnauthorized)
	case mutating(r.Method) && !s.gate(ctx, v.name()):
		return statusClientGone
	default:
		h(w, r)
	}
	return 0
}

func (s *Simulator) record(c *Call) *Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
	return c
}

// take counts one call against vendor's current one-second window.
func (s *Simulator) take(vendor string, limit int) quota {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.windows[vendor]
	if w.second != now.Unix() {
		w = window{second: now.Unix()}
	}
	w.used++
	s.windows[vendor] = w
	q := quota{limit: limit, reset: time.Unix(w.second+1, 0), exceeded: limit > 0 && w.used > limit}
	if limit == 0 {
		q.limit = unlimitedQuota
	}
	q.remaining = max(q.limit-w.used, 0)
	return q
}

// draw reports whether this call is one of the ErrorRate share that fails.
func (s *Simulator) draw(rate float64) bool {
	if rate <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rng.Float64() < rate
}

// gate blocks while vendor is held; false means ctx ended first.
func (s *Simulator) gate(ctx context.Context, vendor string) bool {
	s.mu.Lock()
	ch, held := s.holds[vendor]
	if held {
		s.waiting[vendor]++
	}
	s.mu.Unlock()
	if !held {
		return true
	}
	defer func() {
		s.mu.Lock()
		s.waiting[vendor]--
		s.mu.Unlock()
	}()
	select {
	case <-ch:
		return true
	case <-ctx.Done():
		return false
	}
}

// blocked returns how many calls to vendor a Hold is blocking right now.
func (s *Simulator) blocked(vendor string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiting[vendor]
}

// pause waits d; false means ctx ended first.
func pause(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func mutating(method string) bool {
	return !slices.Contains([]string{http.MethodGet, http.MethodHead, http.MethodOptions}, method)
}

func normalEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

func seedEmail(i int) string { return fmt.Sprintf("user%04d@example.com", i) }

// recorder remembers the status code written through it.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// code is the status written, or 200 if the handler wrote nothing (net/http
// then answers 200).
func (r *recorder) code() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}
