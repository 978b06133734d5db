package sources

import (
	"context"
	"time"

	"github.com/offboarder/offboarder/offboard"
)

// Resolver is implemented by sources whose events carry only an id (Entra's
// object id, a BambooHR or HiBob employee id). The worker — never the webhook
// handler — calls Resolve before it fans a case out, to learn the email and
// whether the person is really leaving. Errors are *vendorapi.Error, so the
// worker retries what is retryable and fails the case on the rest.
type Resolver interface {
	Resolve(ctx context.Context, ev Event) (Resolution, error)
}

// SubjectIDKey is the key of the id a ConnectorResolved source's id-only
// events carry for the connector to look up.
const SubjectIDKey = "ssf"

// ConnectorResolved is implemented by a source whose id-only events are
// resolved not by its own API but by a connector's user lookup (an Okta
// user id, an Entra object id): ResolveWith names the connector, "" for
// none. Sources never import connectors, so the worker, which knows both,
// does the lookup of the event's IDs[SubjectIDKey] and checks at start
// that the connector can.
type ConnectorResolved interface {
	ResolveWith() string
}

// Resolution is what a sender's API says of an event's subject.
type Resolution struct {
	// Email is the subject's work email, normalised; required when Offboard.
	Email string
	// Offboard is false when the person is not leaving after all (an Entra
	// user still enabled, a BambooHR change that is not a termination);
	// Ignored then says why, and the case is dismissed.
	Offboard bool
	Ignored  string
	// Reason, when set, replaces the event's reason.
	Reason offboard.Reason
	// EffectiveAt, when set, replaces the event's effective time (a
	// termination date in the future schedules the case for it).
	EffectiveAt time.Time
	// IDs are more ids of the subject to keep on the case.
	IDs map[string]string
}

// State is a small durable key-value store a Maintainer keeps its state in
// (a subscription id and expiry, a polling cursor). Keys are scoped to the
// source by the caller.
type State interface {
	Get(ctx context.Context, key string) ([]byte, bool, error)
	Put(ctx context.Context, key string, value []byte) error
}

// Maintainer is implemented by sources that must keep something alive at
// their sender or poll it: renew a Graph subscription or a Google channel,
// reconcile missed pushes. The worker runs Maintain about every Interval, on
// one worker at a time. Events it finds are offboarded like delivered ones
// (the same event ids deduplicate them against pushes, or Event.Since by
// subject), also those it returns beside an error. What it Puts in State is
// kept only once those events are recorded, so a run whose events the
// store could not take is read again.
type Maintainer interface {
	Interval() time.Duration
	Maintain(ctx context.Context, st State) ([]Event, error)
}
