package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/offboarder/offboarder/offboard"
)

// CountCases returns how many cases are in each state, read from one
// snapshot: a scan of the cases (state, effective_at) index, cheap enough
// for every metrics scrape. Every state in offboard.States is in the map,
// with 0 where no case is in it; a state the store holds that offboard does
// not declare is counted under its own word.
func (s *Store) CountCases(ctx context.Context) (map[offboard.State]int64, error) {
	out := make(map[offboard.State]int64, len(offboard.States))
	for _, st := range offboard.States {
		out[st] = 0
	}
	err := s.read(ctx, func(t *tx) error {
		rows, err := t.query("SELECT state, COUNT(*) FROM cases GROUP BY state")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var st offboard.State
			var n int64
			if err := rows.Scan(&st, &n); err != nil {
				return err
			}
			out[st] = n
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: count cases: %w", err)
	}
	return out, nil
}

// OldestManual returns when the oldest open manual step (an entry whose
// outcome is manual_required) was created, and false when there is none.
// It reads the entries_manual index only.
func (s *Store) OldestManual(ctx context.Context) (time.Time, bool, error) {
	var v sql.NullInt64
	err := s.read(ctx, func(t *tx) error {
		rows, err := t.query("SELECT MIN(created_at) FROM entries WHERE outcome = ?", offboard.ManualRequired)
		if err != nil {
			return err
		}
		defer rows.Close()
		if rows.Next() {
			if err := rows.Scan(&v); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: oldest manual step: %w", err)
	}
	if !v.Valid {
		return time.Time{}, false, nil
	}
	return fromMicros(v.Int64), true, nil
}
