package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/store"
)

// TestKilledWorkerProcessLosesNothing kills (SIGKILL) an `offboarder work`
// process while the vendor holds its revoke open, starts another, and
// expects the entry to complete with exactly one successful revocation at
// the vendor. asynq hands a dead worker's task on once its lease has been
// expired for 30 s, so this takes a minute or two: it runs from
// `make test-faults` (OFFBOARDER_FAULT_TESTS=1), which CI calls.
func TestKilledWorkerProcessLosesNothing(t *testing.T) {
	if os.Getenv("OFFBOARDER_FAULT_TESTS") == "" {
		t.Skip("SKIP: a minute or two long; run with make test-faults (OFFBOARDER_FAULT_TESTS=1)")
	}
	dir := t.TempDir()
	bin := buildOffboarder(t)
	db := filepath.Join(dir, "o.db")
	e := start(t, "sqlite:"+db, envOptions{noWorker: true})
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`
sources:
  - name: hr
    type: generic
    secret: %s
connectors:
  - name: okta
    type: okta
    base_url: %s/okta
    token: %s
worker:
  relay_interval: 1s
  shutdown_timeout: 2s
`, hrSecret, e.SimURL, oktaToken)), 0o600); err != nil {
		t.Fatal(err)
	}
	work := func() *proc {
		return startProc(t, bin, []string{"REDIS_URL=redis://" + e.Redis.Addr, "DATABASE_URL=sqlite:" + db},
			"work", "--config", cfg, "--addr", "127.0.0.1:0")
	}

	release := e.Sim.Hold("okta")
	first := work()
	code, res := e.post("hr", body("evt-kill", "alice@example.com"), "")
	if code != http.StatusAccepted {
		t.Fatalf("%d %v", code, res)
	}
	id := res["case_id"].(string)
	deadline := time.Now().Add(30 * time.Second)
	for !heldRevoke(e) {
		if time.Now().After(deadline) {
			t.Fatalf("the revoke never reached the vendor; worker log:\n%s", first.Log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	first.Kill(t)
	// The vendor notices the caller is gone before the hold ends (else it
	// would carry out a call nobody waits for, as a real vendor might: the
	// revocation is then simply done twice, which this test does not cover).
	deadline = time.Now().Add(10 * time.Second)
	for heldRevoke(e) {
		if time.Now().After(deadline) {
			t.Fatal("the vendor never noticed the killed worker's call was gone")
		}
		time.Sleep(10 * time.Millisecond)
	}
	release()

	second := work()
	deadline = time.Now().Add(4 * time.Minute)
	var c *store.Case
	for {
		var err error
		c, err = e.Store.GetCase(t.Context(), id)
		if err == nil && c.State == offboard.StateCompleted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the case was left stuck: %+v\nsecond worker log:\n%s", c, second.Log)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if c.Entries[0].Outcome != "acknowledged" {
		t.Fatalf("entry: %+v", c.Entries[0])
	}
	var ok int
	for _, call := range e.Sim.Calls() {
		if call.Method == http.MethodDelete && strings.HasSuffix(call.Path, "/sessions") && call.Status == http.StatusNoContent {
			ok++
		}
	}
	var outcomes int
	for _, a := range c.Audit {
		if a.Action == "entry.outcome" {
			outcomes++
		}
	}
	if ok != 1 || outcomes != 1 {
		t.Fatalf("want exactly one successful revocation and one recorded outcome, got %d and %d", ok, outcomes)
	}
	if n := e.Sim.Sessions("okta", "alice@example.com"); n != 0 {
		t.Fatalf("sessions left: %d", n)
	}
}
