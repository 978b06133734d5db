package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/tasks"
)

// TestARevokeWaitingForItsTurnIsNotAFailure: okta's rate_limit is two calls
// a minute (one turn every 30 s), so the revoke's first call goes and its
// next turn is beyond what the attempt may wait. The task is put back for
// about the turn's wait without using a retry (asynq's retried count stays
// 0), and the entry records no failed attempt: no attempt, no last error.
func TestARevokeWaitingForItsTurnIsNotAFailure(t *testing.T) {
	e := start(t, "sqlite:"+t.TempDir()+"/o.db", envOptions{
		rateLimits: true, oktaRateLimit: map[string]any{"requests": 2, "per": "1m"},
	})
	code, res := e.post("hr", body("evt-turn", "alice@example.com"), "")
	if code != http.StatusAccepted {
		t.Fatalf("%d %v", code, res)
	}
	id := res["case_id"].(string)

	var info *asynq.TaskInfo
	deadline := time.Now().Add(30 * time.Second)
	for {
		var err error
		info, err = e.Insp.GetTaskInfo(tasks.QueueRevoke, tasks.RevokeID(id, "okta"))
		if err == nil && info.State == asynq.TaskStateRetry {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the revoke was not put back within 30 s: %+v, %v", info, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if info.Retried != 0 {
		t.Errorf("asynq's retried count is %d, want 0: waiting for a turn used a retry", info.Retried)
	}
	if wait := time.Until(info.NextProcessAt); wait < 15*time.Second || wait > 50*time.Second {
		t.Errorf("the revoke runs again in %s, want about the 30 s until its turn", wait)
	}
	ev, err := e.Store.Evidence(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	en := ev.Case.Entries[0]
	if en.Outcome != offboard.Pending || en.LastError != "" || len(ev.Attempts) != 0 {
		t.Errorf("entry %s, last error %q, %d attempts recorded; want pending with no failed attempt", en.Outcome, en.LastError, len(ev.Attempts))
	}
	if e.Sim.Sessions("okta", "alice@example.com") == 0 {
		t.Error("alice's sessions are gone: the revoke did not wait for its turn")
	}
}
