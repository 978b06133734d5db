package intake_test

import (
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/offboarder/offboarder/intake"
	"github.com/offboarder/offboarder/internal/testenv"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/tasks"
)

type env struct {
	in    *intake.Intake
	st    *store.Store
	insp  *asynq.Inspector
	proxy *testenv.Proxy
}

// start takes events in on SQLite and a private redis-server reached
// through a proxy that can cut it off.
func start(t *testing.T) env {
	t.Helper()
	st, err := store.Open(t.Context(), "sqlite:"+t.TempDir()+"/o.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := testenv.StartRedis(t)
	proxy := testenv.StartProxy(t, r.Addr)
	client := asynq.NewClient(asynq.RedisClientOpt{Addr: proxy.Addr, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { client.Close() })
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: r.Addr})
	t.Cleanup(func() { insp.Close() })
	return env{intake.New(st, tasks.NewQueue(client, tasks.Settings{}), 300*time.Millisecond), st, insp, proxy}
}

func (e env) take(t *testing.T, id string) intake.Result {
	t.Helper()
	res, err := e.in.Take(t.Context(), intake.Origin{Source: "hr", Actor: "source:hr"},
		sources.Event{ID: id, Type: "terminated", Email: "ann@example.com", Reason: "terminated"})
	if err != nil {
		t.Fatalf("Take(%s): %v", id, err)
	}
	return res
}

// offboardTask reports whether the case's offboard task is in Redis, on
// the security queue for a security case, else on the offboard queue.
func (e env) offboardTask(t *testing.T, res intake.Result) bool {
	t.Helper()
	queue := tasks.QueueOffboard
	if res.Security {
		queue = tasks.QueueSecurity
	}
	_, err := e.insp.GetTaskInfo(queue, tasks.OffboardID(res.CaseID, res.EffectiveAt))
	return err == nil
}

func TestTake(t *testing.T) {
	t.Run("a new event is committed, then its case's task enqueued", func(t *testing.T) {
		e := start(t)
		res := e.take(t, "e1")
		if !res.NewCase || res.Duplicate || !res.Enqueued || res.EnqueueErr != nil || !e.offboardTask(t, res) {
			t.Fatalf("result %+v, task there: %v", res, e.offboardTask(t, res))
		}
		if again := e.take(t, "e1"); !again.Duplicate || again.Enqueued || again.EnqueueErr != nil {
			t.Fatalf("a duplicate with its task queued: %+v; want no new task and no error", again)
		}
	})
	t.Run("a security event on a scheduled case queues its task, brought forward, on the security queue", func(t *testing.T) {
		e := start(t)
		later := time.Now().Add(7 * 24 * time.Hour)
		first, err := e.in.Take(t.Context(), intake.Origin{Source: "hr", Actor: "source:hr"},
			sources.Event{ID: "e1", Type: "terminated", Email: "ann@example.com", Reason: "terminated", EffectiveAt: later})
		if err != nil || first.Security || !e.offboardTask(t, first) {
			t.Fatalf("first = %+v, %v", first, err)
		}
		sec, err := e.in.Take(t.Context(), intake.Origin{Source: "hr", Actor: "source:hr"},
			sources.Event{ID: "e2", Type: "security", Email: "ann@example.com", Reason: "security"})
		if err != nil || sec.CaseID != first.CaseID || !sec.Security || !sec.Enqueued || !sec.EffectiveAt.Before(later) {
			t.Fatalf("security event = %+v, %v; want the same case brought forward, Security, enqueued", sec, err)
		}
		if _, err := e.insp.GetTaskInfo(tasks.QueueSecurity, tasks.OffboardID(sec.CaseID, sec.EffectiveAt)); err != nil {
			t.Fatalf("the brought-forward task is not on the security queue: %v", err)
		}
	})
	t.Run("a duplicate of an open case enqueues its lost task again", func(t *testing.T) {
		e := start(t)
		res := e.take(t, "e1")
		if err := e.insp.DeleteTask(tasks.QueueOffboard, tasks.OffboardID(res.CaseID, res.EffectiveAt)); err != nil {
			t.Fatal(err)
		}
		if again := e.take(t, "e1"); !again.Duplicate || !again.Enqueued || !e.offboardTask(t, res) {
			t.Fatalf("duplicate: %+v; want the task enqueued again", again)
		}
	})
	t.Run("a duplicate of a closed case enqueues nothing", func(t *testing.T) {
		e := start(t)
		res := e.take(t, "e1")
		if err := e.insp.DeleteTask(tasks.QueueOffboard, tasks.OffboardID(res.CaseID, res.EffectiveAt)); err != nil {
			t.Fatal(err)
		}
		if err := e.st.CloseCase(t.Context(), res.CaseID, offboard.StateDismissed, "not leaving", "test"); err != nil {
			t.Fatal(err)
		}
		if again := e.take(t, "e1"); !again.Duplicate || again.Enqueued || e.offboardTask(t, res) {
			t.Fatalf("duplicate of a closed case: %+v; want nothing enqueued", again)
		}
	})
	t.Run("with Redis down the event is committed and the enqueue error reported within the timeout", func(t *testing.T) {
		e := start(t)
		e.proxy.Down()
		began := time.Now()
		res := e.take(t, "e1")
		if res.EnqueueErr == nil || res.Enqueued || !res.NewCase {
			t.Fatalf("result %+v; want a committed case and an enqueue error", res)
		}
		if took := time.Since(began); took > 2*time.Second {
			t.Fatalf("Take took %s with Redis down; the enqueue timeout is 300ms", took)
		}
		if c, err := e.st.CaseRow(t.Context(), res.CaseID); err != nil || c.Email != "ann@example.com" {
			t.Fatalf("case not committed: %+v, %v", c, err)
		}
	})
	t.Run("a store that cannot commit is an error and nothing is enqueued", func(t *testing.T) {
		e := start(t)
		e.st.Close()
		if _, err := e.in.Take(t.Context(), intake.Origin{Source: "hr", Actor: "source:hr"},
			sources.Event{ID: "e1", Type: "terminated", Email: "ann@example.com", Reason: "terminated"}); err == nil {
			t.Fatal("Take on a closed store: no error")
		}
		if n, err := e.insp.GetQueueInfo(tasks.QueueOffboard); err == nil && n.Size != 0 {
			t.Fatalf("%d tasks enqueued for an event not committed", n.Size)
		}
	})
}
