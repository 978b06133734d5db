// Package connectors holds the Connector interface, the Config every
// connector type's settings implement, and Build, which decodes, validates
// and opens the configured connectors from the type map that package
// registry lists. Each system is a package of its own below this one
// (connectors/okta, connectors/entra, …); this package imports none of them.
// connectors/conformance is the suite every connector passes.
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

// Finder is implemented by connectors that can name a person's email from
// the system's own user id (an Okta user id, an Entra object id): the worker
// resolves the id-only subjects of a source configured with resolve_with
// through it. found is false, with no error, when the system has no such
// user; errors are classified *vendorapi.Error.
type Finder interface {
	FindEmail(ctx context.Context, id string) (email string, found bool, err error)
}
