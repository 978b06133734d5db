package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// putState is a write that records source_state (hr, key) = value.
func putState(key, value string) func(*tx) error {
	return func(t *tx) error {
		_, err := t.exec(`INSERT INTO source_state (source, key, value, updated_at) VALUES ('hr', ?, ?, ?)`,
			key, value, micros(t.now))
		if err == nil {
			t.audit("", "", "test.put", "test", key)
		}
		return err
	}
}

// runBatchOf hands writes to commitBatch as one batch, as the committer
// does, and returns each write's answer.
func runBatchOf(s *Store, ctxs []context.Context, fns ...func(*tx) error) []error {
	batch := make([]*write, len(fns))
	for i, fn := range fns {
		ctx := context.Background()
		if ctxs != nil && ctxs[i] != nil {
			ctx = ctxs[i]
		}
		batch[i] = &write{ctx: ctx, fn: fn, done: make(chan error, 1)}
	}
	s.commitBatch(batch)
	errs := make([]error, len(fns))
	for i, w := range batch {
		errs[i] = <-w.done
	}
	return errs
}

func wantState(t *testing.T, s *Store, key string, want bool) {
	t.Helper()
	_, ok, err := s.SourceState(t.Context(), "hr", key)
	if err != nil {
		t.Fatal(err)
	}
	if ok != want {
		t.Errorf("source_state %q present = %v, want %v", key, ok, want)
	}
}

func TestGroupCommit(t *testing.T) {
	runStoreTests(t, []storeTest{
		{"a failing write in a batch is rolled back alone and the others commit", func(t *testing.T, s *Store) {
			boom := errors.New("boom")
			errs := runBatchOf(s, nil,
				putState("a", "1"),
				func(t *tx) error {
					if err := putState("b", "2")(t); err != nil {
						return err
					}
					return boom // after writing: the write must vanish
				},
				putState("c", "3"),
			)
			if errs[0] != nil || !errors.Is(errs[1], boom) || errs[2] != nil {
				t.Fatalf("answers: %v", errs)
			}
			wantState(t, s, "a", true)
			wantState(t, s, "b", false)
			wantState(t, s, "c", true)
			if batches, writes, _ := s.CommitStats(); batches != 1 || writes != 3 {
				t.Errorf("CommitStats = %d batches, %d writes; want 1, 3", batches, writes)
			}
			if _, err := s.VerifyAudit(t.Context()); err != nil {
				t.Fatal(err)
			}
			if n := auditRows(t, s); n != 2 {
				t.Errorf("want 2 audit rows (a, c), got %d", n)
			}
		}},
		{"a failing last write is rolled back before the batch's audit rows and commit", func(t *testing.T, s *Store) {
			errs := runBatchOf(s, nil, putState("a", "1"), putState("b", "2"), putState("a", "again"))
			if errs[0] != nil || errs[1] != nil || !isUniqueViolation(errs[2]) {
				t.Fatalf("answers: %v", errs)
			}
			if v, _, _ := s.SourceState(t.Context(), "hr", "a"); string(v) != "1" {
				t.Errorf("a = %q, want the first write's 1", v)
			}
			wantState(t, s, "b", true)
			if _, _, retried := s.CommitStats(); retried != 0 {
				t.Errorf("the last write's own error retried the batch")
			}
			if n := auditRows(t, s); n != 2 {
				t.Errorf("want 2 audit rows (a, b), got %d", n)
			}
			if _, err := s.VerifyAudit(t.Context()); err != nil {
				t.Fatal(err)
			}
		}},
		{"two failing writes in a row are each rolled back alone", func(t *testing.T, s *Store) {
			errs := runBatchOf(s, nil, putState("a", "1"), putState("a", "x"), putState("a", "y"), putState("b", "2"))
			if errs[0] != nil || !isUniqueViolation(errs[1]) || !isUniqueViolation(errs[2]) || errs[3] != nil {
				t.Fatalf("answers: %v", errs)
			}
			wantState(t, s, "b", true)
			if n := auditRows(t, s); n != 2 {
				t.Errorf("want 2 audit rows (a, b), got %d", n)
			}
		}},
		{"a write that fails as a unique violation is its own error, not the batch's", func(t *testing.T, s *Store) {
			errs := runBatchOf(s, nil, putState("a", "1"), putState("a", "again"), putState("b", "2"))
			if errs[0] != nil || !isUniqueViolation(errs[1]) || errs[2] != nil {
				t.Fatalf("answers: %v", errs)
			}
			if v, _, _ := s.SourceState(t.Context(), "hr", "a"); string(v) != "1" {
				t.Errorf("a = %q, want the first write's 1", v)
			}
			wantState(t, s, "b", true)
			if _, _, retried := s.CommitStats(); retried != 0 {
				t.Errorf("a write's own error retried the batch")
			}
		}},
		{"a batch the database aborts is retried write by write, each committed once", func(t *testing.T, s *Store) {
			var calls int
			errs := runBatchOf(s, nil,
				putState("a", "1"),
				func(t *tx) error {
					calls++
					if calls == 1 { // as PostgreSQL aborts a deadlock victim
						return &pgconn.PgError{Code: "40P01", Message: "deadlock detected"}
					}
					return putState("b", "2")(t)
				},
				putState("c", "3"),
			)
			for i, err := range errs {
				if err != nil {
					t.Errorf("write %d: %v", i, err)
				}
			}
			for _, k := range []string{"a", "b", "c"} {
				wantState(t, s, k, true) // a second commit of "a" or "c" would be a unique violation above
			}
			if _, _, retried := s.CommitStats(); retried != 1 {
				t.Errorf("retried batches = %d, want 1", retried)
			}
			if _, err := s.VerifyAudit(t.Context()); err != nil {
				t.Fatal(err)
			}
			if n := auditRows(t, s); n != 3 {
				t.Errorf("want 3 audit rows, got %d", n)
			}
		}},
		{"a caller that gave up before its batch ran is answered and written nowhere", func(t *testing.T, s *Store) {
			gone, cancel := context.WithCancel(context.Background())
			cancel()
			errs := runBatchOf(s, []context.Context{nil, gone, nil}, putState("a", "1"), putState("b", "2"), putState("c", "3"))
			if errs[0] != nil || !errors.Is(errs[1], context.Canceled) || errs[2] != nil {
				t.Fatalf("answers: %v", errs)
			}
			wantState(t, s, "b", false)
		}},
		{"concurrent ingests are committed together, and every one is there", func(t *testing.T, s *Store) {
			const n = 64
			var (
				wg    sync.WaitGroup
				ready = make(chan struct{})
				mu    sync.Mutex
				ids   = map[string]bool{}
			)
			for i := range n {
				wg.Go(func() {
					<-ready
					res, err := s.Ingest(t.Context(), Event{Source: "hr", EventID: fmt.Sprint("g", i), Email: fmt.Sprintf("u%d@example.com", i), ReceivedAt: time.Now()})
					if err != nil || !res.NewCase {
						t.Errorf("ingest %d: %+v %v", i, res, err)
						return
					}
					mu.Lock()
					ids[res.CaseID] = true
					mu.Unlock()
				})
			}
			close(ready)
			wg.Wait()
			cases, err := s.ListCases(t.Context(), CaseFilter{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) != n || len(cases) != n {
				t.Fatalf("want %d cases, got %d answered, %d stored", n, len(ids), len(cases))
			}
			if batches, writes, _ := s.CommitStats(); batches == 0 || writes < 2 {
				t.Errorf("no group commit under %d concurrent writers: %d batches, %d writes", n, batches, writes)
			}
			if _, err := s.VerifyAudit(t.Context()); err != nil {
				t.Fatal(err)
			}
		}},
		{"a closed store refuses writes and does not hang", func(t *testing.T, s *Store) {
			_ = s.Close()
			if err := s.PutSourceState(t.Context(), "hr", "k", []byte("v")); err == nil {
				t.Fatal("a write after Close succeeded")
			}
		}},
	})
}

// auditRows counts the audit log's rows.
func auditRows(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM audit").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
