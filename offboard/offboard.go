// Package offboard holds the words every part of offboarder shares, declared
// once: whom to offboard (Subject), why (Reason), what a connector did
// (Outcome) and where a case stands (State). It imports nothing; sources,
// connectors, the store, the worker and the webhook all speak it.
package offboard

// Subject is whom to offboard: a normalized email plus any ids the event
// carried (keyed by the source type that issued them, e.g. "okta" →
// "00u1ab…"), and why. A step that only ends sessions runs for every
// reason; a step that disables an account or a credential runs only for
// the reasons its connector's disable_for lists (a session reset is not an
// offboarding).
type Subject struct {
	Email  string            `json:"email"`
	IDs    map[string]string `json:"ids,omitempty"`
	Reason Reason            `json:"reason,omitempty"`
	// Case is the id of the case the revoke runs for, the same on every
	// attempt: a connector whose message must be the same when it is sent
	// again (a security event token's jti) derives it from Case. Empty
	// outside a case (a probe, a test).
	Case string `json:"case,omitempty"`
}

// Reason is why a subject is offboarded.
type Reason string

// The reasons.
const (
	ReasonTerminated  Reason = "terminated"
	ReasonSuspended   Reason = "suspended"
	ReasonDeactivated Reason = "deactivated"
	ReasonSecurity    Reason = "security"
	ReasonManual      Reason = "manual"
)

// Valid reports whether r is one of the reason words.
func (r Reason) Valid() bool {
	switch r {
	case ReasonTerminated, ReasonSuspended, ReasonDeactivated, ReasonSecurity, ReasonManual:
		return true
	}
	return false
}

// Outcome is the result of one connector on one case.
type Outcome string

// The outcome words. Pending is the state of an entry that has no outcome
// yet; every other value is final.
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

// State is where a case stands. Open states accept new events for the
// subject; the others are closed, and a new event for the subject opens a
// new case.
type State string

// The case states.
const (
	StateScheduled State = "scheduled" // effective_at is in the future
	StatePending   State = "pending"   // due, not yet fanned out
	// StateAwaitingApproval is a case the blast-radius guard held (more new
	// cases than policy.hold_after allows): open, not fanned out until a
	// person approves it.
	StateAwaitingApproval State = "awaiting_approval"
	StateInProgress       State = "in_progress"     // entries exist, some still pending
	StateCompleted        State = "completed"       // every entry final, none needs a person
	StateNeedsAttention   State = "needs_attention" // every entry final, some failed or manual_required, or the subject could not be resolved
	StateDismissed        State = "dismissed"       // the sender's API said the person is not leaving
	StateMerged           State = "merged"          // resolved to a subject that already had an open case; its events moved there
	StateCancelled        State = "cancelled"       // called off by a person before revocation started (a rehire, a mistake)
)

// States lists every case state, open ones first.
var States = []State{StateScheduled, StatePending, StateAwaitingApproval, StateInProgress, StateCompleted, StateNeedsAttention, StateDismissed, StateMerged, StateCancelled}
