package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/offboarder/offboarder/internal/testenv"
)

// dialects lists what runStoreTests runs the suite on.
var dialects = []string{dialectSQLite, dialectPostgres}

// storeTest is one sentence-named test of the suite every dialect runs.
type storeTest struct {
	name string
	run  func(t *testing.T, s *Store)
}

// runStoreTests runs every test once per dialect, each on a fresh, migrated
// database of its own.
func runStoreTests(t *testing.T, tests []storeTest) {
	t.Helper()
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					tc.run(t, newStore(t, d))
				})
			}
		})
	}
}

// newStore opens a store on a fresh database of dialect, closed in Cleanup.
func newStore(t testing.TB, dialect string) *Store {
	t.Helper()
	return openStore(t, newDatabase(t, dialect))
}

// openStore opens u and closes the store in Cleanup.
func openStore(t testing.TB, u string) *Store {
	t.Helper()
	s, err := Open(context.Background(), u)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// newDatabase returns the url of a fresh, empty database: a file in
// t.TempDir() for SQLite; for PostgreSQL a database created for this test on
// the server of OFFBOARDER_TEST_POSTGRES and dropped in Cleanup. It skips the
// test, saying so, if PostgreSQL is not reachable.
func newDatabase(t testing.TB, dialect string) string {
	t.Helper()
	if dialect == dialectSQLite {
		return "sqlite:" + filepath.Join(t.TempDir(), "offboarder.db")
	}
	return testenv.Postgres(t)
}

// exec runs raw SQL with ? placeholders on s, as a test's back door.
func exec(t *testing.T, s *Store, q string, args ...any) {
	t.Helper()
	if _, err := s.db.ExecContext(t.Context(), s.rebind(q), args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// count returns the single integer q selects.
func count(t *testing.T, s *Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := s.db.QueryRowContext(t.Context(), s.rebind(q), args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// event returns a valid event for email with the given id.
func event(id, email string) Event {
	return Event{
		Source:     "okta",
		EventID:    id,
		Type:       "user.lifecycle.deactivate",
		Email:      email,
		Reason:     "deactivated",
		ReceivedAt: time.Now(),
		RequestID:  "req-" + id,
		Actor:      "source:okta",
	}
}

// ingest ingests ev or fails the test.
func ingest(t *testing.T, s *Store, ev Event) IngestResult {
	t.Helper()
	res, err := s.Ingest(t.Context(), ev)
	if err != nil {
		t.Fatalf("Ingest(%s): %v", ev.EventID, err)
	}
	return res
}

// getCase reads a case or fails the test.
func getCase(t *testing.T, s *Store, id string) *Case {
	t.Helper()
	c, err := s.GetCase(t.Context(), id)
	if err != nil {
		t.Fatalf("GetCase(%s): %v", id, err)
	}
	return c
}

// actions lists the audit actions of c, in order.
func actions(c *Case) []string {
	var out []string
	for _, a := range c.Audit {
		out = append(out, a.Action)
	}
	return out
}

// verify fails the test unless the audit chain verifies.
func verify(t *testing.T, s *Store) {
	t.Helper()
	if _, err := s.VerifyAudit(t.Context()); err != nil {
		t.Fatalf("VerifyAudit: %v", err)
	}
}
