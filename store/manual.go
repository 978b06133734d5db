package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/offboarder/offboarder/offboard"
)

// Audit action of a person's attestation of a manual step.
const actionEntryAttested = "entry.attested"

// AttestActor is the audit actor of an attestation and of the case closing
// it causes: the holder of the admin token. The person who says they did
// the step is named in the row's detail.
const AttestActor = "admin"

// Bounds on an attestation's who and note, in characters.
const (
	MaxAttestWho  = 200
	MaxAttestNote = 2000
)

// NotAttestableError is AttestEntry's answer for an entry whose outcome is
// not manual_required: a step done by an API, one attested already, or a
// pending one.
type NotAttestableError struct {
	Outcome offboard.Outcome // the entry's outcome now
}

func (e *NotAttestableError) Error() string {
	return fmt.Sprintf("entry is %s, not %s", e.Outcome, offboard.ManualRequired)
}

// AttestEntry records that a person did a manual step: the entry, whose
// outcome must be manual_required, becomes attested (updated_at and
// finished_at now; its detail, the instructions, is kept), with an audit
// row "entry.attested" (actor AttestActor; detail JSON: who, note and
// attested_at). who is required; who and note are cut to MaxAttestWho and
// MaxAttestNote characters. The case is then settled again in the same
// transaction: an open case as RecordOutcome does; a needs_attention case
// whose entries are now all final and none failed or manual_required
// becomes completed (closed_at now, audit "case.closed"), and otherwise
// stays as it is.
//
// It returns the entry and the case row (without events, entries or
// audit). An unknown case or entry is ErrNotFound; an entry that is not
// manual_required is a *NotAttestableError naming its outcome, and nothing
// changes.
func (s *Store) AttestEntry(ctx context.Context, caseID, connector, who, note string) (Entry, *Case, error) {
	who = truncate(strings.TrimSpace(clean(who)), MaxAttestWho)
	note = truncate(strings.TrimSpace(clean(note)), MaxAttestNote)
	if who == "" {
		return Entry{}, nil, fmt.Errorf("store: attest %s/%s: who is required", caseID, connector)
	}
	var (
		e Entry
		c Case
	)
	err := s.write(ctx, caseID, func(t *tx) error {
		var err error
		if c, err = t.getCase(caseID, true); err != nil {
			return fmt.Errorf("case: %w", err)
		}
		e, err = scanEntry(t.queryRow(`UPDATE entries SET outcome = ?, updated_at = ?, finished_at = ?
			WHERE case_id = ? AND connector = ? AND outcome = ?
			RETURNING `+entryCols,
			offboard.Attested, micros(t.now), micros(t.now), caseID, connector, offboard.ManualRequired))
		if errors.Is(err, sql.ErrNoRows) {
			cur, err := t.getEntry(caseID, connector, false)
			if err != nil {
				return fmt.Errorf("entry: %w", err)
			}
			return &NotAttestableError{Outcome: cur.Outcome}
		}
		if err != nil {
			return err
		}
		b, _ := json.Marshal(struct {
			Who        string `json:"who"`
			Note       string `json:"note,omitempty"`
			AttestedAt string `json:"attested_at"`
		}{who, note, t.now.Format(time.RFC3339Nano)})
		t.audit(caseID, connector, actionEntryAttested, AttestActor, string(b))
		switch {
		case IsOpen(c.State):
			return t.settle(&c, AttestActor)
		case c.State == offboard.StateNeedsAttention:
			n, err := t.tally(caseID)
			if err != nil || n.pending > 0 || n.attention > 0 {
				return err
			}
			return t.settle(&c, AttestActor)
		}
		return nil
	})
	if err != nil {
		return Entry{}, nil, fmt.Errorf("store: attest %s/%s: %w", caseID, connector, err)
	}
	return e, &c, nil
}

// ManualEntry is an open manual step: an entry whose outcome is
// manual_required, with what a person needs to do it.
type ManualEntry struct {
	CaseID       string          `json:"case_id"`
	Email        string          `json:"email"`
	Reason       offboard.Reason `json:"reason"`
	CaseState    offboard.State  `json:"case_state"`
	Connector    string          `json:"connector"`
	Instructions string          `json:"instructions"` // the entry's detail
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    time.Time       `json:"updated_at"`
	// Outcomes are the outcomes of every entry of the case, by connector:
	// what tells whether a step that follows another is ready (the store
	// does not know which steps follow which).
	Outcomes map[string]offboard.Outcome `json:"-"`
}

// ManualEntries lists the open manual steps (entries whose outcome is
// manual_required, of cases in any state), oldest first (by the entry's
// creation, then case and connector), at most limit (0 or less means 100;
// more than 1000 means 1000), read from one snapshot.
func (s *Store) ManualEntries(ctx context.Context, limit int) ([]ManualEntry, error) {
	switch {
	case limit <= 0:
		limit = 100
	case limit > 1000:
		limit = 1000
	}
	out := []ManualEntry{}
	err := s.read(ctx, func(t *tx) error {
		rows, err := t.query(`SELECT e.case_id, c.email, c.reason, c.state, e.connector, e.detail, e.created_at, e.updated_at
			FROM entries e JOIN cases c ON c.id = e.case_id
			WHERE e.outcome = ?
			ORDER BY e.created_at, e.case_id, e.connector LIMIT ?`, offboard.ManualRequired, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		index := map[string][]int{}
		for rows.Next() {
			var (
				m                ManualEntry
				created, updated int64
			)
			if err := rows.Scan(&m.CaseID, &m.Email, &m.Reason, &m.CaseState, &m.Connector, &m.Instructions, &created, &updated); err != nil {
				return err
			}
			m.CreatedAt, m.UpdatedAt = fromMicros(created), fromMicros(updated)
			m.Outcomes = map[string]offboard.Outcome{}
			index[m.CaseID] = append(index[m.CaseID], len(out))
			out = append(out, m)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		if len(index) == 0 {
			return nil
		}
		ids := make([]any, 0, len(index))
		for id := range index {
			ids = append(ids, id)
		}
		rows, err = t.query("SELECT case_id, connector, outcome FROM entries WHERE case_id IN ("+placeholders(len(ids))+")", ids...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, conn string
			var o offboard.Outcome
			if err := rows.Scan(&id, &conn, &o); err != nil {
				return err
			}
			for _, i := range index[id] {
				out[i].Outcomes[conn] = o
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: manual entries: %w", err)
	}
	return out, nil
}
