package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/sethvargo/go-retry"
	"modernc.org/sqlite" // the "sqlite" database/sql driver, and its error codes
)

// defaultSQLitePath is the SQLite file Open uses for an empty url.
const defaultSQLitePath = "offboarder.db"

// sqliteParams are the connection settings every SQLite connection gets:
// the busy timeout first (so the others wait rather than fail), WAL so that
// readers do not block the writer, synchronous FULL so that a commit is on
// disk before a sender hears 2xx, foreign keys on, temporary files in
// memory, and BEGIN IMMEDIATE for write transactions so that two writers
// never deadlock upgrading a read lock.
//
// temp_store MEMORY keeps the sub-journal in memory: the copy of each page
// a savepoint changes, kept only to roll that savepoint back and never read
// after a crash (the WAL is what recovery reads). A group commit runs each
// write in a savepoint; with the default, SQLite spills that sub-journal to
// a temporary file once it passes 64 KiB and then writes every page to it,
// a write system call per page (https://www.sqlite.org/tempfiles.html,
// sections 2.6 and 4; https://www.sqlite.org/pragma.html#pragma_temp_store).
const sqliteParams = "_pragma=busy_timeout(10000)" +
	"&_pragma=journal_mode(WAL)" +
	"&_pragma=synchronous(FULL)" +
	"&_pragma=foreign_keys(1)" +
	"&_pragma=temp_store(MEMORY)" +
	"&_txlock=immediate"

// Open opens and migrates the store. url "" means SQLite file "offboarder.db";
// "sqlite:PATH" or "file:PATH" or a plain path → SQLite; "postgres://…"/"postgresql://…" → PostgreSQL.
//
// A SQLite PATH may carry its own "?key=value" parameters (modernc.org/sqlite
// DSN syntax); they are applied after the defaults. The path ":memory:" gives a
// private in-memory database held on one connection (for tests). Any other
// "scheme://" is refused. Open pings the database and applies every embedded
// migration not yet recorded in schema_migrations; two processes opening the
// same database at once are safe (an advisory lock on PostgreSQL, the write
// lock on SQLite). Error messages never contain the url, which may hold a
// password.
func Open(ctx context.Context, url string) (*Store, error) {
	dialect, dsn, err := parseURL(url)
	if err != nil {
		return nil, err
	}
	s := &Store{dialect: dialect, now: time.Now}
	switch dialect {
	case dialectSQLite:
		s.db, err = sql.Open("sqlite", dsn)
		if err != nil {
			return nil, fmt.Errorf("store: open sqlite: %w", err)
		}
		if strings.HasPrefix(dsn, ":memory:") {
			// Every connection to ":memory:" is a database of its own: keep one.
			s.db.SetMaxOpenConns(1)
			s.db.SetMaxIdleConns(1)
		} else {
			// One writer at a time anyway; a few connections serve WAL readers.
			s.db.SetMaxOpenConns(8)
			s.db.SetMaxIdleConns(8)
		}
	case dialectPostgres:
		s.db, err = sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("store: open postgres: %w", err)
		}
		s.db.SetMaxOpenConns(20)
		s.db.SetMaxIdleConns(10)
		s.db.SetConnMaxIdleTime(5 * time.Minute)
		s.db.SetConnMaxLifetime(time.Hour)
	}
	if err := s.connect(ctx, dialect); err != nil {
		_ = s.db.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", dialect, err)
	}
	if err := s.migrate(ctx); err != nil {
		_ = s.db.Close()
		return nil, err
	}
	if dialect == dialectSQLite {
		s.stmts = newStmtCache(s.db)
	}
	s.startCommitter()
	return s, nil
}

// connect makes the first connection. Processes that open one fresh SQLite
// file at once race to switch it to WAL, which SQLite answers SQLITE_BUSY
// without waiting on busy_timeout; that connection is tried again, briefly
// (at most 10 s), and any other error is returned at once.
func (s *Store) connect(ctx context.Context, dialect string) error {
	if dialect != dialectSQLite {
		return s.db.PingContext(ctx)
	}
	b := retry.WithMaxDuration(10*time.Second, retry.WithCappedDuration(500*time.Millisecond, retry.NewExponential(20*time.Millisecond)))
	return retry.Do(ctx, b, func(ctx context.Context) error {
		err := s.db.PingContext(ctx)
		if se, ok := errors.AsType[*sqlite.Error](err); ok && se.Code()&0xff == sqliteBusy {
			return retry.RetryableError(err)
		}
		return err
	})
}

// sqliteBusy is SQLITE_BUSY, the primary result code of a database locked
// by another connection (https://www.sqlite.org/rescode.html#busy).
const sqliteBusy = 5

// parseURL maps Open's url to a dialect and a driver DSN.
func parseURL(url string) (dialect, dsn string, err error) {
	switch {
	case url == "":
		return dialectSQLite, defaultSQLitePath + "?" + sqliteParams, nil
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return dialectPostgres, url, nil
	}
	path := url
	for _, prefix := range []string{"sqlite:", "file:"} {
		if strings.HasPrefix(path, prefix) {
			path = strings.TrimPrefix(path, prefix)
			// "sqlite:///abs/x.db" and "sqlite://x.db" name the same files
			// as "sqlite:/abs/x.db" and "sqlite:x.db".
			path = strings.TrimPrefix(path, "//")
			break
		}
	}
	if path == url && strings.Contains(url, "://") {
		scheme, _, _ := strings.Cut(url, "://")
		return "", "", fmt.Errorf("store: unsupported database url scheme %q (want postgres://, sqlite: or a file path)", scheme)
	}
	path, query, _ := strings.Cut(path, "?")
	if path == "" {
		return "", "", errors.New("store: empty sqlite path")
	}
	dsn = path + "?" + sqliteParams
	if query != "" {
		dsn += "&" + query
	}
	return dialectSQLite, dsn, nil
}
