package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/simulator"
	"github.com/offboarder/offboarder/tasks"
)

func TestRejectedCredentialsFailTheEntryAtOnce(t *testing.T) {
	e := start(t, "sqlite:"+t.TempDir()+"/o.db", envOptions{oktaToken: "a-revoked-okta-token"})
	code, res := e.post("hr", body("evt-401", "alice@example.com"), "")
	if code != http.StatusAccepted {
		t.Fatalf("%d %v", code, res)
	}
	c := e.waitCase(res["case_id"].(string))
	en := c.Entries[0]
	if c.State != offboard.StateNeedsAttention || en.Outcome != "failed" || en.Attempts != 1 {
		t.Fatalf("want a failed entry after one attempt, got case %s entry %+v", c.State, en)
	}
	if !strings.Contains(en.LastError, "credentials rejected") {
		t.Fatalf("the reason a person needs is not on the entry: %q", en.LastError)
	}
	if strings.Contains(en.LastError, "a-revoked-okta-token") {
		t.Fatal("the token is in the entry's error")
	}
	// No retry: the vendor saw exactly one call, and the task is archived with the reason.
	if n := len(e.Sim.Calls()); n != 1 {
		t.Fatalf("want 1 vendor call, got %d", n)
	}
	archived, err := e.Insp.ListArchivedTasks(tasks.QueueRevoke)
	if err != nil || len(archived) != 1 || !strings.Contains(archived[0].LastErr, "credentials rejected") {
		t.Fatalf("want the revoke task archived with the reason, got %+v, %v", archived, err)
	}
}

func TestVendorOutageIsRetriedUntilItEnds(t *testing.T) {
	e := start(t, "sqlite:"+t.TempDir()+"/o.db", envOptions{})
	e.Sim.Tune(func(o *simulator.Options) { o.ErrorRate = 1 })
	code, res := e.post("hr", body("evt-503", "alice@example.com"), "")
	if code != http.StatusAccepted {
		t.Fatalf("%d %v", code, res)
	}
	id := res["case_id"].(string)
	// Wait for a retry that failed at the vendor (two 503s answered: an
	// attempt is counted when it starts, so attempts >= 2 alone may be a
	// second attempt still on its way); the entry stays pending with the
	// vendor's error.
	failed := func() int {
		n := 0
		for _, c := range e.Sim.Calls() {
			if c.Status == http.StatusServiceUnavailable {
				n++
			}
		}
		return n
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := e.Store.GetCase(t.Context(), id)
		if err == nil && len(c.Entries) == 1 && c.Entries[0].Attempts >= 2 && failed() >= 2 {
			if c.Entries[0].Outcome != "pending" || c.Entries[0].LastError == "" {
				t.Fatalf("a retried entry must stay pending with its last error: %+v", c.Entries[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no retry recorded: %+v %v", c, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.Sim.Tune(func(o *simulator.Options) { o.ErrorRate = 0 })
	c := e.waitCase(id)
	if c.State != offboard.StateCompleted || c.Entries[0].Outcome != "acknowledged" || c.Entries[0].Attempts < 3 {
		t.Fatalf("want acknowledged after retries, got %s %+v", c.State, c.Entries[0])
	}
	if n := e.Sim.Sessions("okta", "alice@example.com"); n != 0 {
		t.Fatalf("sessions left: %d", n)
	}
}
