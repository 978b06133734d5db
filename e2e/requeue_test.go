package e2e

import (
	"net/http"
	"testing"

	"github.com/offboarder/offboarder/tasks"
)

// TestDuplicateOfAnOpenCaseRequeuesItsWork: when a delivery was committed
// but its task never reached Redis (the answer or the enqueue was cut
// off), the sender's retry — a duplicate — queues the case's work again at
// once, without waiting for the relay.
func TestDuplicateOfAnOpenCaseRequeuesItsWork(t *testing.T) {
	e := start(t, "sqlite:"+t.TempDir()+"/o.db", envOptions{noWorker: true})
	b := body("requeue-1", "erin@example.com")
	code, res := e.post("hr", b, "")
	if code != http.StatusAccepted {
		t.Fatalf("%d %v", code, res)
	}
	c, err := e.Store.CaseRow(t.Context(), res["case_id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	id := tasks.OffboardID(c.ID, c.EffectiveAt)
	if err := e.Insp.DeleteTask(tasks.QueueOffboard, id); err != nil {
		t.Fatalf("delete the task (as if Redis lost it): %v", err)
	}
	if n := e.queued(tasks.QueueOffboard); n != 0 {
		t.Fatalf("%d offboard tasks after the delete", n)
	}
	code, res = e.post("hr", b, "")
	if code != http.StatusAccepted || res["duplicate"] != true {
		t.Fatalf("retry: %d %v", code, res)
	}
	if _, err := e.Insp.GetTaskInfo(tasks.QueueOffboard, id); err != nil {
		t.Fatalf("the duplicate did not queue the case's work again: %v", err)
	}
	// And a third delivery finds it queued: still one task.
	e.post("hr", b, "")
	if n := e.queued(tasks.QueueOffboard); n != 1 {
		t.Fatalf("want one offboard task, got %d", n)
	}
}
