package webhook

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/tasks"
)

// TestPausedQueueIsVisible: a paused queue runs nothing and is kept in Redis
// across restarts, so it must not go unnoticed. Paused through asynq's
// Inspector (as the dashboard does), the revoke queue reads 1 in
// offboarder_queue_paused, /readyz stays 200 and names it in "queues" and
// "warnings", and the log warns once (not at every look); resumed, the gauge
// reads 0 and readyz has no warning.
func TestPausedQueueIsVisible(t *testing.T) {
	s := startSurface(t)
	if _, err := tasks.NewQueue(s.client, tasks.Settings{}).Revoke(t.Context(), tasks.Revoke{CaseID: "c1", Connector: "okta"}); err != nil {
		t.Fatal(err)
	}
	gauge := func(queue string) float64 {
		t.Helper()
		mfs, err := s.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "offboarder_queue_paused" {
				continue
			}
			for _, m := range mf.GetMetric() {
				if m.GetLabel()[0].GetValue() == queue {
					return m.GetGauge().GetValue()
				}
			}
		}
		t.Fatalf("no offboarder_queue_paused{queue=%q}", queue)
		return 0
	}
	type ready struct {
		Queues   map[string]string `json:"queues"`
		Warnings []string          `json:"warnings"`
	}
	readyz := func() ready {
		t.Helper()
		code, body := s.send(http.MethodGet, "/readyz", nil, "")
		if code != http.StatusOK {
			t.Fatalf("readyz: want 200, got %d %s", code, body)
		}
		var r ready
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("waited 5s for %s", what)
			}
		}
	}

	waitFor("the first look at the queues", func() bool { return readyz().Queues[tasks.QueueRevoke] == queueRunning })
	if r := readyz(); r.Queues[tasks.QueueOffboard] != queueRunning || len(r.Warnings) != 0 {
		t.Fatalf("before the pause: %+v", r)
	}
	if gauge(tasks.QueueRevoke) != 0 || gauge(tasks.QueueOffboard) != 0 {
		t.Fatal("before the pause: the gauge is not 0")
	}

	if err := s.insp.PauseQueue(tasks.QueueRevoke); err != nil {
		t.Fatal(err)
	}
	waitFor("the gauge to read 1", func() bool { return gauge(tasks.QueueRevoke) == 1 })
	r := readyz()
	if r.Queues[tasks.QueueRevoke] != queuePaused || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "queue revoke is paused") {
		t.Fatalf("readyz while revoke is paused: %+v", r)
	}
	if r.Queues[tasks.QueueOffboard] != queueRunning || gauge(tasks.QueueOffboard) != 0 {
		t.Fatalf("the offboard queue is not paused: %+v, gauge %v", r, gauge(tasks.QueueOffboard))
	}
	time.Sleep(200 * time.Millisecond) // about ten more looks
	if n := strings.Count(s.log.String(), "queue is paused"); n != 1 {
		t.Errorf("want one warning for the paused queue within a minute, got %d", n)
	}

	if err := s.insp.UnpauseQueue(tasks.QueueRevoke); err != nil {
		t.Fatal(err)
	}
	waitFor("the gauge to read 0", func() bool { return gauge(tasks.QueueRevoke) == 0 })
	if r := readyz(); r.Queues[tasks.QueueRevoke] != queueRunning || len(r.Warnings) != 0 {
		t.Fatalf("readyz after the resume: %+v", r)
	}
	if !strings.Contains(s.log.String(), "queue resumed") {
		t.Error("no log line for the resume")
	}
}
