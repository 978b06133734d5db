package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/offboarder/offboarder/offboard"
)

// Audit actions of what a person does to a case through the admin API.
const (
	actionEntryRetried = "entry.retried"
	actionCaseReopened = "case.reopened"
	actionCaseCancel   = "case.cancelled"
)

// OperatorActor is the audit actor of a retry or a cancellation: the
// holder of the admin token. The person who asked is named in the row's
// detail, as for an attestation.
const OperatorActor = AttestActor

// NotRetryableError is RetryEntry's answer for an entry whose outcome is
// not failed.
type NotRetryableError struct {
	Outcome offboard.Outcome // the entry's outcome now
}

func (e *NotRetryableError) Error() string {
	return fmt.Sprintf("entry is %s, not %s", e.Outcome, offboard.Failed)
}

// CaseStateError refuses a change the case's state does not allow: a
// cancellation once revocation started, a retry on a case closed for
// another reason than needing attention.
type CaseStateError struct {
	State offboard.State // the case's state now
	Want  string         // what the change needs, in words
}

func (e *CaseStateError) Error() string {
	return fmt.Sprintf("case is %s: %s", e.State, e.Want)
}

// OpenCaseError refuses to reopen a case while another case of the same
// subject is open (at most one open case per subject).
type OpenCaseError struct {
	CaseID string // the open case
	State  offboard.State
}

func (e *OpenCaseError) Error() string {
	if e.CaseID == "" {
		return "another case of the same subject was opened meanwhile: at most one case per subject is open"
	}
	return fmt.Sprintf("case %s of the same subject is %s: at most one case per subject is open", e.CaseID, e.State)
}

// operator is the who and note of a person's request, cleaned and cut to
// MaxAttestWho and MaxAttestNote characters; who is required.
func operator(who, note string) (string, string, error) {
	who = truncate(strings.TrimSpace(clean(who)), MaxAttestWho)
	note = truncate(strings.TrimSpace(clean(note)), MaxAttestNote)
	if who == "" {
		return "", "", errors.New("who is required")
	}
	return who, note, nil
}

// RetryEntry reopens a failed entry so that its revoke runs again: the
// outcome goes back to pending (finished_at cleared; attempts, last_error
// and detail kept), with an audit row "entry.retried" (actor OperatorActor;
// detail JSON: who, note, the attempts so far and the last error). A
// needs_attention case goes back to in_progress (closed_at and
// closed_reason cleared; audit "case.reopened"); an open case stays as it
// is. who is required; who and note are cut as for an attestation.
//
// The caller then queues the revoke (tasks.Queue.EnsureRevoke; the relay
// does it too). It returns the entry and the case row. An unknown case or
// entry is ErrNotFound; an entry that is not failed is a
// *NotRetryableError; a case closed otherwise (completed, dismissed,
// merged, cancelled) a *CaseStateError; a case whose subject has another
// case open an *OpenCaseError naming it. Then nothing changes.
func (s *Store) RetryEntry(ctx context.Context, caseID, connector, who, note string) (Entry, *Case, error) {
	who, note, err := operator(who, note)
	if err != nil {
		return Entry{}, nil, fmt.Errorf("store: retry %s/%s: %w", caseID, connector, err)
	}
	var (
		e Entry
		c Case
	)
	err = s.write(ctx, caseID, func(t *tx) error {
		var err error
		if c, err = t.getCase(caseID, true); err != nil {
			return fmt.Errorf("case: %w", err)
		}
		cur, err := t.getEntry(caseID, connector, true)
		if err != nil {
			return fmt.Errorf("entry: %w", err)
		}
		if cur.Outcome != offboard.Failed {
			return &NotRetryableError{Outcome: cur.Outcome}
		}
		reopen := c.State == offboard.StateNeedsAttention
		if !reopen && !IsOpen(c.State) {
			return &CaseStateError{State: c.State, Want: "only an entry of an open or needs_attention case is retried"}
		}
		if reopen {
			if err := t.reopen(&c); err != nil {
				return err
			}
		}
		// started_at starts again: the entry's retry window (retry_for) is
		// measured from it. Every earlier attempt stays in attempts.
		e, err = scanEntry(t.queryRow(`UPDATE entries SET outcome = ?, updated_at = ?, finished_at = NULL, started_at = NULL
			WHERE case_id = ? AND connector = ? AND outcome = ?
			RETURNING `+entryCols,
			offboard.Pending, micros(t.now), caseID, connector, offboard.Failed))
		if err != nil {
			return err
		}
		b, _ := json.Marshal(struct {
			Who       string `json:"who"`
			Note      string `json:"note,omitempty"`
			Attempts  int    `json:"attempts"`
			LastError string `json:"last_error,omitempty"`
		}{who, note, cur.Attempts, truncate(cur.LastError, maxAuditDetail)})
		t.audit(caseID, connector, actionEntryRetried, OperatorActor, string(b))
		return nil
	})
	if err != nil {
		return Entry{}, nil, fmt.Errorf("store: retry %s/%s: %w", caseID, connector, err)
	}
	return e, &c, nil
}

// reopen moves the closed case c back to in_progress, unless another case
// of its subject is open (an *OpenCaseError). The partial unique index
// decides a race with an event that opens a case meanwhile.
func (t *tx) reopen(c *Case) error {
	var key string
	if err := t.queryRow("SELECT subject_key FROM cases WHERE id = ?", c.ID).Scan(&key); err != nil {
		return err
	}
	if other, err := t.openCaseFor(key); err == nil {
		return &OpenCaseError{CaseID: other.ID, State: other.State}
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	from := c.State
	_, err := t.exec(`UPDATE cases SET state = ?, updated_at = ?, closed_at = NULL, closed_reason = ''
		WHERE id = ?`, offboard.StateInProgress, micros(t.now), c.ID)
	if isUniqueViolation(err) {
		return &OpenCaseError{}
	}
	if err != nil {
		return err
	}
	c.State, c.UpdatedAt, c.ClosedAt, c.ClosedReason = offboard.StateInProgress, t.now, nil, ""
	b, _ := json.Marshal(map[string]string{"from": string(from), "state": string(c.State)})
	t.audit(c.ID, "", actionCaseReopened, OperatorActor, string(b))
	return nil
}

// CancelCase calls off a case before revocation started (a rehire, a
// mistake): a scheduled or pending case becomes cancelled — closed, so a
// new event for the person opens a new case — with closed_at, a
// closed_reason naming who cancelled it and why, and its entries still
// pending (if any) cancelled; audit "case.cancelled" (actor OperatorActor;
// detail JSON: who, note, the state it was in). who is required.
//
// It returns the case row and the effective times its offboard tasks may
// be scheduled for (the case's and each of its events'), for the caller to
// remove those tasks. An unknown case is ErrNotFound; a case in any other
// state is a *CaseStateError naming it, and nothing changes.
func (s *Store) CancelCase(ctx context.Context, caseID, who, note string) (*Case, []time.Time, error) {
	who, note, err := operator(who, note)
	if err != nil {
		return nil, nil, fmt.Errorf("store: cancel %s: %w", caseID, err)
	}
	var (
		c     Case
		times []time.Time
	)
	err = s.write(ctx, caseID, func(t *tx) error {
		times = nil
		var err error
		if c, err = t.getCase(caseID, true); err != nil {
			return err
		}
		if c.State != offboard.StateScheduled && c.State != offboard.StatePending {
			return &CaseStateError{State: c.State, Want: "only a scheduled or pending case is cancelled, before revocation starts"}
		}
		from := c.State
		if _, err := t.exec(`UPDATE entries SET outcome = ?, updated_at = ?, finished_at = ?, next_attempt_at = NULL
			WHERE case_id = ? AND outcome = ?`,
			offboard.Cancelled, micros(t.now), micros(t.now), caseID, offboard.Pending); err != nil {
			return err
		}
		reason := "cancelled by " + who
		if note != "" {
			reason += ": " + note
		}
		closed := t.now
		c.State, c.UpdatedAt, c.ClosedAt, c.ClosedReason = offboard.StateCancelled, t.now, &closed, reason
		if _, err := t.exec(`UPDATE cases SET state = ?, updated_at = ?, closed_at = ?, closed_reason = ?
			WHERE id = ?`, c.State, micros(t.now), micros(t.now), reason, caseID); err != nil {
			return err
		}
		b, _ := json.Marshal(map[string]string{"who": who, "note": note, "from": string(from)})
		t.audit(caseID, "", actionCaseCancel, OperatorActor, string(b))

		times = append(times, c.EffectiveAt)
		rows, err := t.query("SELECT DISTINCT effective_at FROM events WHERE case_id = ?", caseID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var eff int64
			if err := rows.Scan(&eff); err != nil {
				return err
			}
			if at := fromMicros(eff); !at.Equal(c.EffectiveAt) {
				times = append(times, at)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: cancel %s: %w", caseID, err)
	}
	return &c, times, nil
}
