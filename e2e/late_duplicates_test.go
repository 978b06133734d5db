package e2e

import (
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/simulator"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/tasks"
)

// vendorWrites counts, per vendor, the calls that changed something for
// email (anything but a read and a token fetch).
func vendorWrites(calls []simulator.Call, email string) map[string]int {
	out := map[string]int{}
	for _, c := range calls {
		if c.User == email && c.Method != http.MethodGet && !strings.Contains(c.Path, "token") {
			out[c.Vendor]++
		}
	}
	return out
}

// sessionRevocations counts, per vendor, the calls to the vendor's endpoint
// that ends a person's sessions: okta and auth0 DELETE …/sessions, entra
// POST …/revokeSignInSessions, google POST …/signOut, keycloak POST
// …/logout, onelogin PUT …/logout.
func sessionRevocations(calls []simulator.Call, email string) map[string]int {
	out := map[string]int{}
	for _, c := range calls {
		if c.User != email || c.Method == http.MethodGet {
			continue
		}
		for _, end := range []string{"/sessions", "/revokeSignInSessions", "/signOut", "/logout"} {
			if strings.HasSuffix(c.Path, end) {
				out[c.Vendor]++
			}
		}
	}
	return out
}

// taskCounts is what the queues hold (in any state) and have processed.
type taskCounts struct{ offboard, revoke, processed int }

func (e *env) taskCounts() taskCounts {
	e.t.Helper()
	n := taskCounts{offboard: e.queued(tasks.QueueOffboard), revoke: e.queued(tasks.QueueRevoke)}
	for _, q := range []string{tasks.QueueOffboard, tasks.QueueRevoke} {
		if info, err := e.Insp.GetQueueInfo(q); err == nil {
			n.processed += info.ProcessedTotal
		}
	}
	return n
}

// TestLateDuplicatesCallEachConnectorOnce: one event delivered once, then
// twice more at once right away, then three more times after its case
// completed (the last with a fresh signature, as a sender's retry would
// be), is one case whose six connectors each ended the person's sessions
// once — the vendor writes of a person delivered once — and the late
// deliveries queue and run nothing. A different event for the same person
// after completion opens a second case, which does the work again.
func TestLateDuplicatesCallEachConnectorOnce(t *testing.T) {
	dialects(t, func(t *testing.T, dbURL func(t *testing.T) string) {
		e := start(t, dbURL(t), envOptions{allConnectors: true, concurrency: 8})
		e.Sim.AddUser("once@example.com", 2)
		e.Sim.AddUser("late@example.com", 2)

		// A person delivered once: the vendor writes one delivery makes.
		code, res := e.post("hr", body("late-control", "once@example.com"), "")
		if code != http.StatusAccepted {
			t.Fatalf("%d %v", code, res)
		}
		if c := e.waitCase(res["case_id"].(string)); c.State != offboard.StateCompleted {
			t.Fatalf("control case: %s", c.State)
		}

		b := body("late-dup", "late@example.com")
		sig := sources.SignatureValue(time.Now(), b, []byte(hrSecret))
		code, first := e.post("hr", b, sig)
		if code != http.StatusAccepted || first["duplicate"] != false {
			t.Fatalf("first delivery: %d %v", code, first)
		}
		id, _ := first["case_id"].(string)
		answers := make([]map[string]any, 2)
		var wg sync.WaitGroup
		for i := range answers {
			wg.Go(func() {
				code, res := e.post("hr", b, sig)
				if code != http.StatusAccepted {
					t.Errorf("delivery %d: %d %v", i+2, code, res)
				}
				answers[i] = res
			})
		}
		wg.Wait()
		for i, a := range answers {
			if a["case_id"] != id || a["duplicate"] != true {
				t.Errorf("delivery %d: %v, want a duplicate of %s", i+2, a, id)
			}
		}
		c := e.waitCase(id)
		if c.State != offboard.StateCompleted || len(c.Entries) != 6 || len(c.Events) != 1 {
			t.Fatalf("case %s with %d entries and %d events, want completed, 6 and 1", c.State, len(c.Entries), len(c.Events))
		}
		before, callsBefore := e.taskCounts(), len(e.Sim.Calls())

		for i, s := range []string{sig, sig, sources.SignatureValue(time.Now().Add(time.Second), b, []byte(hrSecret))} {
			code, res := e.post("hr", b, s)
			if code != http.StatusAccepted || res["case_id"] != id || res["duplicate"] != true {
				t.Fatalf("late delivery %d: %d %v, want a duplicate of %s", i+1, code, res, id)
			}
		}
		// Give a wrongly queued task the time to run before counting.
		time.Sleep(300 * time.Millisecond)
		if after := e.taskCounts(); after != before {
			t.Errorf("late deliveries queued or ran work: %+v -> %+v", before, after)
		}
		calls := e.Sim.Calls()
		if n := len(calls); n != callsBefore {
			t.Errorf("late deliveries reached the vendors: %d calls after completion", n-callsBefore)
		}
		want := map[string]int{"okta": 1, "entra": 1, "google": 1, "auth0": 1, "keycloak": 1, "onelogin": 1}
		if got := sessionRevocations(calls, "late@example.com"); !maps.Equal(got, want) {
			t.Errorf("session revocations per vendor: %v, want one each", got)
		}
		once, late := vendorWrites(calls, "once@example.com"), vendorWrites(calls, "late@example.com")
		if len(once) != 6 || !maps.Equal(once, late) {
			t.Errorf("vendor writes differ from one delivery's:\n once: %v\n late: %v", once, late)
		}
		again := e.waitCase(id)
		if len(again.Events) != 1 || len(again.Audit) != len(c.Audit) {
			t.Errorf("late duplicates changed the record: %d events, audit %d -> %d", len(again.Events), len(c.Audit), len(again.Audit))
		}

		// A different event for the same person after completion finds no
		// open case (one open case per subject; a completed case is closed),
		// so it opens a new case, which fans out and ends the sessions at
		// every vendor a second time. The first case keeps its one event.
		code, res = e.post("hr", body("late-other", "late@example.com"), "")
		if code != http.StatusAccepted || res["duplicate"] != false || res["case_id"] == id {
			t.Fatalf("another event after completion: %d %v, want a new case", code, res)
		}
		second := e.waitCase(res["case_id"].(string))
		if second.State != offboard.StateCompleted || len(second.Entries) != 6 || len(second.Events) != 1 || second.Events[0].EventID != "late-other" {
			t.Fatalf("second case %s, %d entries, %d events", second.State, len(second.Entries), len(second.Events))
		}
		for k := range want {
			want[k] = 2
		}
		if got := sessionRevocations(e.Sim.Calls(), "late@example.com"); !maps.Equal(got, want) {
			t.Errorf("session revocations per vendor after the second case: %v, want two each", got)
		}
		if first := e.waitCase(id); first.State != offboard.StateCompleted || len(first.Events) != 1 {
			t.Errorf("first case after the second: %s, %d events", first.State, len(first.Events))
		}
		// Each case lists the other, so an auditor reading one finds both.
		firstCase := e.waitCase(id)
		if len(second.Related) != 1 || second.Related[0].ID != id || second.Related[0].State != offboard.StateCompleted || second.Related[0].ClosedAt == nil {
			t.Errorf("second case's related cases: %+v, want the first", second.Related)
		}
		if len(firstCase.Related) != 1 || firstCase.Related[0].ID != second.ID {
			t.Errorf("first case's related cases: %+v, want the second", firstCase.Related)
		}
		var mine int
		for _, cs := range e.cases() {
			if cs.Email == "late@example.com" {
				mine++
			}
		}
		if mine != 2 {
			t.Errorf("%d cases for the person, want 2", mine)
		}
		if _, err := e.Store.VerifyAudit(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}
