package store

import (
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/offboarder/offboarder/internal/testenv"
)

// TestAPostgresURLWithAStandbyListReachesTheWritableHost: DATABASE_URL may
// list a primary/standby pair as pgx reads it
// (https://pkg.go.dev/github.com/jackc/pgx/v5/pgconn#ParseConfig:
// postgres://host1:5432,host2:5432/db?target_session_attrs=read-write);
// Open hands the URL to pgx unchanged, so a first host that is down (a
// closed port here) is passed over for the next, and the store opens,
// migrates and commits a write there.
func TestAPostgresURLWithAStandbyListReachesTheWritableHost(t *testing.T) {
	base := testenv.Postgres(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	q := u.Query()
	q.Set("target_session_attrs", "read-write")
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	u.Host = closed + "," + u.Host
	multi := u.String()
	if !strings.Contains(multi, closed+",") {
		t.Fatalf("the URL lost its host list: %s", multi)
	}
	if _, dsn, err := parseURL(multi); err != nil || dsn != multi {
		t.Fatalf("parseURL changed the URL: %q, %v", dsn, err)
	}
	st, err := Open(t.Context(), multi)
	if err != nil {
		t.Fatalf("open %s: %v", strings.Replace(multi, u.User.String()+"@", "", 1), err)
	}
	defer st.Close()
	if err := st.ProbeWrite(t.Context()); err != nil {
		t.Fatalf("a write through the standby list: %v", err)
	}
	if err := st.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}
