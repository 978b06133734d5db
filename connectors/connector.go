// Package connectors holds the Connector interface, the registry of connector
// types, the shared HTTP client with its one error classifier, and one file per
// system whose sessions offboarder revokes.
//
// A connector knows nothing of asynq, Gin or the store: it takes a Subject and
// answers an Outcome or a classified *vendorapi.Error.
package connectors

import (
	"context"

	"github.com/offboarder/offboarder/offboard"
)

// Connector revokes a subject's sessions and tokens in one system.
//
// Revoke must be idempotent: asynq may run it again after a lapsed lease or a
// lost Redis. It returns an Outcome on success (including NotFound) and a
// classified *vendorapi.Error otherwise; vendorapi.Retryable tells the worker what to do with it.
type Connector interface {
	Name() string
	Revoke(ctx context.Context, s offboard.Subject) (offboard.Outcome, error)
}

// Checker is implemented by connectors that can probe their credentials with
// the cheapest authenticated read.
type Checker interface {
	Check(ctx context.Context) error
}
