package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/simulator"
	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/tasks"
)

// waitArchived waits until the task id is archived in queue with an error
// that contains want, or fails after 10s.
func (e *env) waitArchived(queue, id, want string) *asynq.TaskInfo {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := e.Insp.GetTaskInfo(queue, id)
		if err == nil && info.State == asynq.TaskStateArchived && strings.Contains(info.LastErr, want) {
			return info
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("task %s not archived with %q in time: %+v, %v", id, want, info, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRetryAfterTheVendorIsFixed: a vendor that rejects the credentials
// fails the entry at once, and the case needs attention. The dashboard's
// Run on the archived task changes nothing and archives it again, saying
// how to retry. Once the credentials are fixed, a retry through the admin
// API runs the revoke once more and the case completes.
func TestRetryAfterTheVendorIsFixed(t *testing.T) {
	dialects(t, func(t *testing.T, dbURL func(t *testing.T) string) {
		const rejected = "a-revoked-okta-token"
		e := start(t, dbURL(t), envOptions{oktaToken: rejected})
		code, res := e.post("hr", body("evt-401", "alice@example.com"), "")
		if code != http.StatusAccepted {
			t.Fatalf("%d %v", code, res)
		}
		id := res["case_id"].(string)
		c := e.waitCase(id)
		if c.State != offboard.StateNeedsAttention || c.Entries[0].Outcome != offboard.Failed {
			t.Fatalf("want a failed entry and the case needing attention, got %s %+v", c.State, c.Entries[0])
		}
		taskID := tasks.RevokeID(id, "okta")
		info := e.waitArchived(tasks.QueueRevoke, taskID, "offboarder cases retry "+id+" --connector okta")
		if !strings.Contains(info.LastErr, "credentials rejected") {
			t.Errorf("the archived task's error lost the vendor's reason: %q", info.LastErr)
		}
		calls := len(e.Sim.Calls())

		// The dashboard's Run: 204, the task runs, finds the entry failed,
		// calls no one, and is archived again with the way to retry.
		run := "/monitoring/api/queues/" + tasks.QueueRevoke + "/archived_tasks/" + taskID + ":run"
		if code, body := e.admin(http.MethodPost, run, adminToken, nil); code != http.StatusNoContent {
			t.Fatalf("dashboard run: %d %v", code, body)
		}
		e.waitArchived(tasks.QueueRevoke, taskID, "the entry is already failed; to try again, retry the entry")
		if n := len(e.Sim.Calls()); n != calls {
			t.Fatalf("the dashboard's Run called the vendor: %d calls, want %d", n, calls)
		}
		if c, _ := e.Store.GetCase(t.Context(), id); c.State != offboard.StateNeedsAttention || c.Entries[0].Attempts != 1 {
			t.Fatalf("after the dashboard's Run: %s %+v, want needs_attention after one attempt", c.State, c.Entries[0])
		}

		// The credentials are fixed; a person retries.
		e.Sim.Tune(func(o *simulator.Options) { o.OktaToken = rejected })
		code, out := e.admin(http.MethodPost, "/v1/cases/"+id+"/entries/okta/retry", adminToken, []byte(`{"who":"Dana Admin","note":"token rotated"}`))
		if code != http.StatusOK || out["queued"] != true || out["case_state"] != "in_progress" {
			t.Fatalf("retry: %d %v", code, out)
		}
		c = e.waitCase(id)
		en := c.Entries[0]
		if c.State != offboard.StateCompleted || en.Outcome != offboard.Acknowledged || en.Attempts != 2 {
			t.Fatalf("after the retry: %s %+v, want completed, acknowledged on the second attempt", c.State, en)
		}
		if n := e.Sim.Sessions("okta", "alice@example.com"); n != 0 {
			t.Fatalf("sessions left: %d", n)
		}
		if n := len(e.Sim.Calls()); n <= calls {
			t.Fatalf("the retry called no vendor: %d calls", n)
		}
		want := []string{"entry.outcome", "case.closed", "case.reopened", "entry.retried", "entry.outcome", "case.closed"}
		if got := auditActions(c)[2:]; strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("audit = %v, want … %v", auditActions(c), want)
		}
		if code, out := e.admin(http.MethodGet, "/v1/audit/verify", adminToken, nil); code != http.StatusOK || out["verified"] != true {
			t.Errorf("audit verify: %d %v", code, out)
		}
	})
}

// TestCancelAScheduledCase: a case whose effective time is ahead is
// cancelled; its offboard task leaves Redis, and an offboard task that
// runs anyway (queued by hand) does nothing: the vendor is never called.
func TestCancelAScheduledCase(t *testing.T) {
	dialects(t, func(t *testing.T, dbURL func(t *testing.T) string) {
		e := start(t, dbURL(t), envOptions{})
		eff := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second)
		code, res := e.post("hr", body("evt-later", "alice@example.com", `"effective_at":"`+eff.Format(time.RFC3339)+`"`), "")
		if code != http.StatusAccepted {
			t.Fatalf("%d %v", code, res)
		}
		id := res["case_id"].(string)
		taskID := tasks.OffboardID(id, eff)
		if info, err := e.Insp.GetTaskInfo(tasks.QueueOffboard, taskID); err != nil || info.State != asynq.TaskStateScheduled {
			t.Fatalf("the scheduled offboard task: %+v, %v", info, err)
		}
		code, out := e.admin(http.MethodPost, "/v1/cases/"+id+"/cancel", "", []byte(`{"who":"Dana Admin"}`))
		if code != http.StatusUnauthorized {
			t.Fatalf("cancel without the token: %d %v", code, out)
		}
		code, out = e.admin(http.MethodPost, "/v1/cases/"+id+"/cancel", adminToken, []byte(`{"who":"Dana Admin","note":"rehired"}`))
		if code != http.StatusOK || out["case_state"] != "cancelled" || out["tasks_removed"] != float64(1) {
			t.Fatalf("cancel: %d %v", code, out)
		}
		if _, err := e.Insp.GetTaskInfo(tasks.QueueOffboard, taskID); err == nil {
			t.Fatalf("the offboard task %s is still in Redis", taskID)
		}

		// The offboard task runs anyway: a no-op.
		client := asynq.NewClient(asynq.RedisClientOpt{Addr: e.Redis.Addr})
		t.Cleanup(func() { client.Close() })
		now := time.Now()
		if ok, err := tasks.NewQueue(client, tasks.Settings{}).Offboard(t.Context(), tasks.Offboard{CaseID: id, EffectiveAt: now}); !ok || err != nil {
			t.Fatalf("Offboard = %v, %v", ok, err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			info, err := e.Insp.GetTaskInfo(tasks.QueueOffboard, tasks.OffboardID(id, now))
			if err == nil && info.State == asynq.TaskStateCompleted {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the offboard task did not complete: %+v, %v", info, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		c, err := e.Store.GetCase(t.Context(), id)
		if err != nil || c.State != offboard.StateCancelled || len(c.Entries) != 0 || c.ClosedReason != "cancelled by Dana Admin: rehired" {
			t.Fatalf("case = %+v, %v; want cancelled, no entries", c, err)
		}
		if n := len(e.Sim.Calls()); n != 0 {
			t.Fatalf("the vendor was called %d times", n)
		}
		if n := e.Sim.Sessions("okta", "alice@example.com"); n != 2 {
			t.Fatalf("alice's sessions: %d, want her 2 kept", n)
		}
		// A new event for her opens a new case.
		code, res = e.post("hr", body("evt-again", "alice@example.com"), "")
		if code != http.StatusAccepted || res["case_id"] == id {
			t.Fatalf("a new event after the cancellation: %d %v, want a new case", code, res)
		}
	})
}

// TestNobodyFound: an address no connected system knows (a typo) ends
// needs_attention, saying so, where a person reads the case.
func TestNobodyFound(t *testing.T) {
	dialects(t, func(t *testing.T, dbURL func(t *testing.T) string) {
		e := start(t, dbURL(t), envOptions{})
		code, res := e.post("hr", body("evt-typo", "alcie@example.com"), "")
		if code != http.StatusAccepted {
			t.Fatalf("%d %v", code, res)
		}
		id := res["case_id"].(string)
		c := e.waitCase(id)
		if c.State != offboard.StateNeedsAttention || c.Entries[0].Outcome != offboard.NotFound {
			t.Fatalf("case %s %+v, want needs_attention with the entry not_found", c.State, c.Entries)
		}
		code, out := e.admin(http.MethodGet, "/v1/cases/"+id, adminToken, nil)
		if code != http.StatusOK || out["closed_reason"] != "no connected system knows this address" {
			t.Fatalf("GET the case: %d %v", code, out)
		}
	})
}

func auditActions(c *store.Case) []string {
	out := make([]string, len(c.Audit))
	for i, a := range c.Audit {
		out[i] = a.Action
	}
	return out
}
