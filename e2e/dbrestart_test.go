package e2e

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/offboarder/offboarder/internal/testenv"
	"github.com/offboarder/offboarder/offboard"
)

// TestDatabaseOutageIs503UntilItComesBack cuts PostgreSQL off (as a restart
// does) while offboarder runs: deliveries are answered 503 and nothing is
// half-written; once the database is back, the sender's retry is accepted
// and the case completes, without restarting offboarder.
func TestDatabaseOutageIs503UntilItComesBack(t *testing.T) {
	dbURL, proxy := proxiedPostgres(t)
	e := start(t, dbURL, envOptions{})

	code, res := e.post("hr", body("db-1", "alice@example.com"), "")
	if code != http.StatusAccepted {
		t.Fatalf("before the outage: %d %v", code, res)
	}
	first := e.waitCase(res["case_id"].(string))

	proxy.Down()
	b := body("db-2", "bob@example.com")
	if code, res := e.post("hr", b, ""); code != http.StatusServiceUnavailable {
		t.Fatalf("during the outage: want 503, got %d %v", code, res)
	}
	if code, _ := e.admin(http.MethodGet, "/readyz", "", nil); code != http.StatusServiceUnavailable {
		t.Fatalf("readyz during the outage: want 503, got %d", code)
	}

	proxy.Up()
	code, res = e.post("hr", b, "") // the sender retries the same event
	if code != http.StatusAccepted || res["duplicate"] != false {
		t.Fatalf("after the outage: %d %v", code, res)
	}
	c := e.waitCase(res["case_id"].(string))
	if c.State != offboard.StateCompleted || c.Email != "bob@example.com" || len(c.Events) != 1 {
		t.Fatalf("case after the outage: %+v", c)
	}
	if cases := e.cases(); len(cases) != 2 || first.State != offboard.StateCompleted {
		t.Fatalf("want exactly the two cases, got %d", len(cases))
	}
	if _, err := e.Store.VerifyAudit(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// proxiedPostgres is a fresh PostgreSQL database reached through a TCP
// proxy the test can take down (skipped where no PostgreSQL answers).
func proxiedPostgres(t *testing.T) (string, *testenv.Proxy) {
	t.Helper()
	u, err := url.Parse(testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := testenv.StartProxy(t, u.Host)
	u.Host = proxy.Addr
	return u.String(), proxy
}
