package store

import (
	"context"
	"fmt"
	"time"

	"github.com/offboarder/offboarder/offboard"
)

// CasePage asks PageCases for one page of cases. Zero values match
// everything.
type CasePage struct {
	Email  string         // compared after normalisation, as ListCases does
	State  offboard.State // one state
	Source string         // cases with at least one event from this source
	From   time.Time      // created at or after
	To     time.Time      // created before
	Offset int            // cases to pass over, newest first
	Limit  int            // 0 means 100; at most 1000
}

// PageCases returns one page of the cases that match p, newest first, each
// with its Entries (ordered by connector) but without Events or Audit, and
// whether more cases follow the page. It reads Limit+1 rows to know.
func (s *Store) PageCases(ctx context.Context, p CasePage) ([]Case, bool, error) {
	limit := p.Limit
	switch {
	case limit <= 0:
		limit = 100
	case limit > 1000:
		limit = 1000
	}
	q := "SELECT " + caseCols + " FROM cases WHERE 1 = 1"
	var args []any
	if p.Email != "" {
		q += " AND email = ?"
		args = append(args, normalEmail(p.Email))
	}
	switch p.State {
	case "":
	case offboard.StateCompleted:
		// Most cases end completed: walking the creation index finds a
		// page of them sooner than the state index, whose every match
		// would be sorted first ("|| ''" keeps the planner off it).
		q += " AND state || '' = ?"
		args = append(args, p.State)
	default:
		q += " AND state = ?"
		args = append(args, p.State)
	}
	if p.Source != "" {
		// Per case, through the events' case index: "|| ''" keeps the
		// planner off the events_source_received index, which would start
		// from every event of the source and sort their cases.
		q += " AND EXISTS (SELECT 1 FROM events e WHERE e.case_id = cases.id AND e.source || '' = ?)"
		args = append(args, p.Source)
	}
	if !p.From.IsZero() {
		q += " AND created_at >= ?"
		args = append(args, micros(p.From))
	}
	if !p.To.IsZero() {
		q += " AND created_at < ?"
		args = append(args, micros(p.To))
	}
	// Newest first, ties (cases opened in one group commit share their
	// time) broken by a unique key that the created_at index carries
	// along on SQLite (its rowid), so that the index gives the order and
	// the scan stops at the page instead of sorting every match.
	if s.dialect == dialectSQLite {
		q += " ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?"
	} else {
		q += " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"
	}
	args = append(args, limit+1, max(p.Offset, 0))

	out := []Case{}
	more := false
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
		if more = len(out) > limit; more {
			out = out[:limit]
		}
		return t.attachEntries(out)
	})
	if err != nil {
		return nil, false, fmt.Errorf("store: page cases: %w", err)
	}
	return out, more, nil
}

// RevokeTime is one system's time to revoke on one day: over the entries
// created that day (UTC) that ended by an API's answer (verified,
// acknowledged or not_found), how many there were and the mean and the
// longest time from the entry's creation to its outcome.
type RevokeTime struct {
	Connector string
	Day       time.Time // midnight UTC
	Count     int
	Mean      time.Duration
	Max       time.Duration
}

// revokeTimes groups the entries an API ended by connector and UTC day.
// Integer division is the same on SQLite and PostgreSQL for BIGINT.
const revokeTimes = `SELECT connector, created_at / 86400000000 AS day, COUNT(*),
	CAST(AVG(finished_at - created_at) AS BIGINT), MAX(finished_at - created_at)
	FROM entries
	WHERE created_at >= ? AND finished_at IS NOT NULL AND outcome IN (?, ?, ?)
	GROUP BY connector, created_at / 86400000000
	ORDER BY connector, day`

// RevokeTimes returns each system's time to revoke per UTC day for the
// entries created at or after since, ordered by connector and day. Manual
// steps and failures are left out: their time is a person's, not a
// system's.
func (s *Store) RevokeTimes(ctx context.Context, since time.Time) ([]RevokeTime, error) {
	var out []RevokeTime
	err := s.read(ctx, func(t *tx) error {
		rows, err := t.query(revokeTimes, micros(since), offboard.Verified, offboard.Acknowledged, offboard.NotFound)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				r              RevokeTime
				day, mean, top int64
			)
			if err := rows.Scan(&r.Connector, &day, &r.Count, &mean, &top); err != nil {
				return err
			}
			r.Day = time.Unix(day*86400, 0).UTC()
			r.Mean = time.Duration(mean) * time.Microsecond
			r.Max = time.Duration(top) * time.Microsecond
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: revoke times: %w", err)
	}
	return out, nil
}
