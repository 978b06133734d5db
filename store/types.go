package store

import (
	"errors"
	"time"
)

// ErrNotFound is returned when a case or entry does not exist.
var ErrNotFound = errors.New("not found")

// Case states. Open states accept new events for the subject; the others are
// closed, and a new event for the subject opens a new case.
const (
	StateScheduled      = "scheduled"       // effective_at is in the future
	StatePending        = "pending"         // due, not yet fanned out
	StateInProgress     = "in_progress"     // entries exist, some still pending
	StateCompleted      = "completed"       // every entry final, none needs a person
	StateNeedsAttention = "needs_attention" // every entry final, some failed or manual_required, or the subject could not be resolved
	StateDismissed      = "dismissed"       // the sender's API said the person is not leaving
	StateMerged         = "merged"          // resolved to a subject that already had an open case; its events moved there
)

// Entry outcomes the store itself must tell apart; any other non-empty value
// than OutcomePending is final (the connectors package owns the full list).
const (
	OutcomePending        = "pending"
	OutcomeFailed         = "failed"
	OutcomeManualRequired = "manual_required"
	OutcomeSkipped        = "skipped"
)

// Event is one verified, normalised delivery from a source.
type Event struct {
	Source      string            // configured source name (route segment)
	EventID     string            // the sender's id; unique per source
	Type        string            // the sender's event type, as sent
	Email       string            // normalised subject email
	SubjectIDs  map[string]string // other ids the event carried
	Reason      string            // terminated|suspended|deactivated|security|manual
	EffectiveAt time.Time         // zero means now
	Systems     []string          // connector names; nil means all
	DryRun      bool
	ReceivedAt  time.Time
	RequestID   string
	Actor       string // who sent it: "source:<name>" or "admin"
}

// IngestResult tells what Ingest did with an event.
type IngestResult struct {
	CaseID      string
	Duplicate   bool      // the same (source, event id) was already recorded
	NewCase     bool      // a case was opened (false: attached to an open one)
	State       string    // the case's state after the event
	EffectiveAt time.Time // the case's effective time after the event
}

// Resolution is what the worker learnt of an id-only case's subject from the
// sender's API.
type Resolution struct {
	Email       string            // normalised; required
	IDs         map[string]string // more ids to keep
	Reason      string            // replaces the case's reason when set
	EffectiveAt time.Time         // replaces the case's effective time when set
}

// Case is one offboarding of one subject.
type Case struct {
	ID          string            `json:"id"`
	Email       string            `json:"email"`
	SubjectIDs  map[string]string `json:"subject_ids,omitempty"`
	Reason      string            `json:"reason"`
	State       string            `json:"state"`
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
}

// RelatedCase is another case of the same subject, as listed on a case.
type RelatedCase struct {
	ID        string     `json:"id"`
	State     string     `json:"state"`
	Reason    string     `json:"reason"`
	CreatedAt time.Time  `json:"created_at"`
	ClosedAt  *time.Time `json:"closed_at,omitempty"`
}

// EventRecord is an event as recorded on its case.
type EventRecord struct {
	Source     string    `json:"source"`
	EventID    string    `json:"event_id"`
	Type       string    `json:"type"`
	Reason     string    `json:"reason"`
	ReceivedAt time.Time `json:"received_at"`
	RequestID  string    `json:"request_id,omitempty"`
}

// Entry is one connector's work on one case.
type Entry struct {
	CaseID     string     `json:"-"`
	Connector  string     `json:"connector"`
	Outcome    string     `json:"outcome"`
	Attempts   int        `json:"attempts"`
	LastError  string     `json:"last_error,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	StartedAt  *time.Time `json:"started_at,omitempty"`  // first attempt
	FinishedAt *time.Time `json:"finished_at,omitempty"` // outcome recorded
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
	State string
	Limit int // 0 means 100; at most 1000
}

// DueCase is a case that needs its offboard task (state scheduled or pending).
type DueCase struct {
	CaseID      string
	EffectiveAt time.Time
}

// EntryRef names a pending entry that needs its revoke task.
type EntryRef struct {
	CaseID    string
	Connector string
}
