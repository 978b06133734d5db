package vendorapi

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies an error once, in the shared HTTP layer.
type Kind int

// Error kinds. Transient and RateLimited are retryable; the rest are permanent.
const (
	Transient   Kind = iota + 1 // network error, 408, 5xx
	RateLimited                 // 429 or a vendor's own rate-limit answer
	Auth                        // 401, 403: credentials or scopes; a person must act
	Invalid                     // other 4xx: the request or the config is wrong
	NotFound                    // 404 where it is not an answer in itself
)

// String returns the kind's snake_case name, as logs and the store use it.
func (k Kind) String() string {
	switch k {
	case Transient:
		return "transient"
	case RateLimited:
		return "rate_limited"
	case Auth:
		return "auth"
	case Invalid:
		return "invalid"
	case NotFound:
		return "not_found"
	}
	return "unknown"
}

// Error is the one typed error of every vendor call. Its text never holds a
// token, a secret or a secret-bearing URL.
type Error struct {
	System     string        // the configured connector or source it happened in
	Kind       Kind          // classification
	Status     int           // HTTP status, 0 for network errors
	RetryAfter time.Duration // from Retry-After or a vendor reset header; 0 if none
	Msg        string        // what happened, for a person
	Err        error         // the cause, if any
}

// Error returns "<system>: <msg> (status N): <cause>", leaving out the
// parts that are empty.
func (e *Error) Error() string {
	s := e.System + ": " + e.Msg
	if e.Status != 0 {
		s += fmt.Sprintf(" (status %d)", e.Status)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause, so that errors.Is finds e.g. context.Canceled.
func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether err is worth another attempt: network errors, 408,
// 429 and 5xx are; 401/403 and other 4xx are not. An error that is not an
// *Error (a bug, a context cancellation) is retryable.
func Retryable(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind == Transient || e.Kind == RateLimited
	}
	return err != nil
}

// RetryAfter returns the wait the vendor asked for, or 0.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// TurnError is the error of a call that did not get its turn under its
// connector's rate_limit before the caller's deadline: nothing was sent to
// the vendor, and the work is fine. After is the estimated wait until a
// turn comes; a caller puts the work back for about that long, and waiting
// is not a failure.
type TurnError struct {
	System string        // the connector whose rate_limit it waited on
	After  time.Duration // estimated wait until its turn
}

// Error says which limit was waited on and for about how long.
func (e *TurnError) Error() string {
	return fmt.Sprintf("%s: no turn under rate_limit before the deadline; next turn in about %s",
		e.System, e.After.Round(time.Millisecond))
}

// Turn returns the *TurnError in err's chain, if any.
func Turn(err error) (*TurnError, bool) { return errors.AsType[*TurnError](err) }
