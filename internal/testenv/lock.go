package testenv

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the SQLite driver
)

// Lock is a write lock on a store's database held by a connection of its
// own, as another process would hold it.
type Lock struct {
	conn *sql.Conn
	db   *sql.DB
	done bool
}

// HoldWriteLock opens a second connection to the database at url (a
// "sqlite:PATH" or "postgres://" url as the store takes) and holds, in an
// open transaction, what every store write needs: on SQLite the write lock
// (BEGIN IMMEDIATE), on PostgreSQL the audit head's row (SELECT … FOR
// UPDATE), or the whole cases table when table is true. Release ends it;
// Cleanup releases it too.
func HoldWriteLock(t testing.TB, url string, table bool) *Lock {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	driver, dsn, stmts := "pgx", url, []string{"BEGIN", "SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE"}
	if table {
		stmts[1] = "LOCK TABLE cases IN EXCLUSIVE MODE"
	}
	if !strings.HasPrefix(url, "postgres://") && !strings.HasPrefix(url, "postgresql://") {
		path, _, _ := strings.Cut(strings.TrimPrefix(url, "sqlite:"), "?")
		driver, dsn, stmts = "sqlite", path, []string{"BEGIN IMMEDIATE", "UPDATE heartbeat SET at = at"}
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("lock: open: %v", err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		t.Fatalf("lock: connect: %v", err)
	}
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			conn.Close()
			db.Close()
			t.Fatalf("lock: %s: %v", q, err)
		}
	}
	l := &Lock{conn: conn, db: db}
	t.Cleanup(func() { l.Release(t) })
	return l
}

// Release rolls the holding transaction back and closes its connection.
// Calls after the first do nothing.
func (l *Lock) Release(t testing.TB) {
	t.Helper()
	if l.done {
		return
	}
	l.done = true
	if _, err := l.conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Errorf("lock: rollback: %v", err)
	}
	l.conn.Close()
	l.db.Close()
}
