package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/worker"
)

// TestRelayStaysQuietUnderABurst sends a burst of webhooks as fast as 16
// senders can, with the relay passing every 200 ms over work whose tasks
// complete under it: no fault, so offboarder_relay_tasks_total stays 0 and
// no case is fanned out twice. Then Redis is wiped (FLUSHALL) under ten
// scheduled cases: the relay re-creates exactly their ten tasks, and they
// complete.
func TestRelayStaysQuietUnderABurst(t *testing.T) {
	const total = 2000
	reg := prometheus.NewRegistry()
	e := start(t, "sqlite:"+t.TempDir()+"/o.db", envOptions{concurrency: 50, relay: 200 * time.Millisecond, metrics: worker.NewMetrics(reg)})
	for i := range total {
		e.Sim.AddUser(fmt.Sprintf("burst%d@example.com", i), 1)
	}
	ids := e.burst(t, "burst", total, "")
	e.waitCompleted(t, ids, 3*time.Minute)
	if n := counter(reg, "offboarder_relay_tasks_total"); n != 0 {
		t.Errorf("offboarder_relay_tasks_total = %v after a burst without faults, want 0", n)
	}
	runs := fanOuts(t, e)
	if len(runs) != total {
		t.Errorf("%d cases fanned out, want %d", len(runs), total)
	}
	for id, n := range runs {
		if n != 1 {
			t.Errorf("case %s fanned out %d times", id, n)
		}
	}
	if t.Failed() {
		return
	}

	// A wipe is a fault: the relay moves, and the work is done.
	const wiped = 10
	for i := range wiped {
		e.Sim.AddUser(fmt.Sprintf("wiped%d@example.com", i), 1)
	}
	at := fmt.Sprintf(`"effective_at":%q`, time.Now().Add(3*time.Second).UTC().Format(time.RFC3339))
	later := e.burst(t, "wiped", wiped, at)
	rc := redis.NewClient(&redis.Options{Addr: e.Redis.Addr})
	defer rc.Close()
	if err := rc.FlushAll(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	e.waitCompleted(t, later, time.Minute)
	if n := counter(reg, "offboarder_relay_tasks_total"); n != wiped {
		t.Errorf("offboarder_relay_tasks_total = %v after a wipe under %d scheduled cases, want %d", n, wiped, wiped)
	}
}

// burst sends n generic webhooks for prefix<i>@example.com, 16 at a time,
// each with the extra body fields, and returns their case ids.
func (e *env) burst(t *testing.T, prefix string, n int, extra string) []string {
	t.Helper()
	ids := make([]string, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range next {
				var more []string
				if extra != "" {
					more = append(more, extra)
				}
				code, res := e.post("hr", body(fmt.Sprintf("%s-%d", prefix, i), fmt.Sprintf("%s%d@example.com", prefix, i), more...), "")
				if code != http.StatusAccepted {
					t.Errorf("webhook %s-%d: %d %v", prefix, i, code, res)
					continue
				}
				ids[i], _ = res["case_id"].(string)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return ids
}

// waitCompleted waits until every case is completed, failing after d.
func (e *env) waitCompleted(t *testing.T, ids []string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
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
}

// fanOuts counts the worker's "case fanned out" log lines by case: one
// per run of an offboard task that fanned its case out.
func fanOuts(t *testing.T, e *env) map[string]int {
	t.Helper()
	n := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(e.Log.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l struct {
			Message string `json:"message"`
			CaseID  string `json:"case_id"`
		}
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Message == "case fanned out" {
			n[l.CaseID]++
		}
	}
	if len(n) == 0 {
		t.Fatal("no case fanned out in the log")
	}
	return n
}

// counter reads a counter without labels from reg; -1 when it is not there.
func counter(reg *prometheus.Registry, name string) float64 {
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return -1
}
