package e2e

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
)

// TestLoadTwoThousandWebhooks sends 2,000 signed webhooks over 60 s on
// loopback: every one must be accepted and every case completed. The answer
// times are reported (p50, p99), not asserted. It runs from make
// test-faults (OFFBOARDER_FAULT_TESTS=1), which CI calls.
func TestLoadTwoThousandWebhooks(t *testing.T) {
	if os.Getenv("OFFBOARDER_FAULT_TESTS") == "" {
		t.Skip("SKIP: a minute long; run with make test-faults (OFFBOARDER_FAULT_TESTS=1)")
	}
	const total, span = 2000, 60 * time.Second
	e := start(t, "sqlite:"+t.TempDir()+"/o.db", envOptions{concurrency: 50})
	for i := range total {
		e.Sim.AddUser(fmt.Sprintf("load%d@example.com", i), 1)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		lats = make([]time.Duration, 0, total)
		ids  = make([]string, total)
	)
	tick := time.NewTicker(span / total)
	defer tick.Stop()
	for i := range total {
		<-tick.C
		wg.Go(func() {
			t0 := time.Now()
			code, res := e.post("hr", body(fmt.Sprintf("load-%d", i), fmt.Sprintf("load%d@example.com", i)), "")
			d := time.Since(t0)
			if code != http.StatusAccepted {
				t.Errorf("webhook %d: %d %v", i, code, res)
				return
			}
			mu.Lock()
			lats = append(lats, d)
			ids[i] = res["case_id"].(string)
			mu.Unlock()
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	deadline := time.Now().Add(3 * time.Minute)
	for _, id := range ids {
		for {
			c, err := e.Store.GetCase(t.Context(), id)
			if err == nil && c.State == offboard.StateCompleted {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("case %s not completed: %+v %v", id, c, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	slices.Sort(lats)
	t.Logf("%d webhooks over %s: all accepted and completed; answer p50 %s, p99 %s, max %s",
		total, span, lats[len(lats)/2], lats[len(lats)*99/100], lats[len(lats)-1])
}
