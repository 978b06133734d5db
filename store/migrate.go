package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// migrationFS holds the schema migrations, named NNNN_name.sql (both dialects)
// or NNNN_name.sqlite.sql / NNNN_name.postgres.sql (one dialect, replacing the
// shared file of the same version if there is one).
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// migrateLockKey is the pg_advisory_xact_lock key that serialises migrations
// between processes sharing one PostgreSQL database.
const migrateLockKey int64 = 0x6f6666626f617264 // "offboard"

type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations returns the migrations for dialect, in version order.
func loadMigrations(dialect string) ([]migration, error) {
	files, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	shared := map[int]migration{}
	own := map[int]migration{}
	for _, f := range files {
		base := strings.TrimSuffix(f.Name(), ".sql")
		target := shared
		if d := path.Ext(base); d != "" {
			base = strings.TrimSuffix(base, d)
			if d != "."+dialectSQLite && d != "."+dialectPostgres {
				return nil, fmt.Errorf("migration file %q: unknown dialect %q", f.Name(), d[1:])
			}
			if d[1:] != dialect {
				continue
			}
			target = own
		}
		num, name, ok := strings.Cut(base, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil || version <= 0 {
			return nil, fmt.Errorf("migration file %q: want NNNN_name.sql", f.Name())
		}
		if _, dup := target[version]; dup {
			return nil, fmt.Errorf("migration version %d appears twice", version)
		}
		body, err := fs.ReadFile(migrationFS, "migrations/"+f.Name())
		if err != nil {
			return nil, err
		}
		target[version] = migration{version: version, name: name, sql: string(body)}
	}
	for v, m := range own {
		shared[v] = m
	}
	out := make([]migration, 0, len(shared))
	for _, m := range shared {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// migrate applies every migration not yet recorded, each in its own
// transaction. Running it on an up-to-date database changes nothing.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := loadMigrations(s.dialect)
	if err != nil {
		return fmt.Errorf("store: load migrations: %w", err)
	}
	for _, m := range ms {
		if err := s.runTx(ctx, false, func(t *tx) error { return t.applyMigration(m) }); err != nil {
			return fmt.Errorf("store: migration %04d_%s: %w", m.version, m.name, err)
		}
	}
	return nil
}

// applyMigration applies m unless schema_migrations already has it. On
// PostgreSQL it first takes the migration advisory lock, held until the
// transaction ends, so that a second process waits and then sees m applied.
func (t *tx) applyMigration(m migration) error {
	if t.s.dialect == dialectPostgres {
		if _, err := t.exec("SELECT pg_advisory_xact_lock(?)", migrateLockKey); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
	}
	if _, err := t.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
		version    BIGINT NOT NULL PRIMARY KEY,
		name       TEXT   NOT NULL,
		applied_at BIGINT NOT NULL)`); err != nil {
		return err
	}
	var n int
	if err := t.queryRow("SELECT COUNT(*) FROM schema_migrations WHERE version = ?", m.version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	// The migration text runs as written, without placeholder rebinding.
	if _, err := t.tx.ExecContext(t.ctx, m.sql); err != nil {
		return err
	}
	_, err := t.exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		m.version, m.name, micros(t.now))
	return err
}
