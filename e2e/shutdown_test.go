package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
)

// A worker stopped in the middle of a revoke (SIGTERM: offboarder calls
// Worker.Shutdown) cancels the call after its shutdown bound and hands the
// task back; the next worker completes it. The vendor sees exactly one
// successful revocation and the record one outcome.
func TestShutdownDuringRevokeLosesNothing(t *testing.T) {
	dialects(t, func(t *testing.T, dbURL func(*testing.T) string) {
		e := start(t, dbURL(t), envOptions{})
		release := e.Sim.Hold("okta")
		code, res := e.post("hr", body("evt-term", "alice@example.com"), "")
		if code != http.StatusAccepted {
			t.Fatalf("%d %v", code, res)
		}
		id := res["case_id"].(string)

		// Wait until the revoke is at the vendor, held open.
		deadline := time.Now().Add(20 * time.Second)
		for !heldRevoke(e) {
			if time.Now().After(deadline) {
				t.Fatalf("the revoke never reached the vendor: %+v", e.Sim.Calls())
			}
			time.Sleep(10 * time.Millisecond)
		}
		e.Worker.Shutdown() // returns after the 2s shutdown bound, the call cancelled
		if c, _ := e.Store.GetCase(t.Context(), id); c.State != offboard.StateInProgress || c.Entries[0].Outcome != "pending" {
			t.Fatalf("after shutdown the entry must still be pending: %+v", c)
		}

		release()
		e.Worker = e.startWorker()
		c := e.waitCase(id)
		if c.State != offboard.StateCompleted || c.Entries[0].Outcome != "acknowledged" {
			t.Fatalf("case after restart: %s %+v", c.State, c.Entries[0])
		}
		var ok, cancelled int
		for _, call := range e.Sim.Calls() {
			if call.Method == http.MethodDelete && strings.HasSuffix(call.Path, "/sessions") {
				switch call.Status {
				case http.StatusNoContent:
					ok++
				default:
					cancelled++
				}
			}
		}
		if ok != 1 || cancelled != 1 {
			t.Fatalf("want one cancelled and one successful revoke at the vendor, got %d and %d", cancelled, ok)
		}
		var outcomes int
		for _, a := range c.Audit {
			if a.Action == "entry.outcome" {
				outcomes++
			}
		}
		if outcomes != 1 {
			t.Fatalf("want one recorded outcome, got %d", outcomes)
		}
	})
}

// heldRevoke reports whether a session revocation is in flight at the vendor.
func heldRevoke(e *env) bool {
	for _, call := range e.Sim.Calls() {
		if call.Method == http.MethodDelete && call.Status == 0 {
			return true
		}
	}
	return false
}
