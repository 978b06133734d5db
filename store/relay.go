package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/offboarder/offboarder/offboard"
)

// StillDue re-reads work that Due listed and keeps what is still due now
// and unchanged since settled: a case still scheduled or pending (with its
// effective time and Security as they stand now: a case brought forward has
// a new effective time, one a security event reached a new queue),
// an entry still pending in a case still in progress. The relay calls it
// after it found no live task for the work in Redis, so that a task which
// ended after Due's read (its outcome recorded before its end) is not
// queued again; settled leaves alone rows written a moment ago, whose
// writer is still enqueueing their task.
func (s *Store) StillDue(ctx context.Context, cases []DueCase, entries []EntryRef, settled time.Time) ([]DueCase, []EntryRef, error) {
	var outCases []DueCase
	var outRefs []EntryRef
	err := s.read(ctx, func(t *tx) error {
		outCases, outRefs = nil, nil
		for _, c := range cases {
			var eff int64
			var security int
			err := t.queryRow(`SELECT effective_at, security FROM cases
				WHERE id = ? AND state IN (?, ?) AND updated_at <= ?`,
				c.CaseID, offboard.StateScheduled, offboard.StatePending, micros(settled)).Scan(&eff, &security)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			outCases = append(outCases, DueCase{CaseID: c.CaseID, EffectiveAt: fromMicros(eff), Security: security != 0})
		}
		for _, e := range entries {
			var one int
			err := t.queryRow(`SELECT 1 FROM entries e JOIN cases c ON c.id = e.case_id
				WHERE e.case_id = ? AND e.connector = ? AND e.outcome = ? AND c.state = ?
				AND e.updated_at <= ?`,
				e.CaseID, e.Connector, offboard.Pending, offboard.StateInProgress, micros(settled)).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			outRefs = append(outRefs, e)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: still due: %w", err)
	}
	return outCases, outRefs, nil
}
