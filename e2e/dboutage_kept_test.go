package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/simulator"
)

// TestADatabaseOutageLongerThanRecordPatienceCallsNoVendorTwice: revokes
// are held 2 s at the vendor, and PostgreSQL is cut off for 60 s while
// they are — four times longer than the worker waits to record an outcome
// (recordPatience, 15 s). The vendor's answers are kept in Redis, and the
// re-runs after the outage record them: every vendor revocation is called
// once, every outcome is recorded once the database is back.
func TestADatabaseOutageLongerThanRecordPatienceCallsNoVendorTwice(t *testing.T) {
	dbURL, proxy := proxiedPostgres(t)
	e := start(t, dbURL, envOptions{concurrency: 16, maxBackoff: 2 * time.Second})
	const n = 12
	email := func(i int) string { return fmt.Sprintf("held%d@example.com", i) }
	for i := range n {
		e.Sim.AddUser(email(i), 1)
	}
	e.Sim.Tune(func(o *simulator.Options) { o.Latency = 2 * time.Second })
	ids := make([]string, n)
	for i := range n {
		code, res := e.post("hr", body(fmt.Sprintf("held-%d", i), email(i)), "")
		if code != http.StatusAccepted {
			t.Fatalf("%d %v", code, res)
		}
		ids[i] = res["case_id"].(string)
	}
	// Cut the database off while revocations are at the vendor.
	deadline := time.Now().Add(20 * time.Second)
	for !heldRevoke(e) {
		if time.Now().After(deadline) {
			t.Fatal("no revocation reached the vendor")
		}
		time.Sleep(5 * time.Millisecond)
	}
	proxy.Down()
	cut := time.Now()
	time.Sleep(60 * time.Second)
	proxy.Up()
	// The revocations the vendor answered while the database was away.
	during := 0
	for _, c := range e.Sim.Calls() {
		if c.Method == http.MethodDelete && c.Status == http.StatusNoContent && c.At.Before(cut.Add(60*time.Second)) &&
			c.At.Add(3*time.Second).After(cut) {
			during++
		}
	}

	for i, id := range ids {
		c := e.waitCase(id)
		outcomes := 0
		for _, a := range c.Audit {
			if a.Action == "entry.outcome" {
				outcomes++
			}
		}
		if c.State != offboard.StateCompleted || len(c.Entries) != 1 || outcomes != 1 {
			t.Errorf("%s: case %s, entries %+v, %d recorded outcomes", email(i), c.State, c.Entries, outcomes)
		}
	}
	revokes := map[string][]int{}
	for _, c := range e.Sim.Calls() {
		if c.Method == http.MethodDelete && strings.HasSuffix(c.Path, "/sessions") {
			revokes[c.User] = append(revokes[c.User], c.Status)
		}
	}
	for i := range n {
		if r := revokes[email(i)]; len(r) != 1 || r[0] != http.StatusNoContent {
			t.Errorf("%s: vendor revocations %v, want one 204", email(i), r)
		}
	}
	if during == 0 {
		t.Fatal("the vendor answered no revocation while the database was away: the test proved nothing")
	}
	kept := strings.Count(e.Log.String(), "recording the vendor's kept answer")
	if kept == 0 {
		t.Error("no re-run recorded a kept answer: the outage did not outlast the worker's patience")
	}
	if _, err := e.Store.VerifyAudit(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d revocations answered by the vendor while the database was away; %d outcomes recorded from kept answers", during, kept)
}
