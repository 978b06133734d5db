package worker

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/offboarder/offboarder/internal/testenv"
	"github.com/offboarder/offboarder/tasks"
)

// runInOrder enqueues the given number of tasks on each queue through
// tasks.Queue (the security ones last), then runs an asynq server with
// QueuePriority and one worker until it has taken n tasks, and answers the
// queues they came from, in the order they ran. Order, not time.
func runInOrder(t *testing.T, backlog map[string]int, n int) []string {
	t.Helper()
	opt := asynq.RedisClientOpt{Addr: testenv.StartRedis(t).Addr}
	client := asynq.NewClient(opt)
	t.Cleanup(func() { client.Close() })
	q := tasks.NewQueue(client, tasks.Settings{})
	for _, queue := range []string{tasks.QueueRevoke, tasks.QueueOffboard, tasks.QueueSecurity} {
		for i := range backlog[queue] {
			id := fmt.Sprintf("%s-%d", queue, i)
			var err error
			switch queue {
			case tasks.QueueOffboard:
				_, err = q.Offboard(t.Context(), tasks.Offboard{CaseID: id, EffectiveAt: time.Now()})
			default:
				_, err = q.Revoke(t.Context(), tasks.Revoke{CaseID: id, Connector: "okta", Security: queue == tasks.QueueSecurity})
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	var (
		mu    sync.Mutex
		order []string
		done  = make(chan struct{})
	)
	record := func(ctx context.Context, _ *asynq.Task) error {
		queue, _ := asynq.GetQueueName(ctx)
		mu.Lock()
		defer mu.Unlock()
		if order = append(order, queue); len(order) == n {
			close(done)
		}
		if len(order) >= n {
			<-ctx.Done() // hold the one worker: nothing more is taken
		}
		return nil
	}
	mux := asynq.NewServeMux()
	mux.HandleFunc(tasks.TypeRevoke, record)
	mux.HandleFunc(tasks.TypeOffboard, record)
	srv := asynq.NewServer(opt, asynq.Config{Concurrency: 1, Queues: QueuePriority,
		TaskCheckInterval: 10 * time.Millisecond, ShutdownTimeout: time.Second, Logger: asynqLogger{}})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("took %d tasks of %d", len(order), n)
	}
	srv.Shutdown()
	mu.Lock()
	defer mu.Unlock()
	return order[:n]
}

// TestSecurityTaskIsTakenAheadOfABacklog: one security task enqueued after
// a backlog of revoke and offboard tasks is among the first tasks a worker
// takes (each take picks the security queue first with probability 90/99:
// not within five takes once in ~160,000 runs).
func TestSecurityTaskIsTakenAheadOfABacklog(t *testing.T) {
	order := runInOrder(t, map[string]int{tasks.QueueRevoke: 200, tasks.QueueOffboard: 100, tasks.QueueSecurity: 1}, 5)
	at := -1
	for i, q := range order {
		if q == tasks.QueueSecurity {
			at = i
			break
		}
	}
	t.Logf("the security task ran as take %d of a backlog of 300 (order %v)", at+1, order)
	if at < 0 {
		t.Fatalf("the security task was not among the first 5 taken: %v", order)
	}
}

// TestSecurityFloodDoesNotStopTheRest: under a flood of security tasks the
// revoke and offboard queues still get about one take in eleven (9/99):
// slowed, never stopped. Among 200 takes, at least one is theirs (none
// once in ~200,000,000 runs) and fewer than a quarter (about 18 expected;
// a security weight of 20 would give them about 62).
func TestSecurityFloodDoesNotStopTheRest(t *testing.T) {
	const takes = 200
	order := runInOrder(t, map[string]int{tasks.QueueRevoke: 100, tasks.QueueOffboard: 100, tasks.QueueSecurity: 400}, takes)
	var others int
	for _, q := range order {
		if q != tasks.QueueSecurity {
			others++
		}
	}
	t.Logf("%d of %d takes went to the revoke and offboard queues during a security flood (expected ≈ %d)", others, takes, takes*9/99)
	if others == 0 || others >= takes/4 {
		t.Fatalf("%d of %d takes went to the other queues; want some, and far fewer than the security queue's", others, takes)
	}
}
