package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
)

// waitPrepared waits until s holds at least n prepared statements.
func waitPrepared(t *testing.T, s *Store, n int32) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.stmts.n.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d statements prepared after 10 s, want at least %d", s.stmts.n.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSQLiteStatementsArePreparedAndReused(t *testing.T) {
	for _, url := range []string{"sqlite:" + t.TempDir() + "/o.db", ":memory:"} {
		t.Run(url, func(t *testing.T) {
			s := openStore(t, url)
			ctx := t.Context()
			// A case's whole store traffic, from several goroutines at once:
			// on ":memory:" the only connection is busy most of the time,
			// and the statements are still prepared in between.
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for g := range 8 {
				wg.Go(func() {
					for i := range 5 {
						if err := oneCase(ctx, s, int64(g*100+i), []string{"a", "b"}); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			waitPrepared(t, s, 10)
			if s.stmts.get(caseByID) == nil {
				t.Error("the case row query, run 80 times, is not prepared")
			}
			// Prepared statements give the same answers.
			if err := oneCase(ctx, s, 999, []string{"a", "b"}); err != nil {
				t.Fatal(err)
			}
			cs, err := s.ListCases(ctx, CaseFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) != 41 {
				t.Fatalf("%d cases, want 41", len(cs))
			}
			for _, c := range cs {
				if c.State != offboard.StateCompleted {
					t.Errorf("case %s is %s, want completed", c.ID, c.State)
				}
			}
			if _, err := s.VerifyAudit(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestPostgreSQLLeavesStatementsToPgx(t *testing.T) {
	s := newStore(t, dialectPostgres)
	if s.stmts != nil {
		t.Fatal("a PostgreSQL store keeps prepared statements of its own; pgx caches them per connection")
	}
	if err := oneCase(t.Context(), s, 1, []string{"a"}); err != nil {
		t.Fatal(err)
	}
}

func TestStatementCacheIsBounded(t *testing.T) {
	s := openStore(t, ":memory:")
	for i := range maxStmts + 50 {
		q := fmt.Sprintf("SELECT %d", i)
		s.stmts.get(q)
		// Wait for each, so that the queue never overflows.
		deadline := time.Now().Add(5 * time.Second)
		for i < maxStmts && s.stmts.get(q) == nil && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if n := s.stmts.n.Load(); n != maxStmts {
		t.Errorf("%d statements kept, want %d", n, maxStmts)
	}
	var one int
	if err := s.read(context.Background(), func(t *tx) error { return t.queryRow("SELECT 1 + ?", 0).Scan(&one) }); err != nil || one != 1 {
		t.Errorf("a statement beyond the bound = %d, %v; want it run unprepared", one, err)
	}
}

func TestCloseTwiceWithPreparedStatements(t *testing.T) {
	s, err := Open(context.Background(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	if err := oneCase(t.Context(), s, 1, []string{"a"}); err != nil {
		t.Fatal(err)
	}
	waitPrepared(t, s, 1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_ = s.Close() // harmless; must not panic
}
