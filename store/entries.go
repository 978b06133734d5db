package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/offboarder/offboarder/offboard"
)

// workerActor is the audit actor of what the worker records on entries.
const workerActor = "worker"

// Bounds on error text kept on an entry (last_error) and in audit details, in characters.
const (
	maxLastError   = 2000
	maxAuditDetail = 500
)

const entryCols = "case_id, connector, outcome, attempts, last_error, detail, created_at, updated_at, started_at, finished_at, next_attempt_at"

func scanEntry(r scanner) (Entry, error) {
	var e Entry
	var created, updated int64
	var started, finished, next sql.NullInt64
	err := r.Scan(&e.CaseID, &e.Connector, &e.Outcome, &e.Attempts, &e.LastError, &e.Detail,
		&created, &updated, &started, &finished, &next)
	e.CreatedAt = fromMicros(created)
	e.UpdatedAt = fromMicros(updated)
	e.StartedAt = fromNullMicros(started)
	e.FinishedAt = fromNullMicros(finished)
	e.NextAttemptAt = fromNullMicros(next)
	return e, err
}

// getEntry reads one entry; a missing one is ErrNotFound.
func (t *tx) getEntry(caseID, connector string, lock bool) (Entry, error) {
	q := "SELECT " + entryCols + " FROM entries WHERE case_id = ? AND connector = ?"
	if lock {
		q += t.forUpdate()
	}
	e, err := scanEntry(t.queryRow(q, caseID, connector))
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, ErrNotFound
	}
	return e, err
}

// FanOut creates one entry per connector with the given initial outcome ("pending", or
// "skipped" for dry runs / policy), idempotently (existing entries are left as they are),
// moves the case to in_progress, or straight to completed/needs_attention if every entry is
// already final (also when entries is empty); audit "case.fanned_out" (detail: JSON with the
// connectors whose entries it created), written only when it created an entry or moved the
// case. Only for a case in scheduled|pending|in_progress: on a closed or held (awaiting_approval) case it changes
// nothing and returns the case as it is, so a re-run offboard task is harmless. Returns the
// case with its entries. ErrNotFound if no case; an empty connector name or outcome is an error.
func (s *Store) FanOut(ctx context.Context, caseID string, entries map[string]offboard.Outcome, actor string) (*Case, error) {
	plans := make(map[string]Plan, len(entries))
	for name, o := range entries {
		plans[name] = Plan{Outcome: o}
	}
	return s.FanOutPlans(ctx, caseID, plans, actor)
}

// Plan is what FanOutPlans creates an entry with: its initial outcome and
// a detail for a person (why a step is skipped: "policy: not run for
// reason suspended").
type Plan struct {
	Outcome offboard.Outcome
	Detail  string
}

// FanOutPlans is FanOut with a detail per entry.
func (s *Store) FanOutPlans(ctx context.Context, caseID string, entries map[string]Plan, actor string) (*Case, error) {
	names := make([]string, 0, len(entries))
	for name, p := range entries {
		if name == "" || p.Outcome == "" {
			return nil, fmt.Errorf("store: fan out %s: empty connector name or outcome", caseID)
		}
		names = append(names, name)
	}
	sort.Strings(names)

	var c Case
	err := s.write(ctx, caseID, func(t *tx) error {
		var err error
		if c, err = t.getCase(caseID, true); err != nil {
			return err
		}
		if IsOpen(c.State) && c.State != offboard.StateAwaitingApproval {
			// One INSERT for every entry: each row costs a round trip on
			// PostgreSQL otherwise. RETURNING names the rows it created.
			var (
				values strings.Builder
				args   = make([]any, 0, 7*len(names))
			)
			for i, name := range names {
				outcome := clean(entries[name].Outcome)
				var finished any
				if outcome != offboard.Pending {
					finished = micros(t.now)
				}
				if i > 0 {
					values.WriteString(", ")
				}
				values.WriteString("(?, ?, ?, 0, '', ?, ?, ?, ?)")
				args = append(args, caseID, clean(name), outcome, clean(entries[name].Detail), micros(t.now), micros(t.now), finished)
			}
			created := []string{}
			if len(names) > 0 {
				rows, err := t.query(`INSERT INTO entries
					(case_id, connector, outcome, attempts, last_error, detail, created_at, updated_at, finished_at)
					VALUES `+values.String()+`
					ON CONFLICT (case_id, connector) DO NOTHING
					RETURNING connector`, args...)
				if err != nil {
					return err
				}
				for rows.Next() {
					var name string
					if err := rows.Scan(&name); err != nil {
						rows.Close()
						return err
					}
					created = append(created, name)
				}
				if err := rows.Close(); err != nil {
					return err
				}
				if err := rows.Err(); err != nil {
					return err
				}
				sort.Strings(created) // RETURNING promises no order
			}
			if len(created) > 0 || c.State != offboard.StateInProgress {
				b, _ := json.Marshal(map[string][]string{"connectors": created})
				t.audit(caseID, "", actionFannedOut, actor, string(b))
			}
			if err := t.settle(&c, actor); err != nil {
				return err
			}
		}
		c.Entries, err = t.entries(caseID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: fan out %s: %w", caseID, err)
	}
	return &c, nil
}

// settle sets the state of the open case c from its entries: in_progress
// while any is pending; otherwise closed — needs_attention if any is failed
// or manual_required, or if every entry is not_found (no connected system
// knows the address: a mistyped one, most likely; closed_reason
// NobodyFound), else completed — with closed_at and a "case.closed" audit
// row. c is updated in place.
func (t *tx) settle(c *Case, actor string) error {
	n, err := t.tally(c.ID)
	if err != nil {
		return err
	}
	if n.pending > 0 {
		if c.State == offboard.StateInProgress {
			return nil
		}
		c.State, c.UpdatedAt = offboard.StateInProgress, t.now
		_, err := t.exec("UPDATE cases SET state = ?, updated_at = ? WHERE id = ?",
			c.State, micros(t.now), c.ID)
		return err
	}
	c.State, c.ClosedReason = offboard.StateCompleted, ""
	switch {
	case n.attention > 0:
		c.State = offboard.StateNeedsAttention
	case n.all > 0 && n.notFound == n.all:
		c.State, c.ClosedReason = offboard.StateNeedsAttention, NobodyFound
	}
	closed := t.now
	c.UpdatedAt, c.ClosedAt = t.now, &closed
	if _, err := t.exec("UPDATE cases SET state = ?, updated_at = ?, closed_at = ?, closed_reason = ? WHERE id = ?",
		c.State, micros(t.now), micros(t.now), c.ClosedReason, c.ID); err != nil {
		return err
	}
	d := map[string]string{"state": string(c.State)}
	if c.ClosedReason != "" {
		d["reason"] = c.ClosedReason
	}
	b, _ := json.Marshal(d)
	t.audit(c.ID, "", actionCaseClosed, actor, string(b))
	return nil
}

// NobodyFound is the closed_reason of a case whose every entry is
// not_found: it is needs_attention, for the address is most likely wrong.
const NobodyFound = "no connected system knows this address"

// tallies counts the entries of a case.
type tallies struct {
	pending   int // pending
	attention int // failed or manual_required: a person is needed
	notFound  int // not_found
	all       int
}

// tally counts the entries of a case by what settle needs to know.
func (t *tx) tally(caseID string) (tallies, error) {
	var n tallies
	err := t.queryRow(`SELECT
		COALESCE(SUM(CASE WHEN outcome = ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN outcome IN (?, ?) THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN outcome = ? THEN 1 ELSE 0 END), 0),
		COUNT(*)
		FROM entries WHERE case_id = ?`,
		offboard.Pending, offboard.Failed, offboard.ManualRequired, offboard.NotFound, caseID).
		Scan(&n.pending, &n.attention, &n.notFound, &n.all)
	return n, err
}

// BeginAttempt increments attempts, sets started_at (first time) and updated_at and clears
// next_attempt_at on a
// pending entry and returns it, with its case's row (without events, entries or audit):
// what a revoke needs, in one transaction. On a final entry it changes nothing and returns
// it as is. ErrNotFound if the case or the entry does not exist. It writes no audit row.
func (s *Store) BeginAttempt(ctx context.Context, caseID, connector string) (Entry, *Case, error) {
	var (
		e Entry
		c Case
	)
	err := s.write(ctx, caseID, func(t *tx) error {
		var err error
		if c, err = t.getCase(caseID, false); err != nil {
			return fmt.Errorf("case: %w", err)
		}
		e, err = scanEntry(t.queryRow(`UPDATE entries
			SET attempts = attempts + 1, started_at = COALESCE(started_at, ?), updated_at = ?, next_attempt_at = NULL
			WHERE case_id = ? AND connector = ? AND outcome = ?
			RETURNING `+entryCols,
			micros(t.now), micros(t.now), caseID, connector, offboard.Pending))
		if errors.Is(err, sql.ErrNoRows) {
			e, err = t.getEntry(caseID, connector, false)
		}
		if err != nil {
			return fmt.Errorf("entry: %w", err)
		}
		return nil
	})
	if err != nil {
		return Entry{}, nil, fmt.Errorf("store: begin attempt %s/%s: %w", caseID, connector, err)
	}
	return e, &c, nil
}

// RecordRetry notes a retryable failure: last_error, updated_at; audit "entry.retry" (detail: the error text, truncated to 500 chars).
// last_error keeps at most 2000 characters. On a final entry it changes
// nothing and returns nil; ErrNotFound if the entry does not exist.
func (s *Store) RecordRetry(ctx context.Context, caseID, connector, errText string) error {
	return s.recordRetry(ctx, caseID, connector, errText, nil, time.Time{})
}

// recordRetry is RecordRetry that also keeps attempt a, when not nil, in
// the same transaction, and sets next_attempt_at to next (NULL when zero).
func (s *Store) recordRetry(ctx context.Context, caseID, connector, errText string, a *Attempt, next time.Time) error {
	errText = clean(errText)
	err := s.write(ctx, caseID, func(t *tx) error {
		if err := t.insertAttempt(a); err != nil {
			return err
		}
		var nextAt sql.NullInt64
		if !next.IsZero() {
			nextAt = sql.NullInt64{Int64: micros(next), Valid: true}
		}
		res, err := t.exec(`UPDATE entries SET last_error = ?, updated_at = ?, next_attempt_at = ?
			WHERE case_id = ? AND connector = ? AND outcome = ?`,
			truncate(errText, maxLastError), micros(t.now), nextAt, caseID, connector, offboard.Pending)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			_, err := t.getEntry(caseID, connector, false)
			return err // nil for a final entry: nothing to note
		}
		t.audit(caseID, connector, actionEntryRetry, workerActor, truncate(errText, maxAuditDetail))
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: record retry %s/%s: %w", caseID, connector, err)
	}
	return nil
}

// RecordOutcome sets a final outcome on a pending entry (finished_at; last_error=detail
// when outcome is failed, else detail=detail: what the connector said it ended); audit "entry.outcome" (detail JSON: outcome, attempts, error —
// or, for other outcomes, a non-empty detail — truncated to 500 chars).
// Idempotent: on an entry already final it changes nothing and returns the existing entry.
// When every entry of the case is final, closes the case in the same transaction:
// state needs_attention if any entry is failed or manual_required, else completed; closed_at;
// audit "case.closed". outcome must be final (not "" or "pending"); ErrNotFound if the
// entry does not exist.
func (s *Store) RecordOutcome(ctx context.Context, caseID, connector string, outcome offboard.Outcome, detail string) (Entry, error) {
	return s.recordOutcome(ctx, caseID, connector, outcome, detail, nil)
}

// recordOutcome is RecordOutcome that also keeps attempt a, when not nil,
// in the same transaction.
func (s *Store) recordOutcome(ctx context.Context, caseID, connector string, outcome offboard.Outcome, detail string, a *Attempt) (Entry, error) {
	if outcome == "" || outcome == offboard.Pending {
		return Entry{}, fmt.Errorf("store: record outcome %s/%s: %q is not a final outcome", caseID, connector, outcome)
	}
	outcome, detail = clean(outcome), clean(detail)
	var e Entry
	err := s.write(ctx, caseID, func(t *tx) error {
		// The case row lock serialises outcomes of one case, so that the
		// last of two concurrent outcomes sees the other and closes the case.
		c, err := t.getCase(caseID, true)
		if err != nil {
			return err
		}
		if err := t.insertAttempt(a); err != nil {
			return err
		}
		// The entry is updated only while pending, and read back in the
		// same statement; an entry already final is returned as it is.
		q := `UPDATE entries SET outcome = ?, updated_at = ?, finished_at = ?, detail = ?, next_attempt_at = NULL
			WHERE case_id = ? AND connector = ? AND outcome = ?
			RETURNING ` + entryCols
		args := []any{outcome, micros(t.now), micros(t.now), truncate(detail, maxLastError), caseID, connector, offboard.Pending}
		if outcome == offboard.Failed {
			q = `UPDATE entries SET outcome = ?, updated_at = ?, finished_at = ?, last_error = ?, next_attempt_at = NULL
			WHERE case_id = ? AND connector = ? AND outcome = ?
			RETURNING ` + entryCols
			args = []any{outcome, micros(t.now), micros(t.now), truncate(detail, maxLastError), caseID, connector, offboard.Pending}
		}
		e, err = scanEntry(t.queryRow(q, args...))
		if errors.Is(err, sql.ErrNoRows) {
			e, err = t.getEntry(caseID, connector, false)
			return err // final already (nil), or ErrNotFound
		}
		if err != nil {
			return err
		}
		d := struct {
			Outcome  offboard.Outcome `json:"outcome"`
			Attempts int              `json:"attempts"`
			Error    string           `json:"error,omitempty"`
			Detail   string           `json:"detail,omitempty"`
		}{Outcome: outcome, Attempts: e.Attempts}
		if outcome == offboard.Failed {
			d.Error = truncate(detail, maxAuditDetail)
		} else {
			d.Detail = truncate(detail, maxAuditDetail)
		}
		b, _ := json.Marshal(d)
		t.audit(caseID, connector, actionEntryOutcome, workerActor, string(b))
		if !IsOpen(c.State) {
			return nil
		}
		return t.settle(&c, workerActor)
	})
	if err != nil {
		return Entry{}, fmt.Errorf("store: record outcome %s/%s: %w", caseID, connector, err)
	}
	return e, nil
}

// Due lists work the relay must make sure is queued: cases in scheduled|pending (their
// effective_at; scheduled ones too, for a task that waits until then) and pending entries of
// in_progress cases; at most limit of each (0 or less means 100), oldest first (cases by
// effective_at, entries by creation); each with its case's Security, which names its queue.
func (s *Store) Due(ctx context.Context, limit int) ([]DueCase, []EntryRef, error) {
	if limit <= 0 {
		limit = 100
	}
	var cases []DueCase
	var refs []EntryRef
	err := s.read(ctx, func(t *tx) error {
		rows, err := t.query(`SELECT id, effective_at, security FROM cases
			WHERE state IN (?, ?) ORDER BY effective_at, id LIMIT ?`,
			offboard.StateScheduled, offboard.StatePending, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d DueCase
			var eff int64
			var security int
			if err := rows.Scan(&d.CaseID, &eff, &security); err != nil {
				return err
			}
			d.EffectiveAt, d.Security = fromMicros(eff), security != 0
			cases = append(cases, d)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()

		rows, err = t.query(`SELECT e.case_id, e.connector, c.security FROM entries e
			JOIN cases c ON c.id = e.case_id
			WHERE e.outcome = ? AND c.state = ?
			ORDER BY e.created_at, e.case_id, e.connector LIMIT ?`,
			offboard.Pending, offboard.StateInProgress, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r EntryRef
			var security int
			if err := rows.Scan(&r.CaseID, &r.Connector, &security); err != nil {
				return err
			}
			r.Security = security != 0
			refs = append(refs, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: due: %w", err)
	}
	return cases, refs, nil
}
