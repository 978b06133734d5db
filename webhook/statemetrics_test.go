package webhook

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/tasks"
)

// scrape reads /metrics over HTTP and answers each sample's value by its
// series ("name{labels}" as the text format writes it).
func (s *surface) scrape() map[string]float64 {
	s.t.Helper()
	code, body := s.send(http.MethodGet, "/metrics", nil, "")
	if code != http.StatusOK {
		s.t.Fatalf("GET /metrics: %d %s", code, body)
	}
	out := map[string]float64{}
	for line := range strings.Lines(body) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(line[i+1:]), 64)
		if err != nil {
			s.t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// TestMetricsTellCasesByStateAndQueues: /metrics counts the cases in each
// state (every state word, 0 where none), gives the age of the oldest
// manual step, and carries asynq's own queue metrics for offboarder's
// queues and for no other queue of the same Redis.
func TestMetricsTellCasesByStateAndQueues(t *testing.T) {
	s := manualSurface(t)
	if got := s.scrape()["offboarder_manual_oldest_seconds"]; got != 0 {
		t.Errorf("no manual step yet: offboarder_manual_oldest_seconds = %v, want 0", got)
	}
	s.caseWith("ann@example.com", map[string]offboard.Outcome{"okta": offboard.Verified})
	s.caseWith("bob@example.com", map[string]offboard.Outcome{"okta": offboard.Verified, "lucid": offboard.ManualRequired})
	s.caseWith("cy@example.com", map[string]offboard.Outcome{"okta": offboard.Pending})
	if _, err := s.store.Ingest(t.Context(), store.Event{Source: "hr", EventID: "ev-dee", Email: "dee@example.com",
		Reason: offboard.ReasonTerminated, Actor: "source:hr"}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{tasks.QueueRevoke, tasks.QueueRevoke, "another-app"} {
		if _, err := s.client.Enqueue(asynq.NewTask("metrics:test", nil), asynq.Queue(q)); err != nil {
			t.Fatal(err)
		}
	}

	m := s.scrape()
	want := map[offboard.State]float64{
		offboard.StateCompleted: 1, offboard.StateNeedsAttention: 1, offboard.StateInProgress: 1, offboard.StatePending: 1,
	}
	for _, st := range offboard.States {
		key := `offboarder_cases{state="` + string(st) + `"}`
		if got, ok := m[key]; !ok || got != want[st] {
			t.Errorf("%s = %v (present %v), want %v", key, got, ok, want[st])
		}
	}
	if got := m["offboarder_manual_oldest_seconds"]; got <= 0 || got > 60 {
		t.Errorf("offboarder_manual_oldest_seconds = %v, want the age of bob's lucid step (a moment)", got)
	}
	if got, ok := m[`asynq_queue_size{queue="revoke"}`]; !ok || got != 2 {
		t.Errorf(`asynq_queue_size{queue="revoke"} = %v (present %v), want 2`, got, ok)
	}
	for _, name := range []string{`asynq_tasks_processed_total{queue="revoke"}`, `asynq_tasks_failed_total{queue="revoke"}`,
		`asynq_queue_latency_seconds{queue="revoke"}`, `asynq_tasks_enqueued_total{queue="revoke",state="pending"}`} {
		if _, ok := m[name]; !ok {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	for series := range m {
		if strings.Contains(series, "another-app") {
			t.Errorf("/metrics carries a queue outside offboarder's own: %s", series)
		}
	}
}
