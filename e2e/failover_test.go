package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/internal/testenv"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/simulator"
	"github.com/offboarder/offboarder/sources"
)

// TestRedisFailoverUnderLoad runs the built binary (`offboarder run`) on
// REDIS_URL=redis+sentinel://… against a master, a replica and three
// redis-sentinel processes, sends a stream of webhooks, and kills the
// master (SIGKILL) early in it. The sentinels promote the replica; what
// the dead master had not yet copied to it is lost, and the relay
// re-creates it from the database. The dead node then comes back empty as
// the new master's replica, and SENTINEL FAILOVER moves the master back to
// it, still under load. Then: every delivery was
// accepted, every case completed, each person's sessions ended at the
// vendor (a revoke in flight at the kill may be repeated once, and is
// counted), and the audit chain verifies. It takes about half a minute:
// it runs from `make test-faults` (OFFBOARDER_FAULT_TESTS=1), which CI
// calls.
func TestRedisFailoverUnderLoad(t *testing.T) {
	if os.Getenv("OFFBOARDER_FAULT_TESTS") == "" {
		t.Skip("SKIP: half a minute long; run with make test-faults (OFFBOARDER_FAULT_TESTS=1)")
	}
	const people, killAfter = 200, 30
	dir := t.TempDir()
	bin := buildOffboarder(t)
	db := filepath.Join(dir, "o.db")
	e := start(t, "sqlite:"+db, envOptions{noWorker: true})
	e.Sim.Tune(func(o *simulator.Options) { o.Latency = 50 * time.Millisecond })
	for i := range people {
		e.Sim.AddUser(person(i), 1)
	}
	s := testenv.StartSentinels(t, 3)

	cfg := writeConfig(t, map[string]any{
		"sources": []map[string]any{{"name": "hr", "type": "generic", "secret": hrSecret}},
		"worker":  map[string]any{"relay_interval": "1s", "shutdown_timeout": "2s"},
		"policy":  map[string]any{"hold_after": map[string]any{"cases": 1000000, "within": "1s"}},
	}, unlimited([]connectors.Spec{{Name: "okta", Type: "okta",
		Settings: map[string]any{"base_url": e.SimURL + "/okta", "token": oktaToken}}}))
	addr := freeAddr(t)
	p := startProc(t, bin, []string{"REDIS_URL=" + s.URL(), "DATABASE_URL=sqlite:" + db, "OFFBOARDER_ADMIN_TOKEN=" + adminToken},
		"run", "--config", cfg, "--addr", addr)
	log := p.Log
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("offboarder run log:\n%s", log.String())
		}
	})
	base := "http://" + addr
	waitReady(t, base, log)
	// Info lines reach a pipe in batches (at most 100 ms late).
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(log.String(), `sentinel master \"offboarder\" via 3 sentinel(s)`); {
		if time.Now().After(deadline) {
			t.Errorf("the startup log does not name the Sentinel topology:\n%s", log.String())
			break
		}
		time.Sleep(50 * time.Millisecond)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	ids := make([]string, people)
	var killedAt, promotedAt, switchedAt, switchedTo time.Time
	switchedAfter := -1 // deliveries sent before the graceful failover
	var sent atomic.Int64
	began := time.Now()
	var phases sync.WaitGroup
	for i := range people {
		if i == killAfter {
			old, err := s.Master(ctx)
			if err != nil {
				t.Fatal(err)
			}
			dead := s.KillMaster(ctx)
			killedAt = time.Now()
			// The harsher fault first: the master killed. Once the replica
			// is promoted, the dead node comes back empty as its replica,
			// and the sentinels are asked to fail over to it (SENTINEL
			// FAILOVER) while the deliveries go on.
			phases.Go(func() {
				promoted, err := s.WaitNewMaster(ctx, old)
				if err != nil {
					t.Error(err)
					return
				}
				promotedAt = time.Now()
				if err := s.Rejoin(ctx, dead); err != nil {
					t.Error(err)
					return
				}
				switchedAfter = int(sent.Load())
				switchedAt = time.Now()
				if err := s.Failover(ctx); err != nil {
					t.Errorf("SENTINEL FAILOVER: %v", err)
					return
				}
				if _, err := s.WaitNewMaster(ctx, promoted); err != nil {
					t.Error(err)
					return
				}
				switchedTo = time.Now()
			})
		}
		b := body(fmt.Sprintf("evt-failover-%d", i), person(i))
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/webhooks/hr", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(sources.SignatureHeader, sources.SignatureValue(time.Now(), b, []byte(hrSecret)))
		code, res := e.do(req)
		if code != http.StatusAccepted {
			t.Fatalf("delivery %d: %d %v", i, code, res)
		}
		ids[i] = res["case_id"].(string)
		sent.Store(int64(i + 1))
		time.Sleep(50 * time.Millisecond)
	}
	phases.Wait()
	if t.Failed() {
		t.FailNow()
	}
	sentAt := time.Now()

	for i, id := range ids {
		for {
			c, err := e.Store.GetCase(ctx, id)
			if err == nil && c.State == offboard.StateCompleted {
				break
			}
			if err == nil && c.State != offboard.StateInProgress && c.State != offboard.StatePending {
				t.Fatalf("case %d (%s) closed %s: %+v", i, person(i), c.State, c)
			}
			if ctx.Err() != nil {
				t.Fatalf("case %d (%s) was left %+v (%v)", i, person(i), c, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	doneAt := time.Now()

	revoked := map[string]int{}
	for _, call := range e.Sim.Calls() {
		if call.Method == http.MethodDelete && strings.HasSuffix(call.Path, "/sessions") && call.Status == http.StatusNoContent {
			revoked[call.User]++
		}
	}
	repeated := 0
	for i := range people {
		switch n := revoked[person(i)]; {
		case n == 0:
			t.Errorf("%s: never revoked at the vendor", person(i))
		case n > 2:
			t.Errorf("%s: revoked %d times at the vendor", person(i), n)
		default:
			repeated += n - 1
		}
		if n := e.Sim.Sessions("okta", person(i)); n != 0 {
			t.Errorf("%s: %d sessions left", person(i), n)
		}
	}
	// Readiness and the dashboard's Redis page (INFO) reach the new master.
	waitReady(t, base, log)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/monitoring/api/redis_info", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	if code, res := e.do(req); code != http.StatusOK || res["info"] == nil {
		t.Errorf("the dashboard's Redis page after the failover: %d %v", code, res)
	}
	if _, err := e.Store.VerifyAudit(ctx); err != nil {
		t.Errorf("audit chain: %v", err)
	}
	t.Logf("%d cases over %v; master killed after %d: a new master %v after the kill; the dead node back as a replica and SENTINEL FAILOVER after %d deliveries (%v after the kill): a new master %v later; every case completed %v after the last delivery; revocations repeated at the vendor: %d; tasks re-created by the relay: %d",
		people, sentAt.Sub(began).Round(100*time.Millisecond), killAfter,
		promotedAt.Sub(killedAt).Round(10*time.Millisecond), switchedAfter, switchedAt.Sub(killedAt).Round(10*time.Millisecond),
		switchedTo.Sub(switchedAt).Round(10*time.Millisecond), doneAt.Sub(sentAt).Round(10*time.Millisecond),
		repeated, relayed(log.String()))
	if switchedAfter >= people {
		t.Errorf("the graceful failover came after the last delivery: the load is too short")
	}
	if repeated > 10 {
		t.Errorf("%d revocations repeated at the vendor: more than the revokes that can be in flight at the kill", repeated)
	}
}

func person(i int) string { return fmt.Sprintf("leaver%03d@example.com", i) }

// relayed sums the tasks the relay logged as re-created.
func relayed(log string) int {
	n := 0
	for _, line := range strings.Split(log, "\n") {
		if m := relayedRE.FindStringSubmatch(line); m != nil && strings.Contains(line, "relay re-created work missing from Redis") {
			k, _ := strconv.Atoi(m[1])
			n += k
		}
	}
	return n
}

var relayedRE = regexp.MustCompile(`"tasks":(\d+)`)
