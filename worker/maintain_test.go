package worker

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/internal/testenv"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/tasks"
)

// reconciler is a source whose maintenance finds one event its sender did
// not push.
type reconciler struct{ runs atomic.Int32 }

func (*reconciler) Name() string                                         { return "hr-poll" }
func (*reconciler) Type() string                                         { return "generic" }
func (*reconciler) Handshake(*sources.Request) (*sources.Response, bool) { return nil, false }
func (*reconciler) Verify(*sources.Request) error                        { return sources.ErrUnauthorized }
func (*reconciler) Parse(*sources.Request) (sources.Delivery, error)     { return sources.Delivery{}, nil }
func (*reconciler) Interval() time.Duration                              { return time.Hour }

func (r *reconciler) Maintain(context.Context, sources.State) ([]sources.Event, error) {
	r.runs.Add(1)
	return []sources.Event{{ID: "poll-1", Type: "terminated", Email: "ann@example.com", Reason: "terminated"}}, nil
}

// The relay loop schedules the source's maintenance; its task runs once in
// the window, and the event it finds is taken in as a push is: a case,
// recorded under the source, and its offboard task queued and run.
func TestMaintenanceTakesEventsInAsPushesAre(t *testing.T) {
	st, err := store.Open(t.Context(), "sqlite:"+t.TempDir()+"/o.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	opt := asynq.RedisClientOpt{Addr: testenv.StartRedis(t).Addr}
	src := &reconciler{}
	w := New(Options{Redis: opt, Store: st, Sources: []sources.Source{src}, Logger: zerolog.Nop(), RelayInterval: 50 * time.Millisecond})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Shutdown)
	insp := asynq.NewInspector(opt)
	t.Cleanup(func() { insp.Close() })

	var c store.Case
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		cases, err := st.ListCases(t.Context(), store.CaseFilter{Email: "ann@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if len(cases) == 1 && !store.IsOpen(cases[0].State) {
			c = cases[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no closed case for the maintained event after 10 s: %+v (maintenance ran %d times)", cases, src.runs.Load())
		}
	}
	full, err := st.GetCase(t.Context(), c.ID)
	if err != nil || len(full.Events) != 1 || full.Events[0].Source != "hr-poll" || full.Events[0].EventID != "poll-1" {
		t.Fatalf("case events: %+v, %v", full, err)
	}
	if _, err := insp.GetTaskInfo(tasks.QueueOffboard, tasks.OffboardID(c.ID, c.EffectiveAt)); err != nil {
		t.Fatalf("the case's offboard task: %v", err)
	}
	time.Sleep(200 * time.Millisecond) // a few more relay passes in the same window
	if n := src.runs.Load(); n != 1 {
		t.Fatalf("maintenance ran %d times in one window, want 1", n)
	}
}
