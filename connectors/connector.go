// Package connectors holds the Connector interface, the registry of connector
// types, the shared HTTP client with its one error classifier, and one file per
// system whose sessions offboarder revokes.
//
// A connector knows nothing of asynq, Gin or the store: it takes a Subject and
// answers an Outcome or a classified *Error.
package connectors

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Subject is whom to offboard: a normalized email plus any ids the event carried
// (keyed by the source type that issued them, e.g. "okta" → "00u1ab…").
type Subject struct {
	Email string            `json:"email"`
	IDs   map[string]string `json:"ids,omitempty"`
}

// Outcome is the result of one connector on one case.
type Outcome string

// The outcome words of DESIGN.md. Pending is the state of an entry that has no
// outcome yet; every other value is final.
const (
	Pending        Outcome = "pending"
	Verified       Outcome = "verified"        // revoked and re-read: no session left
	Acknowledged   Outcome = "acknowledged"    // the API took the call; nothing can be re-read
	NotFound       Outcome = "not_found"       // no account there
	ManualRequired Outcome = "manual_required" // no API: a person must do it
	Attested       Outcome = "attested"        // a person did it and said so
	Failed         Outcome = "failed"          // permanent error, needs a person
	Skipped        Outcome = "skipped"         // policy, dry run
	Cancelled      Outcome = "cancelled"
)

// Final reports whether o ends the entry (everything but Pending).
func (o Outcome) Final() bool { return o != Pending && o != "" }

// Connector revokes a subject's sessions and tokens in one system.
//
// Revoke must be idempotent: asynq may run it again after a lapsed lease or a
// lost Redis. It returns an Outcome on success (including NotFound) and a
// classified *Error otherwise; Retryable tells the worker what to do with it.
type Connector interface {
	Name() string
	Revoke(ctx context.Context, s Subject) (Outcome, error)
}

// Checker is implemented by connectors that can probe their credentials with
// the cheapest authenticated read.
type Checker interface {
	Check(ctx context.Context) error
}

// Kind classifies an error once, in the shared HTTP layer.
type Kind int

// Error kinds. Transient and RateLimited are retryable; the rest are permanent.
const (
	Transient   Kind = iota + 1 // network error, 408, 5xx
	RateLimited                 // 429 or a vendor's own rate-limit answer
	Auth                        // 401, 403: credentials or scopes; a person must act
	Invalid                     // other 4xx: the request or the config is wrong
	NotFoundErr                 // 404 where it is not an answer in itself
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
	case NotFoundErr:
		return "not_found"
	}
	return "unknown"
}

// Error is the one typed error connectors return. Its text never holds a
// token, a secret or a secret-bearing URL.
type Error struct {
	Connector  string        // connector name
	Kind       Kind          // classification
	Status     int           // HTTP status, 0 for network errors
	RetryAfter time.Duration // from Retry-After or a vendor reset header; 0 if none
	Msg        string        // what happened, for a person
	Err        error         // the cause, if any
}

// Error returns "<connector>: <msg> (status N): <cause>", leaving out the
// parts that are empty.
func (e *Error) Error() string {
	s := e.Connector + ": " + e.Msg
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
