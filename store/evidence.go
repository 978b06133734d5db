package store

import (
	"context"
	"fmt"
	"time"

	"github.com/offboarder/offboarder/offboard"
)

// Attempt is one call of a connector for a case: when, how long, the
// vendor's answer and what it led to.
type Attempt struct {
	CaseID    string        `json:"-"`
	Connector string        `json:"connector"`
	N         int           `json:"n"` // 1 for the first attempt
	StartedAt time.Time     `json:"started_at"`
	Duration  time.Duration `json:"-"`
	// DurationMS is Duration in milliseconds, as the evidence shows it.
	DurationMS float64 `json:"duration_ms"`
	// StatusCode is the vendor's HTTP status: 200 when the connector gave
	// an outcome, the status of its error otherwise, 0 without an answer.
	StatusCode int `json:"status_code"`
	// Result is the outcome the attempt gave, or "retry" (a retryable
	// error) or "failed" (a permanent one).
	Result string `json:"result"`
	Error  string `json:"error,omitempty"`
}

// Evidence is everything offboarder holds on one case, for an auditor: the
// case with its events, entries, related cases and audit rows (each with
// its hash and the hash before it), every attempt, and the head of the
// whole audit chain when the document was made — the rows of the case are
// in the chain that head commits to (GET /v1/audit/verify checks it).
type Evidence struct {
	GeneratedAt time.Time `json:"generated_at"`
	Case        *Case     `json:"case"`
	Attempts    []Attempt `json:"attempts"`
	AuditHead   AuditHead `json:"audit_head"`
}

// maxAttemptError bounds the error text kept on an attempt, in characters.
const maxAttemptError = 500

// RecordAttempt keeps one attempt (see Attempt) that ends neither in an
// outcome nor in a retry (a call cut off by a shutdown). Recording the
// same attempt (case, connector, n) again changes nothing. It writes no
// audit row: the entry's outcome and retries are audited.
func (s *Store) RecordAttempt(ctx context.Context, a Attempt) error {
	err := s.write(ctx, a.CaseID, func(t *tx) error { return t.insertAttempt(&a) })
	if err != nil {
		return fmt.Errorf("store: record attempt %s/%s: %w", a.CaseID, a.Connector, err)
	}
	return nil
}

// RecordAttemptOutcome is RecordOutcome for a.CaseID and a.Connector that
// keeps the attempt a in the same transaction: the outcome and the attempt
// that gave it are committed together, in one commit.
func (s *Store) RecordAttemptOutcome(ctx context.Context, a Attempt, outcome offboard.Outcome, detail string) (Entry, error) {
	return s.recordOutcome(ctx, a.CaseID, a.Connector, outcome, detail, &a)
}

// RecordAttemptRetry is RecordRetry for a.CaseID and a.Connector that keeps
// the attempt a in the same transaction and notes when the next attempt is
// due (next_attempt_at; zero: unknown, NULL).
func (s *Store) RecordAttemptRetry(ctx context.Context, a Attempt, errText string, next time.Time) error {
	return s.recordRetry(ctx, a.CaseID, a.Connector, errText, &a, next)
}

// insertAttempt keeps a; nothing for nil, and nothing for an attempt kept before.
func (t *tx) insertAttempt(a *Attempt) error {
	if a == nil {
		return nil
	}
	_, err := t.exec(`INSERT INTO attempts
		(case_id, connector, n, started_at, duration_us, status_code, result, error)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (case_id, connector, n) DO NOTHING`,
		a.CaseID, clean(a.Connector), a.N, micros(a.StartedAt), a.Duration.Microseconds(),
		a.StatusCode, clean(a.Result), truncate(clean(a.Error), maxAttemptError))
	return err
}

// Evidence returns the evidence of one case, read from one snapshot.
// A case that does not exist is ErrNotFound.
func (s *Store) Evidence(ctx context.Context, id string) (*Evidence, error) {
	var ev *Evidence
	err := s.read(ctx, func(t *tx) error {
		var err error
		ev, err = t.evidence(id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: evidence %s: %w", id, err)
	}
	return ev, nil
}

// EvidenceCreated returns the evidence of the cases created in [since,
// until), oldest first, at most limit (0 or less: 100; at most 1000) after
// the case after ("" from the start), and the id to pass as after for the
// next page ("" when there is none). One snapshot per page.
func (s *Store) EvidenceCreated(ctx context.Context, since, until time.Time, after string, limit int) ([]Evidence, string, error) {
	switch {
	case limit <= 0:
		limit = 100
	case limit > 1000:
		limit = 1000
	}
	out := []Evidence{}
	next := ""
	err := s.read(ctx, func(t *tx) error {
		q := "SELECT id FROM cases WHERE created_at >= ? AND created_at < ?"
		args := []any{micros(since), micros(until)}
		if after != "" {
			var at int64
			if err := t.queryRow("SELECT created_at FROM cases WHERE id = ?", after).Scan(&at); err != nil {
				return fmt.Errorf("after %q: %w", after, ErrNotFound)
			}
			q += " AND (created_at > ? OR (created_at = ? AND id > ?))"
			args = append(args, at, at, after)
		}
		rows, err := t.query(q+" ORDER BY created_at, id LIMIT ?", append(args, limit+1)...)
		if err != nil {
			return err
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ids) > limit {
			ids = ids[:limit]
			next = ids[limit-1]
		}
		for _, id := range ids {
			ev, err := t.evidence(id)
			if err != nil {
				return err
			}
			out = append(out, *ev)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("store: evidence created: %w", err)
	}
	return out, next, nil
}

// evidence reads one case's evidence inside t.
func (t *tx) evidence(id string) (*Evidence, error) {
	c, err := t.getCase(id, false)
	if err != nil {
		return nil, err
	}
	if c.Entries, err = t.entries(id); err != nil {
		return nil, err
	}
	if c.Events, err = t.events(id); err != nil {
		return nil, err
	}
	if c.Related, err = t.related(c.ID, c.Email); err != nil {
		return nil, err
	}
	if c.Audit, err = t.caseAudit(id); err != nil {
		return nil, err
	}
	ev := &Evidence{GeneratedAt: time.Now().UTC(), Case: &c}
	if ev.Attempts, err = t.attempts(id); err != nil {
		return nil, err
	}
	err = t.queryRow("SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&ev.AuditHead.Seq, &ev.AuditHead.Hash)
	return ev, err
}

func (t *tx) attempts(caseID string) ([]Attempt, error) {
	rows, err := t.query(`SELECT connector, n, started_at, duration_us, status_code, result, error
		FROM attempts WHERE case_id = ? ORDER BY started_at, connector, n`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Attempt{}
	for rows.Next() {
		a := Attempt{CaseID: caseID}
		var started, dur int64
		if err := rows.Scan(&a.Connector, &a.N, &started, &dur, &a.StatusCode, &a.Result, &a.Error); err != nil {
			return nil, err
		}
		a.StartedAt = fromMicros(started)
		a.Duration = time.Duration(dur) * time.Microsecond
		a.DurationMS = float64(dur) / 1000
		out = append(out, a)
	}
	return out, rows.Err()
}
