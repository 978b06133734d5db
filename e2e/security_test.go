package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/simulator"
	"github.com/offboarder/offboarder/tasks"
)

// TestSecurityCaseOvertakesABacklog: a burst of ordinary leavers on a slow
// vendor and two workers builds a backlog; one security case sent after
// them is revoked while most of the backlog still waits. Order, not time:
// the simulator's record of calls shows the security case's calls before
// most of the backlog's.
func TestSecurityCaseOvertakesABacklog(t *testing.T) {
	dialects(t, func(t *testing.T, dbURL func(*testing.T) string) {
		const backlog = 40
		e := start(t, dbURL(t), envOptions{concurrency: 2, quiet: true})
		e.Sim.Tune(func(o *simulator.Options) { o.Latency = 40 * time.Millisecond })
		ids := make([]string, 0, backlog+1)
		for i := range backlog {
			email := fmt.Sprintf("leaver%d@example.com", i)
			e.Sim.AddUser(email, 1)
			code, res := e.post("hr", body(fmt.Sprintf("burst-%d", i), email), "")
			if code != http.StatusAccepted {
				t.Fatalf("leaver %d: %d %v", i, code, res)
			}
			ids = append(ids, res["case_id"].(string))
		}
		const compromised = "compromised@example.com"
		e.Sim.AddUser(compromised, 2)
		code, res := e.post("hr", []byte(`{"id":"sec-1","email":"`+compromised+`","reason":"security"}`), "")
		if code != http.StatusAccepted {
			t.Fatalf("security event: %d %v", code, res)
		}
		sec := res["case_id"].(string)
		ids = append(ids, sec)
		for _, id := range ids {
			if c := e.waitClosed(id); c.State != offboard.StateCompleted {
				t.Fatalf("case %s: %+v", id, c)
			}
		}
		if c := e.waitCase(sec); !c.Security || c.Reason != offboard.ReasonSecurity {
			t.Fatalf("security case: %+v", c)
		}

		// The position of the security case's last call, and the backlog
		// leavers not yet called by then.
		calls := e.Sim.Calls()
		last, deletes := -1, 0
		for i, c := range calls {
			if c.User == compromised {
				last = i
				if c.Method == http.MethodDelete && strings.HasSuffix(c.Path, "/sessions") {
					deletes++
				}
			}
		}
		if last < 0 || deletes != 1 {
			t.Fatalf("security case: last call at %d, %d session revocations; want one", last, deletes)
		}
		waiting := map[string]bool{}
		for _, c := range calls[last+1:] {
			if strings.HasPrefix(c.User, "leaver") {
				waiting[c.User] = true
			}
		}
		for _, c := range calls[:last] {
			delete(waiting, c.User)
		}
		t.Logf("security case done at call %d of %d; %d of %d leavers not yet called", last+1, len(calls), len(waiting), backlog)
		if len(waiting) < backlog/4 {
			t.Fatalf("the security case's calls came after all but %d of %d leavers: it waited behind the backlog", len(waiting), backlog)
		}
	})
}

// TestSecurityEventBringsAScheduledCaseToTheSecurityQueue: a leaver
// scheduled for next week whose account is then compromised is revoked now,
// on the security queue, once; the task for next week finds the case closed.
func TestSecurityEventBringsAScheduledCaseToTheSecurityQueue(t *testing.T) {
	e := start(t, "sqlite:"+t.TempDir()+"/o.db", envOptions{})
	week := time.Now().Add(7 * 24 * time.Hour).UTC().Format(time.RFC3339)
	code, res := e.post("hr", body("term-1", "alice@example.com", `"effective_at":"`+week+`"`), "")
	if code != http.StatusAccepted {
		t.Fatalf("terminated event: %d %v", code, res)
	}
	id := res["case_id"].(string)
	code, res = e.post("hr", []byte(`{"id":"sec-1","email":"alice@example.com","reason":"security"}`), "")
	if code != http.StatusAccepted || res["case_id"] != id {
		t.Fatalf("security event: %d %v; want it on case %s", code, res, id)
	}
	c := e.waitCase(id)
	if c.State != offboard.StateCompleted || !c.Security || c.Reason != offboard.ReasonTerminated {
		t.Fatalf("case: %+v; want completed, Security, reason terminated", c)
	}
	if _, err := e.Insp.GetTaskInfo(tasks.QueueSecurity, tasks.RevokeID(id, "okta")); err != nil {
		t.Fatalf("the revoke task is not on the security queue: %v", err)
	}
	if n := e.queued(tasks.QueueRevoke); n != 0 {
		t.Fatalf("%d tasks on the revoke queue, want 0", n)
	}
	var deletes int
	for _, call := range e.Sim.Calls() {
		if call.Method == http.MethodDelete && strings.HasSuffix(call.Path, "/sessions") {
			deletes++
		}
	}
	if deletes != 1 {
		t.Fatalf("%d session revocations at the vendor, want 1", deletes)
	}
}
