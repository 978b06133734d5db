package worker

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/hibiken/asynq"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/vendorapi"
)

// DefaultMaxBackoff caps the exponential backoff between two attempts of a
// task (Options.MaxBackoff).
const DefaultMaxBackoff = 5 * time.Minute

// maxRetryAfterFloor bounds how long a vendor's Retry-After may hold one
// retry back; a longer wait is asked again at the next attempt.
const maxRetryAfterFloor = 15 * time.Minute

// RetryDelay is the asynq RetryDelayFunc with the default cap
// (DefaultMaxBackoff): see backoff.
func RetryDelay(n int, err error, _ *asynq.Task) time.Duration {
	return backoff(n, err, DefaultMaxBackoff)
}

// retryDelay is the worker's RetryDelayFunc: the delay a revoke chose and
// recorded as the entry's next attempt, or backoff with Options.MaxBackoff.
func (w *Worker) retryDelay(n int, err error, _ *asynq.Task) time.Duration {
	if s, ok := errors.AsType[*scheduled](err); ok {
		return s.after
	}
	return backoff(n, err, w.opts.MaxBackoff)
}

// backoff is the wait before retry n+1: exponential from 1s with equal
// jitter, capped at maxBackoff, and never shorter than the vendor's
// Retry-After (or reset header) — a floor under the backoff, never instead
// of it, so that a vendor answering "Retry-After: 1" through a long outage
// is not called every second.
func backoff(n int, err error, maxBackoff time.Duration) time.Duration {
	d := time.Second << min(n, 20) // 1s, 2s, 4s …
	d = min(d, maxBackoff)
	// Equal jitter: half fixed, half random, so retries of many cases spread out.
	d = d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
	if ra := vendorapi.RetryAfter(err); ra > 0 {
		d = max(d, min(ra, maxRetryAfterFloor)+time.Duration(rand.Int64N(int64(250*time.Millisecond))))
	}
	return d
}

// IsFailure tells asynq which errors consume a retry: a vendor's rate limit
// does not (the work is fine, the vendor asked us to wait), nor does a
// wait for a turn under the connector's rate_limit. A revoke is bounded by
// its retry window rather than by the count.
func IsFailure(err error) bool {
	var e *vendorapi.Error
	if errors.As(err, &e) && e.Kind == vendorapi.RateLimited {
		return false
	}
	if _, ok := vendorapi.Turn(err); ok {
		return false
	}
	return true
}

// turnDelay is the wait before a revoke that got no turn under its
// connector's rate_limit runs again: the estimated wait, plus up to a
// quarter of it (at most 5 s) of jitter so that the tasks given back
// together do not all come back at once.
func turnDelay(after time.Duration) time.Duration {
	return after + time.Duration(rand.Int64N(int64(min(after/4, 5*time.Second))+1))
}

// scheduled is a retryable error with the delay the revoke chose for its
// next attempt (and recorded on the entry), for retryDelay to return.
type scheduled struct {
	err   error
	after time.Duration
}

func (s *scheduled) Error() string { return s.err.Error() }
func (s *scheduled) Unwrap() error { return s.err }

// retryFor is a connector's retry window (Options.RetryFor).
func (w *Worker) retryFor(connector string) time.Duration {
	if d, ok := w.opts.RetryFor[connector]; ok && d > 0 {
		return d
	}
	return connectors.DefaultRetryFor
}

// windowSpent is the error a revoke fails with once its retry window is
// spent: the window, since when, and the vendor's last error.
func windowSpent(window time.Duration, since time.Time, err error) error {
	return fmt.Errorf("retry window of %s (retry_for) spent: retried since %s; last error: %w",
		window, since.UTC().Format(time.RFC3339), err)
}

// nextAttempt is when a retry chosen at now with delay d runs, and the
// delay to hand asynq for it: rounded up to a whole second, because asynq
// keeps retry times in whole Unix seconds (truncated), which would let a
// retry run up to a second early, inside the vendor's Retry-After.
func nextAttempt(now time.Time, d time.Duration) (time.Time, time.Duration) {
	next := now.Add(d)
	if r := next.Truncate(time.Second); !r.Equal(next) {
		next = r.Add(time.Second)
	}
	return next, next.Sub(now)
}
