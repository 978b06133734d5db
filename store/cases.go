package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/offboarder/offboarder/offboard"
)

const caseCols = "id, email, subject_ids, reason, state, dry_run, systems, effective_at, created_at, updated_at, closed_at, closed_reason, security"

func scanCase(r scanner) (Case, error) {
	var c Case
	var subjectIDs string
	var systems sql.NullString
	var dryRun, security int
	var eff, created, updated int64
	var closed sql.NullInt64
	if err := r.Scan(&c.ID, &c.Email, &subjectIDs, &c.Reason, &c.State, &dryRun, &systems,
		&eff, &created, &updated, &closed, &c.ClosedReason, &security); err != nil {
		return Case{}, err
	}
	if err := json.Unmarshal([]byte(subjectIDs), &c.SubjectIDs); err != nil {
		return Case{}, fmt.Errorf("case %s subject_ids: %w", c.ID, err)
	}
	if len(c.SubjectIDs) == 0 {
		c.SubjectIDs = nil
	}
	if systems.Valid {
		c.Systems = []string{}
		if err := json.Unmarshal([]byte(systems.String), &c.Systems); err != nil {
			return Case{}, fmt.Errorf("case %s systems: %w", c.ID, err)
		}
	}
	c.DryRun = dryRun != 0
	c.Security = security != 0
	c.EffectiveAt = fromMicros(eff)
	c.CreatedAt = fromMicros(created)
	c.UpdatedAt = fromMicros(updated)
	c.ClosedAt = fromNullMicros(closed)
	c.Entries = []Entry{}
	return c, nil
}

// IsOpen reports whether a case in state accepts new events and still
// waits for work (scheduled, pending, awaiting approval or in progress).
func IsOpen(state offboard.State) bool {
	return state == offboard.StateScheduled || state == offboard.StatePending ||
		state == offboard.StateAwaitingApproval || state == offboard.StateInProgress
}

// caseByID selects one case row by id.
const caseByID = "SELECT " + caseCols + " FROM cases WHERE id = ?"

// getCase reads a case row (without events, entries or audit); lock takes its
// row lock on PostgreSQL. A missing case is ErrNotFound.
func (t *tx) getCase(id string, lock bool) (Case, error) {
	q := caseByID
	if lock {
		q += t.forUpdate()
	}
	c, err := scanCase(t.queryRow(q, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Case{}, ErrNotFound
	}
	return c, err
}

// entries reads the entries of a case, ordered by connector.
func (t *tx) entries(caseID string) ([]Entry, error) {
	rows, err := t.query("SELECT "+entryCols+" FROM entries WHERE case_id = ? ORDER BY connector", caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// GetCase returns a case with its Events (in the order received), Entries
// (ordered by connector) and Audit rows (by seq), read from one snapshot.
// A case that does not exist is ErrNotFound.
func (s *Store) GetCase(ctx context.Context, id string) (*Case, error) {
	var c Case
	err := s.read(ctx, func(t *tx) error {
		var err error
		if c, err = t.getCase(id, false); err != nil {
			return err
		}
		if c.Entries, err = t.entries(id); err != nil {
			return err
		}
		if c.Events, err = t.events(id); err != nil {
			return err
		}
		if c.Related, err = t.related(c.ID, c.Email); err != nil {
			return err
		}
		c.Audit, err = t.caseAudit(id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: get case %s: %w", id, err)
	}
	return &c, nil
}

// maxRelated bounds the related cases listed on a case.
const maxRelated = 20

// related lists the other cases of email, newest first; none for a case
// whose subject is not known yet (an id-only event not resolved).
func (t *tx) related(id, email string) ([]RelatedCase, error) {
	if email == "" {
		return nil, nil
	}
	rows, err := t.query(`SELECT id, state, reason, created_at, closed_at FROM cases
		WHERE email = ? AND id <> ? ORDER BY created_at DESC, id DESC LIMIT ?`, email, id, maxRelated)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RelatedCase
	for rows.Next() {
		var (
			r       RelatedCase
			created int64
			closed  sql.NullInt64
		)
		if err := rows.Scan(&r.ID, &r.State, &r.Reason, &created, &closed); err != nil {
			return nil, err
		}
		r.CreatedAt = fromMicros(created)
		if closed.Valid {
			at := fromMicros(closed.Int64)
			r.ClosedAt = &at
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// CaseRow returns a case without its Events, Entries or Audit: what the
// worker needs to act on it, in one query outside any transaction. A case
// that does not exist is ErrNotFound.
func (s *Store) CaseRow(ctx context.Context, id string) (*Case, error) {
	c, err := scanCase(s.queryRow(ctx, caseByID, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: get case %s: %w", id, err)
	}
	return &c, nil
}

// caseWithFirstEvent selects a case row and the first event recorded on it
// (by the order GetCase lists events in); the event columns are NULL for a
// case without events.
const caseWithFirstEvent = `SELECT c.id, c.email, c.subject_ids, c.reason, c.state, c.dry_run, c.systems,
	c.effective_at, c.created_at, c.updated_at, c.closed_at, c.closed_reason, c.security,
	e.source, e.event_id, e.type, e.reason, e.received_at, e.request_id
	FROM cases c LEFT JOIN events e ON e.case_id = c.id
	WHERE c.id = ? ORDER BY e.received_at, e.source, e.event_id LIMIT 1`

// CaseWithFirstEvent returns a case row (without Events, Entries or Audit)
// and the first event recorded on it, in one query: what the worker needs to
// resolve an id-only subject through the sender that sent it. The event is
// nil for a case without events. A case that does not exist is ErrNotFound.
func (s *Store) CaseWithFirstEvent(ctx context.Context, id string) (*Case, *EventRecord, error) {
	var (
		source, eventID, typ, reason, requestID sql.NullString
		received                                sql.NullInt64
	)
	row := s.queryRow(ctx, caseWithFirstEvent, id)
	c, err := scanCase(tailScanner{row, []any{&source, &eventID, &typ, &reason, &received, &requestID}})
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("store: get case %s: %w", id, err)
	}
	if !eventID.Valid {
		return &c, nil, nil
	}
	return &c, &EventRecord{Source: source.String, EventID: eventID.String, Type: typ.String,
		Reason: offboard.Reason(reason.String), ReceivedAt: fromMicros(received.Int64), RequestID: requestID.String}, nil
}

// tailScanner scans a row whose first columns a row scanner knows (a case)
// and whose last columns go to tail.
type tailScanner struct {
	r    scanner
	tail []any
}

func (t tailScanner) Scan(dest ...any) error { return t.r.Scan(append(dest, t.tail...)...) }

// queryRow runs a one-row query outside any transaction, through its
// prepared statement once there is one.
func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	q = s.rebind(q)
	if st := s.stmts.get(q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.db.QueryRowContext(ctx, q, args...)
}

func (t *tx) events(caseID string) ([]EventRecord, error) {
	rows, err := t.query(`SELECT source, event_id, type, reason, received_at, request_id
		FROM events WHERE case_id = ? ORDER BY received_at, source, event_id`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []EventRecord
	for rows.Next() {
		var e EventRecord
		var received int64
		if err := rows.Scan(&e.Source, &e.EventID, &e.Type, &e.Reason, &received, &e.RequestID); err != nil {
			return nil, err
		}
		e.ReceivedAt = fromMicros(received)
		out = append(out, e)
	}
	return out, rows.Err()
}

func (t *tx) caseAudit(caseID string) ([]AuditEntry, error) {
	rows, err := t.query("SELECT "+auditCols+" FROM audit WHERE case_id = ? ORDER BY seq", caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		a, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ListCases returns the cases that match f, newest first, each with its
// Entries (ordered by connector) but without Events or Audit. The email
// filter is compared after the same normalisation Ingest applies (trimmed,
// lower case). A Limit of 0 or less means 100; more than 1000 means 1000.
func (s *Store) ListCases(ctx context.Context, f CaseFilter) ([]Case, error) {
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = 100
	case limit > 1000:
		limit = 1000
	}
	q := "SELECT " + caseCols + " FROM cases WHERE 1 = 1"
	var args []any
	if f.Email != "" {
		q += " AND email = ?"
		args = append(args, normalEmail(f.Email))
	}
	if f.State != "" {
		q += " AND state = ?"
		args = append(args, f.State)
	}
	q += " ORDER BY created_at DESC, id DESC LIMIT ?"
	args = append(args, limit)

	out := []Case{}
	err := s.read(ctx, func(t *tx) error {
		rows, err := t.query(q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanCase(rows)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		return t.attachEntries(out)
	})
	if err != nil {
		return nil, fmt.Errorf("store: list cases: %w", err)
	}
	return out, nil
}

// attachEntries fills the Entries of cases with one query.
func (t *tx) attachEntries(cases []Case) error {
	if len(cases) == 0 {
		return nil
	}
	index := make(map[string]int, len(cases))
	ids := make([]any, len(cases))
	for i, c := range cases {
		index[c.ID] = i
		ids[i] = c.ID
	}
	rows, err := t.query("SELECT "+entryCols+" FROM entries WHERE case_id IN ("+
		placeholders(len(ids))+") ORDER BY case_id, connector", ids...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return err
		}
		c := &cases[index[e.CaseID]]
		c.Entries = append(c.Entries, e)
	}
	return rows.Err()
}

// normalEmail is the form emails are stored and compared in.
func normalEmail(s string) string {
	return strings.ToLower(strings.TrimSpace(clean(s)))
}
