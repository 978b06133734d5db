package tasks_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/offboarder/offboarder/internal/testenv"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/tasks"
)

// TestQueue enqueues each task type against a real redis-server and reads
// it back: the id, queue, retry count, timeout, payload and schedule are the
// documented ones, and a second call is a no-op rather than an error.
func TestQueue(t *testing.T) {
	opt := asynq.RedisClientOpt{Addr: testenv.StartRedis(t).Addr}
	client := asynq.NewClient(opt)
	t.Cleanup(func() { client.Close() })
	insp := asynq.NewInspector(opt)
	t.Cleanup(func() { insp.Close() })
	q := tasks.NewQueue(client, tasks.Settings{RevokeMaxRetry: 7, Inspector: insp})

	now := time.Now().Truncate(time.Second)
	later := now.Add(time.Hour)
	window := now.Truncate(time.Minute)
	tests := []struct {
		name    string
		enqueue func() (bool, error)
		queue   string
		id      string
		typ     string
		retry   int
		timeout time.Duration
		payload string
		state   asynq.TaskState
	}{
		{
			name:    "an offboard task that is due runs now in the offboard queue",
			enqueue: func() (bool, error) { return q.Offboard(t.Context(), tasks.Offboard{CaseID: "c1", EffectiveAt: now}) },
			queue:   tasks.QueueOffboard, id: "offboard:c1:" + unix(now), typ: tasks.TypeOffboard,
			retry: tasks.OffboardMaxRetry, timeout: tasks.OffboardTimeout,
			payload: `{"case_id":"c1","effective_at":` + jsonTime(now) + `}`, state: asynq.TaskStatePending,
		},
		{
			name:    "an offboard task that is not due is scheduled for its effective time",
			enqueue: func() (bool, error) { return q.Offboard(t.Context(), tasks.Offboard{CaseID: "c2", EffectiveAt: later}) },
			queue:   tasks.QueueOffboard, id: "offboard:c2:" + unix(later), typ: tasks.TypeOffboard,
			retry: tasks.OffboardMaxRetry, timeout: tasks.OffboardTimeout,
			payload: `{"case_id":"c2","effective_at":` + jsonTime(later) + `}`, state: asynq.TaskStateScheduled,
		},
		{
			name:    "a revoke task takes the retry count of the settings",
			enqueue: func() (bool, error) { return q.Revoke(t.Context(), tasks.Revoke{CaseID: "c1", Connector: "okta"}) },
			queue:   tasks.QueueRevoke, id: "revoke:c1:okta", typ: tasks.TypeRevoke,
			retry: 7, timeout: tasks.RevokeTimeout,
			payload: `{"case_id":"c1","connector":"okta"}`, state: asynq.TaskStatePending,
		},
		{
			name: "a security case's offboard task runs in the security queue",
			enqueue: func() (bool, error) {
				return q.Offboard(t.Context(), tasks.Offboard{CaseID: "s1", EffectiveAt: now, Security: true})
			},
			queue: tasks.QueueSecurity, id: "offboard:s1:" + unix(now), typ: tasks.TypeOffboard,
			retry: tasks.OffboardMaxRetry, timeout: tasks.OffboardTimeout,
			payload: `{"case_id":"s1","effective_at":` + jsonTime(now) + `,"security":true}`, state: asynq.TaskStatePending,
		},
		{
			name: "a security case's offboard task that is not due is scheduled in the security queue",
			enqueue: func() (bool, error) {
				return q.Offboard(t.Context(), tasks.Offboard{CaseID: "s2", EffectiveAt: later, Security: true})
			},
			queue: tasks.QueueSecurity, id: "offboard:s2:" + unix(later), typ: tasks.TypeOffboard,
			retry: tasks.OffboardMaxRetry, timeout: tasks.OffboardTimeout,
			payload: `{"case_id":"s2","effective_at":` + jsonTime(later) + `,"security":true}`, state: asynq.TaskStateScheduled,
		},
		{
			name: "a security case's revoke task runs in the security queue",
			enqueue: func() (bool, error) {
				return q.Revoke(t.Context(), tasks.Revoke{CaseID: "s1", Connector: "okta", Security: true})
			},
			queue: tasks.QueueSecurity, id: "revoke:s1:okta", typ: tasks.TypeRevoke,
			retry: 7, timeout: tasks.RevokeTimeout,
			payload: `{"case_id":"s1","connector":"okta","security":true}`, state: asynq.TaskStatePending,
		},
		{
			name:    "a maintenance task is one per source and window",
			enqueue: func() (bool, error) { return q.Maintain(t.Context(), tasks.Maintain{Source: "entra"}, window) },
			queue:   tasks.QueueOffboard, id: "maintain:entra:" + unix(window), typ: tasks.TypeMaintain,
			retry: tasks.MaintainMaxRetry, timeout: tasks.MaintainTimeout,
			payload: `{"source":"entra"}`, state: asynq.TaskStatePending,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ok, err := tt.enqueue(); !ok || err != nil {
				t.Fatalf("first enqueue = %v, %v; want true, nil", ok, err)
			}
			if ok, err := tt.enqueue(); ok || err != nil {
				t.Fatalf("second enqueue = %v, %v; want false, nil", ok, err)
			}
			info, err := insp.GetTaskInfo(tt.queue, tt.id)
			if err != nil {
				t.Fatalf("GetTaskInfo(%s, %s): %v", tt.queue, tt.id, err)
			}
			if info.Type != tt.typ || info.MaxRetry != tt.retry || info.Timeout != tt.timeout || info.State != tt.state || info.Retention != tasks.Retention {
				t.Errorf("task = type %s, retry %d, timeout %s, state %s, retention %s; want %s, %d, %s, %s, %s",
					info.Type, info.MaxRetry, info.Timeout, info.State, info.Retention, tt.typ, tt.retry, tt.timeout, tt.state, tasks.Retention)
			}
			if string(info.Payload) != tt.payload {
				t.Errorf("payload = %s, want %s", info.Payload, tt.payload)
			}
		})
	}
	if n := queued(t, insp, tasks.QueueOffboard) + queued(t, insp, tasks.QueueRevoke) + queued(t, insp, tasks.QueueSecurity); n != len(tests) {
		t.Errorf("%d tasks in Redis, want %d", n, len(tests))
	}
}

// TestEnsureRevivesArchivedWork: an id held by an archived task is given
// back to work the database still has to do; a live task is left alone.
func TestEnsureRevivesArchivedWork(t *testing.T) {
	opt := asynq.RedisClientOpt{Addr: testenv.StartRedis(t).Addr}
	client := asynq.NewClient(opt)
	t.Cleanup(func() { client.Close() })
	insp := asynq.NewInspector(opt)
	t.Cleanup(func() { insp.Close() })
	q := tasks.NewQueue(client, tasks.Settings{Inspector: insp})
	p := tasks.Revoke{CaseID: "c1", Connector: "okta"}
	id := tasks.RevokeID(p.CaseID, p.Connector)

	if ok, err := q.Revoke(t.Context(), p); !ok || err != nil {
		t.Fatalf("Revoke = %v, %v", ok, err)
	}
	if ok, err := q.EnsureRevoke(t.Context(), p); ok || err != nil {
		t.Fatalf("EnsureRevoke of a pending task = %v, %v; want false, nil", ok, err)
	}
	if err := insp.ArchiveTask(tasks.QueueRevoke, id); err != nil {
		t.Fatal(err)
	}
	if ok, err := q.Revoke(t.Context(), p); ok || err != nil {
		t.Fatalf("Revoke over an archived task = %v, %v; want false, nil", ok, err)
	}
	if ok, err := q.EnsureRevoke(t.Context(), p); !ok || err != nil {
		t.Fatalf("EnsureRevoke over an archived task = %v, %v; want true, nil", ok, err)
	}
	info, err := insp.GetTaskInfo(tasks.QueueRevoke, id)
	if err != nil || info.State != asynq.TaskStatePending || info.MaxRetry != tasks.RevokeMaxRetry {
		t.Fatalf("after EnsureRevoke: %+v, %v; want pending with the default retry count", info, err)
	}
}

func queued(t *testing.T, insp *asynq.Inspector, queue string) int {
	t.Helper()
	qi, err := insp.GetQueueInfo(queue)
	if err != nil {
		t.Fatalf("GetQueueInfo(%s): %v", queue, err)
	}
	return qi.Size
}

func unix(at time.Time) string {
	b, _ := json.Marshal(at.Unix())
	return string(b)
}

func jsonTime(at time.Time) string {
	b, _ := json.Marshal(at)
	return string(b)
}

// TestRemoveOffboard: a cancelled case's offboard tasks, one per effective
// time it was scheduled for, are deleted; another case's stay, and a time
// with no task is not an error.
func TestRemoveOffboard(t *testing.T) {
	opt := asynq.RedisClientOpt{Addr: testenv.StartRedis(t).Addr}
	client := asynq.NewClient(opt)
	t.Cleanup(func() { client.Close() })
	insp := asynq.NewInspector(opt)
	t.Cleanup(func() { insp.Close() })
	q := tasks.NewQueue(client, tasks.Settings{Inspector: insp})

	if _, err := tasks.NewQueue(client, tasks.Settings{}).RemoveOffboard("c1", nil); err == nil {
		t.Error("RemoveOffboard without an inspector: no error")
	}
	if n, err := q.RemoveOffboard("c1", []time.Time{time.Now()}); n != 0 || err != nil {
		t.Errorf("RemoveOffboard before any task = %d, %v; want 0, nil", n, err)
	}
	first, second := time.Now().Add(48*time.Hour), time.Now().Add(24*time.Hour)
	for _, p := range []tasks.Offboard{{CaseID: "c1", EffectiveAt: first}, {CaseID: "c1", EffectiveAt: second}, {CaseID: "c2", EffectiveAt: second}} {
		if ok, err := q.Offboard(t.Context(), p); !ok || err != nil {
			t.Fatalf("Offboard(%+v) = %v, %v", p, ok, err)
		}
	}
	n, err := q.RemoveOffboard("c1", []time.Time{second, first, second, time.Now()})
	if n != 2 || err != nil {
		t.Fatalf("RemoveOffboard = %d, %v; want 2, nil", n, err)
	}
	for _, id := range []string{tasks.OffboardID("c1", first), tasks.OffboardID("c1", second)} {
		if _, err := insp.GetTaskInfo(tasks.QueueOffboard, id); err == nil {
			t.Errorf("%s is still in Redis", id)
		}
	}
	if _, err := insp.GetTaskInfo(tasks.QueueOffboard, tasks.OffboardID("c2", second)); err != nil {
		t.Errorf("the other case's task: %v", err)
	}
}

// TestNotifyCase: a notified state enqueues one task per destination, once;
// a state that is not notified enqueues nothing.
func TestNotifyCase(t *testing.T) {
	opt := asynq.RedisClientOpt{Addr: testenv.StartRedis(t).Addr}
	client := asynq.NewClient(opt)
	t.Cleanup(func() { client.Close() })
	insp := asynq.NewInspector(opt)
	t.Cleanup(func() { insp.Close() })
	slack := tasks.DestinationID("slack", "https://hooks.slack.com/services/T/B/secret")
	hook := tasks.DestinationID("webhook", "https://example.com/hook")
	q := tasks.NewQueue(client, tasks.Settings{Notify: tasks.NotifySettings{
		Destinations: []string{slack, hook}, On: []offboard.State{offboard.StateNeedsAttention},
	}})
	if strings.Contains(slack, "secret") || slack == tasks.DestinationID("slack", "https://hooks.slack.com/services/T/B/other") {
		t.Fatalf("destination id %q reveals its URL or does not tell URLs apart", slack)
	}
	if n, err := q.NotifyCase(t.Context(), "c1", offboard.StateCompleted); n != 0 || err != nil {
		t.Fatalf("completed (not notified): %d, %v", n, err)
	}
	for i, want := range []int{2, 0} {
		if n, err := q.NotifyCase(t.Context(), "c1", offboard.StateNeedsAttention); n != want || err != nil {
			t.Fatalf("call %d: %d tasks, %v; want %d", i+1, n, err, want)
		}
	}
	for _, d := range []string{slack, hook} {
		info, err := insp.GetTaskInfo(tasks.QueueOffboard, tasks.NotifyID("c1", "needs_attention", d))
		if err != nil {
			t.Fatalf("task for %s: %v", d, err)
		}
		if info.Type != tasks.TypeNotify || strings.Contains(string(info.Payload), "secret") {
			t.Errorf("task %s: type %s, payload %s", info.ID, info.Type, info.Payload)
		}
	}
}

// TestHolds: a task that is still to run is held; one that ended
// (archived, or completed and retained for its id) or none is not, so the
// relay asks the database before it queues the work again.
func TestHolds(t *testing.T) {
	opt := asynq.RedisClientOpt{Addr: testenv.StartRedis(t).Addr}
	client := asynq.NewClient(opt)
	t.Cleanup(func() { client.Close() })
	insp := asynq.NewInspector(opt)
	t.Cleanup(func() { insp.Close() })
	q := tasks.NewQueue(client, tasks.Settings{Inspector: insp})
	p := tasks.Revoke{CaseID: "c1", Connector: "okta"}
	later := tasks.Offboard{CaseID: "c2", EffectiveAt: time.Now().Add(time.Hour)}

	if held, err := q.HoldsRevoke(p); held || err != nil {
		t.Fatalf("HoldsRevoke before any task = %v, %v; want false, nil", held, err)
	}
	if _, err := q.Revoke(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Offboard(t.Context(), later); err != nil {
		t.Fatal(err)
	}
	if held, err := q.HoldsRevoke(p); !held || err != nil {
		t.Fatalf("HoldsRevoke of a pending task = %v, %v; want true, nil", held, err)
	}
	if held, err := q.HoldsOffboard(later); !held || err != nil {
		t.Fatalf("HoldsOffboard of a scheduled task = %v, %v; want true, nil", held, err)
	}
	if err := insp.ArchiveTask(tasks.QueueRevoke, tasks.RevokeID(p.CaseID, p.Connector)); err != nil {
		t.Fatal(err)
	}
	if held, err := q.HoldsRevoke(p); held || err != nil {
		t.Fatalf("HoldsRevoke of an archived task = %v, %v; want false, nil", held, err)
	}
	if _, err := tasks.NewQueue(client, tasks.Settings{}).HoldsRevoke(p); err == nil {
		t.Fatal("HoldsRevoke without an inspector answered")
	}
}

// TestSecurityCasesAreFoundOnTheirQueue: every method that looks a task up
// (Holds*, Ensure*, RemoveOffboard) finds a security case's tasks on the
// security queue, and none of them adds a second task beside it.
func TestSecurityCasesAreFoundOnTheirQueue(t *testing.T) {
	opt := asynq.RedisClientOpt{Addr: testenv.StartRedis(t).Addr}
	client := asynq.NewClient(opt)
	t.Cleanup(func() { client.Close() })
	insp := asynq.NewInspector(opt)
	t.Cleanup(func() { insp.Close() })
	q := tasks.NewQueue(client, tasks.Settings{Inspector: insp})
	rev := tasks.Revoke{CaseID: "s1", Connector: "okta", Security: true}
	off := tasks.Offboard{CaseID: "s1", EffectiveAt: time.Now().Add(time.Hour), Security: true}

	if _, err := q.Revoke(t.Context(), rev); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Offboard(t.Context(), off); err != nil {
		t.Fatal(err)
	}
	if held, err := q.HoldsRevoke(rev); !held || err != nil {
		t.Fatalf("HoldsRevoke of a security case's pending task = %v, %v; want true, nil", held, err)
	}
	if held, err := q.HoldsOffboard(off); !held || err != nil {
		t.Fatalf("HoldsOffboard of a security case's scheduled task = %v, %v; want true, nil", held, err)
	}
	if ok, err := q.EnsureRevoke(t.Context(), rev); ok || err != nil {
		t.Fatalf("EnsureRevoke of a held task = %v, %v; want false, nil", ok, err)
	}
	if ok, err := q.EnsureOffboard(t.Context(), off); ok || err != nil {
		t.Fatalf("EnsureOffboard of a held task = %v, %v; want false, nil", ok, err)
	}
	if n := queued(t, insp, tasks.QueueSecurity); n != 2 {
		t.Fatalf("%d tasks in the security queue, want 2", n)
	}
	for _, name := range []string{tasks.QueueRevoke, tasks.QueueOffboard} {
		if qs, _ := insp.Queues(); slices.Contains(qs, name) && queued(t, insp, name) != 0 {
			t.Fatalf("the %s queue holds a security case's task", name)
		}
	}

	// The retry route and the relay revive an archived task where it is.
	if err := insp.ArchiveTask(tasks.QueueSecurity, tasks.RevokeID(rev.CaseID, rev.Connector)); err != nil {
		t.Fatal(err)
	}
	if held, err := q.HoldsRevoke(rev); held || err != nil {
		t.Fatalf("HoldsRevoke of an archived task = %v, %v; want false, nil", held, err)
	}
	if ok, err := q.EnsureRevoke(t.Context(), rev); !ok || err != nil {
		t.Fatalf("EnsureRevoke over an archived task = %v, %v; want true, nil", ok, err)
	}
	info, err := insp.GetTaskInfo(tasks.QueueSecurity, tasks.RevokeID(rev.CaseID, rev.Connector))
	if err != nil || info.State != asynq.TaskStatePending {
		t.Fatalf("after EnsureRevoke: %+v, %v; want pending on the security queue", info, err)
	}

	// A case that became a security case before its fan-out has its first
	// offboard task on the offboard queue: a cancel removes both.
	first := time.Now().Add(48 * time.Hour)
	if _, err := q.Offboard(t.Context(), tasks.Offboard{CaseID: "s1", EffectiveAt: first}); err != nil {
		t.Fatal(err)
	}
	if n, err := q.RemoveOffboard("s1", []time.Time{first, off.EffectiveAt}); n != 2 || err != nil {
		t.Fatalf("RemoveOffboard = %d, %v; want 2, nil", n, err)
	}
	if n := queued(t, insp, tasks.QueueOffboard) + queued(t, insp, tasks.QueueSecurity); n != 1 {
		t.Fatalf("%d tasks left, want 1 (the revoke)", n)
	}
}
