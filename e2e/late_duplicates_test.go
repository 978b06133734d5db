package e2e

import (
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offboarder/offboarder/simulator"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/store"
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

// TestLateDuplicatesCallEachConnectorOnce: one event delivered three
// times at once and three more times after its case completed (the last
// with a fresh signature, as a sender's retry would be) is one case whose
// six connectors each did their work once — exactly the vendor calls of a
// person delivered once — and the late deliveries queue nothing.
func TestLateDuplicatesCallEachConnectorOnce(t *testing.T) {
	dialects(t, func(t *testing.T, dbURL func(t *testing.T) string) {
		e := start(t, dbURL(t), envOptions{allConnectors: true, concurrency: 8})
		e.Sim.AddUser("once@example.com", 2)
		e.Sim.AddUser("thrice@example.com", 2)

		code, res := e.post("hr", body("late-control", "once@example.com"), "")
		if code != http.StatusAccepted {
			t.Fatalf("%d %v", code, res)
		}
		control := e.waitCase(res["case_id"].(string))

		b := body("late-dup", "thrice@example.com")
		sig := sources.SignatureValue(time.Now(), b, []byte(hrSecret))
		answers := make([]map[string]any, 3)
		var wg sync.WaitGroup
		for i := range answers {
			wg.Go(func() {
				code, res := e.post("hr", b, sig)
				if code != http.StatusAccepted {
					t.Errorf("delivery %d: %d %v", i, code, res)
				}
				answers[i] = res
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		id, fresh := answers[0]["case_id"], 0
		for _, a := range answers {
			if a["case_id"] != id {
				t.Fatalf("two cases for one event: %v", answers)
			}
			if a["duplicate"] == false {
				fresh++
			}
		}
		if fresh != 1 {
			t.Fatalf("want one fresh answer, got %d: %v", fresh, answers)
		}
		c := e.waitCase(id.(string))
		if c.State != store.StateCompleted || len(c.Entries) != 6 {
			t.Fatalf("case %s with %d entries", c.State, len(c.Entries))
		}
		offboards, revokes := e.queued(tasks.QueueOffboard), e.queued(tasks.QueueRevoke)
		callsBefore := len(e.Sim.Calls())

		for i, s := range []string{sig, sig, sources.SignatureValue(time.Now().Add(time.Second), b, []byte(hrSecret))} {
			code, res := e.post("hr", b, s)
			if code != http.StatusAccepted || res["case_id"] != id || res["duplicate"] != true {
				t.Fatalf("late delivery %d: %d %v", i, code, res)
			}
		}
		// Give a wrongly queued task the time to run before counting.
		time.Sleep(300 * time.Millisecond)
		if o, r := e.queued(tasks.QueueOffboard), e.queued(tasks.QueueRevoke); o != offboards || r != revokes {
			t.Errorf("late deliveries queued work: offboard %d -> %d, revoke %d -> %d", offboards, o, revokes, r)
		}
		if n := len(e.Sim.Calls()); n != callsBefore {
			t.Errorf("late deliveries reached the vendors: %d calls after completion", n-callsBefore)
		}
		calls := e.Sim.Calls()
		once, thrice := vendorWrites(calls, "once@example.com"), vendorWrites(calls, "thrice@example.com")
		if len(once) != 6 || !maps.Equal(once, thrice) {
			t.Errorf("vendor writes per delivery differ:\n once:   %v\n thrice: %v", once, thrice)
		}
		if again := e.waitCase(id.(string)); len(again.Events) != 1 || len(again.Audit) != len(c.Audit) {
			t.Errorf("late duplicates changed the record: %d events, audit %d -> %d", len(again.Events), len(c.Audit), len(again.Audit))
		}
		if control.State != store.StateCompleted {
			t.Errorf("control case: %s", control.State)
		}
		if err := e.Store.VerifyAudit(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}
