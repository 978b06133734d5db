package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/offboarder/offboarder/internal/testenv"
)

// TestAWriteGivesUpWhenAnotherConnectionHoldsTheLock: with another
// connection holding what every write needs (SQLite's write lock; on
// PostgreSQL the audit head's row or the cases table), writes whose
// deadline passes give up their place in the committer and return the
// deadline's error, nothing of them is written, and the write probe fails;
// once the lock is released both succeed. The bound checked (deadline + 1
// s) guards correctness, not speed: before, such a write waited for
// SQLite's 10 s busy timeout, then again alone.
func TestAWriteGivesUpWhenAnotherConnectionHoldsTheLock(t *testing.T) {
	const deadline = 300 * time.Millisecond
	cases := []struct {
		name, dialect string
		table         bool
	}{
		{"sqlite write lock", dialectSQLite, false},
		{"postgres audit head row", dialectPostgres, false},
		{"postgres cases table", dialectPostgres, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := newDatabase(t, tc.dialect)
			s := openStore(t, u)
			lock := testenv.HoldWriteLock(t, u, tc.table)

			// Several at once, so that some are batched together.
			const n = 8
			errs := make([]error, n)
			took := make([]time.Duration, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					ctx, cancel := context.WithTimeout(t.Context(), deadline)
					defer cancel()
					start := time.Now()
					_, errs[i] = s.Ingest(ctx, event(fmt.Sprintf("e%d", i), fmt.Sprintf("u%d@example.com", i)))
					took[i] = time.Since(start)
				})
			}
			wg.Wait()
			for i := range n {
				if !errors.Is(errs[i], context.DeadlineExceeded) {
					t.Errorf("ingest %d under the lock: err = %v, want the deadline's", i, errs[i])
				}
				if took[i] > deadline+time.Second {
					t.Errorf("ingest %d under the lock returned after %v, past its deadline %v", i, took[i], deadline)
				}
			}
			pctx, cancel := context.WithTimeout(t.Context(), deadline)
			if err := s.ProbeWrite(pctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("probe under the lock: err = %v, want the deadline's", err)
			}
			cancel()

			lock.Release(t)
			if c := count(t, s, "SELECT COUNT(*) FROM events"); c != 0 {
				t.Errorf("%d events written by writes that gave up", c)
			}
			if c := count(t, s, "SELECT COUNT(*) FROM cases"); c != 0 {
				t.Errorf("%d cases written by writes that gave up", c)
			}
			if err := s.ProbeWrite(t.Context()); err != nil {
				t.Errorf("probe after release: %v", err)
			}
			for i := range n {
				if _, err := s.Ingest(t.Context(), event(fmt.Sprintf("e%d", i), fmt.Sprintf("u%d@example.com", i))); err != nil {
					t.Errorf("ingest %d after release: %v", i, err)
				}
			}
			if c := count(t, s, "SELECT COUNT(*) FROM cases"); c != n {
				t.Errorf("%d cases after release, want %d", c, n)
			}
			verify(t, s)
		})
	}
}
