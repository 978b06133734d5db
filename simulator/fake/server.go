package fake

import (
	"context"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

const (
	// statusClientGone is recorded for a call whose caller went away (its
	// request context ended) before it was answered; nginx's 499.
	statusClientGone = 499

	// unlimitedQuota is the limit reported in rate-limit headers when
	// Knobs.RateLimit is 0, so that clients pacing on them never wait.
	unlimitedQuota = 1_000_000
)

// Server serves vendor fakes under their prefixes (/okta/...), each call
// behind the knobs, and keeps the call record. It is safe for concurrent
// use. Create it with NewServer.
type Server struct {
	mux     *http.ServeMux
	vendors []Vendor
	now     func() time.Time // the clock of rate-limit windows and the record

	mu      sync.Mutex
	knobs   Knobs
	rng     *rand.Rand
	calls   []*Call
	holds   map[string]chan struct{}
	waiting map[string]int // calls blocked by a Hold, per vendor
	windows map[string]window
}

// window counts one vendor's calls within one fixed window (a wall-clock
// second for Knobs.RateLimit; a multiple of Limit.Per for Knobs.Limits).
type window struct {
	start time.Time
	used  int
}

// NewServer returns a Server with the knobs k (applied as SetKnobs would)
// serving the vendors, in that order. now is the clock of rate-limit windows
// and the record; nil means time.Now.
func NewServer(k Knobs, now func() time.Time, vendors ...Vendor) *Server {
	if now == nil {
		now = time.Now
	}
	s := &Server{
		mux:     http.NewServeMux(),
		now:     now,
		holds:   map[string]chan struct{}{},
		waiting: map[string]int{},
		windows: map[string]window{},
	}
	s.SetKnobs(k)
	s.vendors = vendors
	for _, v := range vendors {
		s.mount(v)
	}
	return s
}

// Handler serves every vendor under its prefix, and what HandleFunc added.
func (s *Server) Handler() http.Handler { return s.mux }

// HandleFunc serves h at pattern beside the vendors, outside the knobs and
// the record (the simulator's control API).
func (s *Server) HandleFunc(pattern string, h http.HandlerFunc) { s.mux.HandleFunc(pattern, h) }

// Now is the time on the Server's clock.
func (s *Server) Now() time.Time { return s.now() }

// Vendors returns the vendors served, in order.
func (s *Server) Vendors() []Vendor { return slices.Clone(s.vendors) }

// Vendor returns the vendor of that name, or nil.
func (s *Server) Vendor(name string) Vendor {
	for _, v := range s.vendors {
		if v.Name() == name {
			return v
		}
	}
	return nil
}

// AddUser creates the user in every vendor with that many active sessions
// (and as many OAuth tokens where the vendor has them). Emails are
// case-insensitive and kept in lower case; a negative count counts as 0.
// Adding an existing user sets their sessions and tokens again and keeps
// their vendor ids.
func (s *Server) AddUser(email string, sessions int) {
	email = NormalEmail(email)
	for _, v := range s.vendors {
		v.AddUser(email, max(sessions, 0))
	}
}

// Sessions returns the active sessions the user has left in that vendor, or
// -1 if the vendor or the user is unknown.
func (s *Server) Sessions(vendor, email string) int {
	v := s.Vendor(vendor)
	if v == nil {
		return -1
	}
	return v.Sessions(NormalEmail(email))
}

// Calls returns a copy of the call record, in order of arrival.
func (s *Server) Calls() []Call {
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
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

// Knobs returns the knobs in force.
func (s *Server) Knobs() Knobs {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.knobs
}

// SetKnobs replaces the knobs and returns them as applied: out-of-range
// values are clamped (a negative Latency or RateLimit counts as 0, ErrorRate
// is kept within 0..1). Calls already past a knob keep the old value. The
// error-rate draw restarts only when Seed changes.
func (s *Server) SetKnobs(k Knobs) Knobs {
	k.Latency = max(k.Latency, 0)
	k.RateLimit = max(k.RateLimit, 0)
	k.ErrorRate = min(max(k.ErrorRate, 0), 1)
	limits := make(map[string]Limit, len(k.Limits))
	for v, l := range k.Limits {
		if l.Requests > 0 && l.Per > 0 {
			limits[v] = l
		}
	}
	k.Limits = limits
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rng == nil || k.Seed != s.knobs.Seed {
		seed := k.Seed
		if seed == 0 {
			seed = rand.Int64()
		}
		s.rng = rand.New(rand.NewPCG(uint64(seed), 0x0ffb0a4d))
	}
	s.knobs = k
	return k
}

// Hold makes mutating calls (any method but GET, HEAD and OPTIONS) to that
// vendor block, from now on, until release is called or the call's request
// context ends (then the call changes nothing and is recorded as 499). Holds
// on one vendor don't nest: the first release ends them all, and a release
// called again does nothing. A name that is no vendor holds nothing.
func (s *Server) Hold(vendor string) (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.holds[vendor]
	if !ok {
		ch = make(chan struct{})
		s.holds[vendor] = ch
	}
	return func() { s.release(vendor, ch) }
}

// Release ends the hold on vendor, if there is one.
func (s *Server) Release(vendor string) {
	s.mu.Lock()
	ch, held := s.holds[vendor]
	s.mu.Unlock()
	if held {
		s.release(vendor, ch)
	}
}

// release ends the hold ch on vendor if it is still the current one.
func (s *Server) release(vendor string, ch chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.holds[vendor]; ok && cur == ch {
		delete(s.holds, vendor)
		close(ch)
	}
}

// Blocked returns how many calls to vendor a Hold is blocking right now.
func (s *Server) Blocked(vendor string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiting[vendor]
}

// mount serves v's routes under "/"+v.Name(), each behind the knobs.
func (s *Server) mount(v Vendor) {
	prefix := "/" + v.Name()
	v.Register(func(pattern string, h http.HandlerFunc) {
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
func (s *Server) vendorHandler(v Vendor, prefix string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call := s.record(&Call{
			At:     s.now(),
			Vendor: v.Name(),
			Method: r.Method,
			Path:   strings.TrimPrefix(r.URL.Path, prefix),
			Query:  r.URL.RawQuery,
			User:   v.Subject(r),
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
func (s *Server) serve(v Vendor, h http.HandlerFunc, w http.ResponseWriter, r *http.Request) int {
	k := s.Knobs()
	ctx := r.Context()
	if !pause(ctx, k.Latency) {
		return statusClientGone
	}
	limit := Limit{Requests: k.RateLimit, Per: time.Second}
	if l, ok := k.Limits[v.Name()]; ok {
		limit = l
	}
	q := s.take(v.Name(), limit)
	v.Quota(w.Header(), q)
	switch {
	case q.Exceeded:
		v.Fail(w, RateLimited)
	case s.draw(k.ErrorRate):
		v.Fail(w, Unavailable)
	case !v.Authorized(r):
		v.Fail(w, Unauthorized)
	case mutating(r.Method) && !s.gate(ctx, v.Name()):
		return statusClientGone
	default:
		h(w, r)
	}
	return 0
}

func (s *Server) record(c *Call) *Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
	return c
}

// take counts one call against vendor's current window of limit.Per.
func (s *Server) take(vendor string, limit Limit) Quota {
	now := s.now()
	start := now.Truncate(limit.Per)
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.windows[vendor]
	if !w.start.Equal(start) {
		w = window{start: start}
	}
	w.used++
	s.windows[vendor] = w
	q := Quota{Limit: limit.Requests, Reset: start.Add(limit.Per), Exceeded: limit.Requests > 0 && w.used > limit.Requests}
	if limit.Requests == 0 {
		q.Limit = unlimitedQuota
	}
	q.Remaining = max(q.Limit-w.used, 0)
	return q
}

// draw reports whether this call is one of the ErrorRate share that fails.
func (s *Server) draw(rate float64) bool {
	if rate <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rng.Float64() < rate
}

// gate blocks while vendor is held; false means ctx ended first.
func (s *Server) gate(ctx context.Context, vendor string) bool {
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
