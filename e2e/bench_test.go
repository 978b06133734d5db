package e2e

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/offboarder/offboarder/internal/testenv"
	"github.com/offboarder/offboarder/tasks"
)

// BenchmarkEnqueue: one offboard task enqueued per operation (with its task
// id and retention, as ingest does) from 16 goroutines, on a private
// redis-server. The end-to-end figures (ingest, time to revoke, sustained
// rate, footprint) are TestPerformanceTable's, next to their floors.
func BenchmarkEnqueue(b *testing.B) {
	r := testenv.StartRedis(b)
	client := asynq.NewClient(asynq.RedisClientOpt{Addr: r.Addr})
	b.Cleanup(func() { client.Close() })
	q := tasks.NewQueue(client, tasks.Settings{})
	var n atomic.Int64
	b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprintf("bench-%d", n.Add(1))
			if _, err := q.Offboard(b.Context(), tasks.Offboard{CaseID: id, EffectiveAt: time.Now()}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
