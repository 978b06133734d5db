package store

import (
	"errors"
	"time"

	"github.com/offboarder/offboarder/offboard"
)

// ErrNotFound is returned when a case or entry does not exist.
var ErrNotFound = errors.New("not found")

// Event is one verified, normalised delivery from a source.
type Event struct {
	Source      string            // configured source name (route segment)
	EventID     string            // the sender's id; unique per source
	Type        string            // the sender's event type, as sent
	Email       string            // normalised subject email
	SubjectIDs  map[string]string // other ids the event carried
	Reason      offboard.Reason   // terminated|suspended|deactivated|security|manual
	EffectiveAt time.Time         // zero means now
	Systems     []string          // connector names; nil means all
	DryRun      bool
	ReceivedAt  time.Time
	RequestID   string
	Actor       string // who sent it: "source:<name>" or "admin"
	// Protected marks an event for an account policy.protected lists: it
	// is recorded on a case of its own, closed at once as dismissed, with
	// the audit row "case.protected"; nothing is revoked.
	Protected bool
}

// IngestResult tells what Ingest did with an event.
type IngestResult struct {
	CaseID      string
	Duplicate   bool           // the same (source, event id) was already recorded
	NewCase     bool           // a case was opened (false: attached to an open one)
	State       offboard.State // the case's state after the event
	EffectiveAt time.Time      // the case's effective time after the event
	Security    bool           // the case's Security after the event
}

// Resolution is what the worker learnt of an id-only case's subject from the
// sender's API.
type Resolution struct {
	Email       string            // normalised; required
	IDs         map[string]string // more ids to keep
	Reason      offboard.Reason   // replaces the case's reason when set
	EffectiveAt time.Time         // replaces the case's effective time when set
}

// Case is one offboarding of one subject.
type Case struct {
	ID          string            `json:"id"`
	Email       string            `json:"email"`
	SubjectIDs  map[string]string `json:"subject_ids,omitempty"`
	Reason      offboard.Reason   `json:"reason"`
	State       offboard.State    `json:"state"`
	DryRun      bool              `json:"dry_run"`
	Systems     []string          `json:"systems,omitempty"` // nil: all connectors
	EffectiveAt time.Time         `json:"effective_at"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
	ClosedAt    *time.Time        `json:"closed_at,omitempty"`
	Events      []EventRecord     `json:"events,omitempty"`
	Entries     []Entry           `json:"entries"`
	Audit       []AuditEntry      `json:"audit,omitempty"`
	// Related are the other cases of the same email, newest first (at most
	// maxRelated): a person offboarded again, by a new event after an
	// earlier case closed, has two cases, and an auditor reading one sees
	// the other. Only GetCase fills it.
	Related []RelatedCase `json:"related_cases,omitempty"`

	// Security marks a security case, whose tasks run ahead of the others
	// (the security queue): its reason is security, or an event of reason
	// security attached to it (or to a case merged into it) before it was
	// fanned out. It is set only before the fan-out and never cleared, so
	// that a case's tasks are always looked for on the queue they were
	// given; the case's Reason is unchanged by it (disable_for and
	// policy.reasons read the Reason).
	Security bool `json:"security,omitempty"`

	// ClosedReason says why the case closed, in a sentence a person reads,
	// where its entries do not say it all: no connected system knows the
	// address (NobodyFound), who cancelled it and why. A retry that reopens
	// the case clears it.
	ClosedReason string `json:"closed_reason,omitempty"`
}

// RelatedCase is another case of the same subject, as listed on a case.
type RelatedCase struct {
	ID        string          `json:"id"`
	State     offboard.State  `json:"state"`
	Reason    offboard.Reason `json:"reason"`
	CreatedAt time.Time       `json:"created_at"`
	ClosedAt  *time.Time      `json:"closed_at,omitempty"`
}

// EventRecord is an event as recorded on its case.
type EventRecord struct {
	Source     string          `json:"source"`
	EventID    string          `json:"event_id"`
	Type       string          `json:"type"`
	Reason     offboard.Reason `json:"reason"`
	ReceivedAt time.Time       `json:"received_at"`
	RequestID  string          `json:"request_id,omitempty"`
}

// Entry is one connector's work on one case.
type Entry struct {
	CaseID     string           `json:"-"`
	Connector  string           `json:"connector"`
	Outcome    offboard.Outcome `json:"outcome"`
	Attempts   int              `json:"attempts"`
	LastError  string           `json:"last_error,omitempty"`
	Detail     string           `json:"detail,omitempty"` // what the connector ended and what not, a skip's reason, a manual step's instructions
	CreatedAt  time.Time        `json:"created_at"`
	UpdatedAt  time.Time        `json:"updated_at"`
	StartedAt  *time.Time       `json:"started_at,omitempty"`  // first attempt (since an operator's retry, which starts the retry window again)
	FinishedAt *time.Time       `json:"finished_at,omitempty"` // outcome recorded
	// NextAttemptAt is when a retry the worker scheduled is due: set by a
	// retryable failure, cleared when an attempt begins or the entry is final.
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
}

// AuditEntry is one link of the append-only, hash-chained audit log.
type AuditEntry struct {
	Seq       int64     `json:"seq"`
	At        time.Time `json:"at"`
	CaseID    string    `json:"case_id,omitempty"`
	Connector string    `json:"connector,omitempty"`
	Action    string    `json:"action"`
	Actor     string    `json:"actor"`
	Detail    string    `json:"detail,omitempty"`
	PrevHash  string    `json:"prev_hash"`
	Hash      string    `json:"hash"`
}

// CaseFilter narrows ListCases. Zero values match everything.
type CaseFilter struct {
	Email string
	State offboard.State
	Limit int // 0 means 100; at most 1000
}

// DueCase is a case that needs its offboard task (state scheduled or pending).
type DueCase struct {
	CaseID      string
	EffectiveAt time.Time
	Security    bool // Case.Security
}

// EntryRef names a pending entry that needs its revoke task.
type EntryRef struct {
	CaseID    string
	Connector string
	Security  bool // the case's Case.Security
}
