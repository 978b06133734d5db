// Package connectors holds the Connector interface, the registry of connector
// types, the shared HTTP client with its one error classifier, and one file per
// system whose sessions offboarder revokes.
//
// A connector knows nothing of asynq, Gin or the store: it takes a Subject and
// answers an Outcome or a classified *vendorapi.Error.
package connectors

import (
	"context"
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
// classified *vendorapi.Error otherwise; vendorapi.Retryable tells the worker what to do with it.
type Connector interface {
	Name() string
	Revoke(ctx context.Context, s Subject) (Outcome, error)
}

// Checker is implemented by connectors that can probe their credentials with
// the cheapest authenticated read.
type Checker interface {
	Check(ctx context.Context) error
}
