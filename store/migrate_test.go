package store

import (
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/offboarder/offboarder/offboard"
)

func TestMigrations(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			tests := []struct {
				name string
				run  func(t *testing.T, url string)
			}{
				{"running the migrations again on an existing database changes nothing", func(t *testing.T, url string) {
					s := openStore(t, url)
					id := openCase(t, s, "ann@example.com")
					before := getCase(t, s, id)
					ms, err := loadMigrations(d)
					if err != nil {
						t.Fatal(err)
					}
					if err := s.migrate(t.Context()); err != nil {
						t.Fatalf("migrate again: %v", err)
					}
					again := openStore(t, url)
					if n := count(t, again, "SELECT COUNT(*) FROM schema_migrations"); n != len(ms) {
						t.Errorf("%d migrations recorded, want %d", n, len(ms))
					}
					if after := getCase(t, again, id); !reflect.DeepEqual(before, after) {
						t.Errorf("case changed:\nbefore %+v\nafter  %+v", before, after)
					}
					verify(t, again)
				}},
				{"processes opening a fresh database at once all succeed", func(t *testing.T, url string) {
					var wg sync.WaitGroup
					start := make(chan struct{})
					for i := range 4 {
						wg.Go(func() {
							<-start
							s, err := Open(t.Context(), url)
							if err != nil {
								t.Errorf("Open %d: %v", i, err)
								return
							}
							_ = s.Close()
						})
					}
					close(start)
					wg.Wait()
					s := openStore(t, url)
					ms, _ := loadMigrations(d)
					if n := count(t, s, "SELECT COUNT(*) FROM schema_migrations"); n != len(ms) {
						t.Errorf("%d migrations recorded, want %d", n, len(ms))
					}
					if n := count(t, s, "SELECT COUNT(*) FROM audit_head"); n != 1 {
						t.Errorf("%d audit heads, want 1", n)
					}
				}},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					tc.run(t, newDatabase(t, d))
				})
			}
		})
	}
}

func TestSQLite(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"reopening the file keeps the data", func(t *testing.T) {
			url := newDatabase(t, dialectSQLite)
			s, err := Open(t.Context(), url)
			if err != nil {
				t.Fatal(err)
			}
			id := openCase(t, s, "ann@example.com")
			fanOut(t, s, id, map[string]offboard.Outcome{"slack": offboard.Pending})
			before := getCase(t, s, id)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			again := openStore(t, url)
			if after := getCase(t, again, id); !reflect.DeepEqual(before, after) {
				t.Errorf("case changed:\nbefore %+v\nafter  %+v", before, after)
			}
			verify(t, again)
		}},
		{"connections run with WAL, full sync, foreign keys and temporary files in memory", func(t *testing.T) {
			s := newStore(t, dialectSQLite)
			for pragma, want := range map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "busy_timeout": "10000", "temp_store": "2"} {
				var got string
				if err := s.db.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("%s = %s, want %s", pragma, got, want)
				}
			}
		}},
		{"an in-memory database works on its one connection", func(t *testing.T) {
			s := openStore(t, ":memory:")
			id := openCase(t, s, "ann@example.com")
			getCase(t, s, id)
			verify(t, s)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.run)
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		name, url, dialect, path string // path: the DSN before "?"
		extra                    string // expected after the defaults
		wantErr                  bool
	}{
		{name: "an empty url is the default sqlite file", url: "", dialect: dialectSQLite, path: "offboarder.db"},
		{name: "a plain path is sqlite", url: "/var/lib/offboarder/x.db", dialect: dialectSQLite, path: "/var/lib/offboarder/x.db"},
		{name: "sqlite colon names a file", url: "sqlite:x.db", dialect: dialectSQLite, path: "x.db"},
		{name: "sqlite with slashes names a file", url: "sqlite:///tmp/x.db", dialect: dialectSQLite, path: "/tmp/x.db"},
		{name: "file colon names a file", url: "file:data/x.db", dialect: dialectSQLite, path: "data/x.db"},
		{name: "own parameters come after the defaults", url: "sqlite:x.db?_pragma=cache_size(-2000)", dialect: dialectSQLite, path: "x.db", extra: "&_pragma=cache_size(-2000)"},
		{name: "postgres url is postgres", url: "postgres://u:p@db/offboarder", dialect: dialectPostgres},
		{name: "postgresql url is postgres", url: "postgresql://db/offboarder?sslmode=require", dialect: dialectPostgres},
		{name: "another scheme is refused", url: "mysql://db/offboarder", wantErr: true},
		{name: "sqlite without a path is refused", url: "sqlite:", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dialect, dsn, err := parseURL(tc.url)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("parseURL(%q) = %s %s, want an error", tc.url, dialect, dsn)
				}
				if strings.Contains(err.Error(), "db/offboarder") {
					t.Errorf("error %q repeats the url", err)
				}
				return
			}
			if err != nil || dialect != tc.dialect {
				t.Fatalf("parseURL(%q) = %s, %v; want %s", tc.url, dialect, err, tc.dialect)
			}
			switch dialect {
			case dialectPostgres:
				if dsn != tc.url {
					t.Errorf("dsn = %q, want the url", dsn)
				}
			case dialectSQLite:
				if want := tc.path + "?" + sqliteParams + tc.extra; dsn != want {
					t.Errorf("dsn = %q, want %q", dsn, want)
				}
			}
		})
	}
}

func TestLoadMigrations(t *testing.T) {
	for _, d := range dialects {
		t.Run("the "+d+" migrations start at 1 and ascend", func(t *testing.T) {
			ms, err := loadMigrations(d)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) == 0 || ms[0].version != 1 {
				t.Fatalf("migrations = %+v", ms)
			}
			for i := 1; i < len(ms); i++ {
				if ms[i].version <= ms[i-1].version {
					t.Errorf("migration %d after %d", ms[i].version, ms[i-1].version)
				}
			}
		})
	}
}
