// Package store keeps the record: events, cases, per-connector entries and an
// append-only, hash-chained audit log, on SQLite (the embedded default, a file)
// or PostgreSQL. One schema serves both; migrations are embedded and applied at
// Open.
//
// Every write is one transaction. Within a transaction rows are locked in one
// order — cases, then events and entries, then audit_head — and audit rows are
// appended last, so that concurrent writers on PostgreSQL never deadlock.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

const (
	dialectSQLite   = "sqlite"
	dialectPostgres = "postgres"
)

// Store is the SQL record. It is safe for concurrent use.
type Store struct {
	db      *sql.DB
	dialect string
	now     func() time.Time

	// The committers (commit.go); writes is nil until Open has migrated.
	writes    []chan *write
	quit      chan struct{}
	stopped   chan struct{}
	closeOnce sync.Once
	stats     commitStats

	stmts *stmtCache // prepared statements; nil on PostgreSQL (stmts.go)

	guard guardState // the blast-radius guard; nil: none (guard.go)
}

// Close closes the database. Calls after the first are harmless.
func (s *Store) Close() error {
	s.stopCommitter()
	s.stmts.close()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// Ping checks that the database answers (for readiness probes).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Dialect returns "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.dialect }

// clock returns the current time in UTC, at the microsecond precision the
// database keeps.
func (s *Store) clock() time.Time {
	return s.now().UTC().Truncate(time.Microsecond)
}

// tx is one transaction (or, in a group commit, one write's savepoint of
// it). Audit rows queued with audit are appended when the transaction
// function returns, just before commit. Its statements run under ctx, the
// transaction's own context: in a group commit that is the batch's, not the
// caller's.
type tx struct {
	s      *Store
	tx     *sql.Tx
	ctx    context.Context
	now    time.Time
	audits []auditRecord
	held   []guardCandidate // new cases the guard decides on before commit
	spared []string         // cases a bypass reason's event attached to

	// The audit head as read under its row lock (PostgreSQL; lockHead).
	headLocked bool
	headSeq    int64
	headHash   string
}

// read runs fn in a read-only transaction: one snapshot (REPEATABLE READ on
// PostgreSQL, a deferred read transaction on SQLite).
func (s *Store) read(ctx context.Context, fn func(*tx) error) error {
	return s.runTx(ctx, true, fn)
}

// write runs fn as a write transaction and returns once it is committed (or
// not). It goes to a committer (commit.go), which may commit it together
// with others; key (a case id, or a subject for writes that open cases)
// picks the committer, so that writes about one case are never in two
// concurrent transactions of this process. A write transaction takes
// SQLite's write lock at BEGIN (_txlock=immediate) and runs at READ
// COMMITTED on PostgreSQL. fn may run more than once (a batch that fails is
// retried write by write): it must only touch the database through t and
// its own variables.
func (s *Store) write(ctx context.Context, key string, fn func(*tx) error) error {
	if s.writes == nil {
		return s.runTx(ctx, false, fn)
	}
	return s.submit(ctx, key, fn)
}

// runTx runs fn in a transaction of its own.
func (s *Store) runTx(ctx context.Context, readOnly bool, fn func(*tx) error) error {
	opts := &sql.TxOptions{ReadOnly: readOnly}
	if readOnly && s.dialect == dialectPostgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	stx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	t := &tx{s: s, tx: stx, ctx: ctx, now: s.clock()}
	if err := fn(t); err != nil {
		_ = stx.Rollback()
		return err
	}
	if err := t.flushGuard(); err != nil {
		_ = stx.Rollback()
		return err
	}
	if err := t.flushAudit(); err != nil {
		_ = stx.Rollback()
		return err
	}
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (t *tx) exec(q string, args ...any) (sql.Result, error) {
	q = t.s.rebind(q)
	if st := t.s.stmts.get(q); st != nil {
		return t.tx.StmtContext(t.ctx, st).ExecContext(t.ctx, args...)
	}
	return t.tx.ExecContext(t.ctx, q, args...)
}

func (t *tx) query(q string, args ...any) (*sql.Rows, error) {
	q = t.s.rebind(q)
	if st := t.s.stmts.get(q); st != nil {
		return t.tx.StmtContext(t.ctx, st).QueryContext(t.ctx, args...)
	}
	return t.tx.QueryContext(t.ctx, q, args...)
}

func (t *tx) queryRow(q string, args ...any) *sql.Row {
	q = t.s.rebind(q)
	if st := t.s.stmts.get(q); st != nil {
		return t.tx.StmtContext(t.ctx, st).QueryRowContext(t.ctx, args...)
	}
	return t.tx.QueryRowContext(t.ctx, q, args...)
}

// forUpdate is the row-lock suffix for a SELECT in a write transaction:
// FOR UPDATE on PostgreSQL; nothing on SQLite, whose write transactions
// already exclude each other.
func (t *tx) forUpdate() string {
	if t.s.dialect == dialectPostgres {
		return " FOR UPDATE"
	}
	return ""
}

// rebind turns the ? placeholders of q into $1, $2, … for PostgreSQL. A ?
// inside a single-quoted literal is left alone.
func (s *Store) rebind(q string) string {
	if s.dialect != dialectPostgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n, quoted := 0, false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			quoted = !quoted
		case c == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// isUniqueViolation reports whether err is a unique or primary-key violation.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE ||
			se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// micros is t as stored: unix microseconds.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros is a stored time, in UTC.
func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

// fromNullMicros is a nullable stored time; NULL is nil.
func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// boolInt stores a boolean as 0 or 1.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// clean makes s storable on both dialects: valid UTF-8 and no NUL bytes
// (PostgreSQL's TEXT refuses both).
func clean[S ~string](s S) S {
	return S(strings.ReplaceAll(strings.ToValidUTF8(string(s), "\uFFFD"), "\x00", ""))
}

// truncate cuts s to at most n runes.
func truncate(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}
