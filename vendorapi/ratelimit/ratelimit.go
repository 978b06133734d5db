// Package ratelimit keeps a connector's calls under its rate_limit across
// every process that shares one Redis: each connector has one GCRA key
// (github.com/go-redis/redis_rate), so three workers together send no more
// than one would. A call waits for its turn within its context; when the
// turn cannot come before the caller's deadline it gives up early with a
// *vendorapi.TurnError that says how long to wait, and nothing is sent.
//
// In one process, at most one normal caller per connector asks Redis at a
// time; the others wait in line, first come first served, and a bounded
// number of them (Options.MaxWaiters): a caller beyond the line gives back
// at once with the estimated wait, so that one slow vendor's backlog cannot
// hold every worker while other vendors idle. A caller whose context says
// WithPriority (a security case) skips the line and is allowed one request
// more of burst than normal callers: it goes when normal callers have
// exactly used their allowance, and the long-run rate stays the limit.
package ratelimit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"golang.org/x/sync/semaphore"

	"github.com/offboarder/offboarder/vendorapi"
)

// Limit is a connector's rate_limit: at most Requests calls in any Per.
// The zero Limit means no limit.
type Limit struct {
	Requests int
	Per      time.Duration
}

// IsZero reports whether l is no limit.
func (l Limit) IsZero() bool { return l.Requests <= 0 || l.Per <= 0 }

// String is "600 per 1m0s", or "none".
func (l Limit) String() string {
	if l.IsZero() {
		return "none"
	}
	return fmt.Sprintf("%d per %s", l.Requests, l.Per)
}

// Defaults of Options.
const (
	// DefaultMaxWaiters is how many normal callers of one connector wait in
	// one process's line at most.
	DefaultMaxWaiters = 8
	// DefaultReserve is the part of a caller's deadline kept for the call
	// itself: a turn that comes later than the deadline less this is not
	// waited for.
	DefaultReserve = 10 * time.Second
	// KeyPrefix starts each connector's key (redis_rate adds its own
	// "rate:" before it).
	KeyPrefix = "offboarder:"
)

// Options are what every Limiter of a process shares.
type Options struct {
	Redis      redis.UniversalClient // required
	Logger     zerolog.Logger
	Metrics    *Metrics      // nil: none
	MaxWaiters int           // 0: DefaultMaxWaiters
	Reserve    time.Duration // 0: DefaultReserve
}

// Limiter is one connector's rate_limit in one process. It is safe for
// concurrent use.
type Limiter struct {
	name     string
	key      string
	limit    Limit
	normal   redis_rate.Limit // GCRA for normal callers
	priority redis_rate.Limit // the same rate, one more of burst
	interval time.Duration    // between two turns at the long-run rate
	rl       *redis_rate.Limiter
	o        Options

	line    *semaphore.Weighted // the one normal caller asking Redis; FIFO
	waiting atomic.Int64        // normal callers in line or asking
	warned  sync.Once           // Redis refused the script: logged once
}

// New returns the Limiter of the connector name under l, which must not be
// zero.
//
// GCRA lets a burst through at once and then one call per interval. A
// vendor counts calls in windows of its own, so the burst b is small (1 +
// Requests/100) and the rate is lowered by as much: b + (Requests - b + 1)
// is at most Requests + 1 calls in any Per, and the long-run rate is at
// least 99% of the limit.
func New(name string, l Limit, o Options) *Limiter {
	if o.MaxWaiters <= 0 {
		o.MaxWaiters = DefaultMaxWaiters
	}
	if o.Reserve <= 0 {
		o.Reserve = DefaultReserve
	}
	burst := 1 + l.Requests/100
	rate := l.Requests - burst + 1
	lim := &Limiter{
		name: name, key: KeyPrefix + name, limit: l, o: o,
		normal:   redis_rate.Limit{Rate: rate, Burst: burst, Period: l.Per},
		priority: redis_rate.Limit{Rate: rate, Burst: burst + 1, Period: l.Per},
		interval: l.Per / time.Duration(rate),
		rl:       redis_rate.NewLimiter(o.Redis),
		line:     semaphore.NewWeighted(1),
	}
	return lim
}

// Limit returns the limit l enforces.
func (l *Limiter) Limit() Limit { return l.limit }

type priorityKey struct{}

type callerKey struct{}

// caller is one caller's calls (a revoke's): whether one of them had a turn.
type caller struct{ started atomic.Bool }

// WithCaller marks ctx's calls as one caller's, a revoke's: once one of
// them has had a turn, the others wait in line however long it is, and
// are never given back for a full line — a revoke under way runs to its
// end instead of starting again later (its calls made again); the line's
// bound turns away only callers that have not started.
func WithCaller(ctx context.Context) context.Context {
	return context.WithValue(ctx, callerKey{}, &caller{})
}

// WithPriority marks ctx's calls as a priority caller's: they skip the
// line and may use one request more of burst.
func WithPriority(ctx context.Context) context.Context {
	return context.WithValue(ctx, priorityKey{}, true)
}

// Priority reports whether ctx was marked by WithPriority.
func Priority(ctx context.Context) bool { v, _ := ctx.Value(priorityKey{}).(bool); return v }

// Wait returns when the caller may send one request: nil. It returns
// ctx's error when ctx ends, and a *vendorapi.TurnError at once when the
// turn cannot come before ctx's deadline less Options.Reserve (or half the
// time left, when that is less) or the line
// is full (a turn that is free now is taken, however little time is left). When Redis cannot run the limit, the call goes (logged once).
func (l *Limiter) Wait(ctx context.Context) error {
	start := time.Now()
	deadline, hasDeadline := ctx.Deadline()
	if hasDeadline {
		// Keep Reserve for the call itself, or half of what is left when
		// that is less: a caller with a short deadline of its own (a
		// read-back of a few seconds) may still wait a little for its turn.
		deadline = deadline.Add(-min(l.o.Reserve, time.Until(deadline)/2))
	}
	limit := l.priority
	if !Priority(ctx) {
		limit = l.normal
		n := l.waiting.Add(1)
		defer l.waiting.Add(-1)
		if n > int64(l.o.MaxWaiters) && !started(ctx) {
			return l.giveBack(time.Duration(n) * l.interval)
		}
		if err := l.queue(ctx, deadline, hasDeadline); err != nil {
			return err
		}
		defer l.line.Release(1)
	}
	for {
		res, err := l.rl.Allow(ctx, l.key, limit)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			l.warned.Do(func() {
				l.o.Logger.Warn().Err(err).Str("connector", l.name).
					Msg("rate_limit not enforced: Redis cannot run the limit; calls go unlimited")
			})
			return nil
		}
		if res.Allowed > 0 {
			if c, ok := ctx.Value(callerKey{}).(*caller); ok {
				c.started.Store(true)
			}
			l.o.Metrics.observe(l.name, time.Since(start))
			return nil
		}
		// A little jitter, so that the processes' askers do not all ask
		// again at the same instant.
		sleep := res.RetryAfter + time.Duration(rand.Int64N(int64(min(l.interval/10, 20*time.Millisecond))+1))
		if hasDeadline && time.Now().Add(sleep).After(deadline) {
			return l.giveBack(res.RetryAfter)
		}
		t := time.NewTimer(sleep)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// started reports whether ctx's caller (WithCaller) has had a turn.
func started(ctx context.Context) bool {
	c, ok := ctx.Value(callerKey{}).(*caller)
	return ok && c.started.Load()
}

// queue waits in the line until the caller is the one asking Redis: at
// once when nobody is ahead, else until deadline (when hasDeadline).
func (l *Limiter) queue(ctx context.Context, deadline time.Time, hasDeadline bool) error {
	if l.line.TryAcquire(1) {
		return nil
	}
	lctx, cancel := ctx, context.CancelFunc(func() {})
	if hasDeadline {
		lctx, cancel = context.WithDeadline(ctx, deadline)
	}
	defer cancel()
	if err := l.line.Acquire(lctx, 1); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return l.giveBack(time.Duration(l.waiting.Load()) * l.interval)
	}
	return nil
}

// giveBack is the answer of a caller whose turn is about after away.
func (l *Limiter) giveBack(after time.Duration) error {
	return &vendorapi.TurnError{System: l.name, After: max(after, l.interval)}
}

// Client returns a copy of hc (nil: vendorapi.NewHTTPClient()) whose every
// request first waits for its turn (Wait); a request that gets none fails
// with Wait's error and is not sent.
func (l *Limiter) Client(hc *http.Client) *http.Client {
	if hc == nil {
		hc = vendorapi.NewHTTPClient()
	}
	own := *hc
	base := own.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	own.Transport = &transport{base: base, l: l}
	return &own
}

type transport struct {
	base http.RoundTripper
	l    *Limiter
}

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := t.l.Wait(r.Context()); err != nil {
		if r.Body != nil {
			_ = r.Body.Close() // a RoundTripper closes the body, also on error
		}
		return nil, err
	}
	return t.base.RoundTrip(r)
}
