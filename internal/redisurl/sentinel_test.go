package redisurl

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/offboarder/offboarder/internal/testenv"
)

// TestASentinelURLFollowsTheMasterAcrossAFailover: a redis+sentinel URL
// read by Parse reaches the master through real redis-sentinel processes,
// and the same client (asynq's, and the go-redis client the worker makes
// of the option) reaches the new master after SENTINEL FAILOVER, with what
// was written before it.
func TestASentinelURLFollowsTheMasterAcrossAFailover(t *testing.T) {
	s := testenv.StartSentinels(t, 3)
	opt, err := Parse(s.URL() + "/2")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := opt.(asynq.RedisFailoverClientOpt); !ok {
		t.Fatalf("%T, want the failover client's option", opt)
	}
	client := asynq.NewClient(opt)
	defer client.Close()
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	rc, ok := opt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		t.Fatal("the option's client is not a redis.UniversalClient: the worker and readiness would have no Redis")
	}
	defer rc.Close()

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	if _, err := client.EnqueueContext(ctx, asynq.NewTask("t", nil), asynq.TaskID("before"), asynq.Queue("q")); err != nil {
		t.Fatal(err)
	}
	if err := rc.Set(ctx, "kept", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	old, err := s.Master(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// What the master took is on the replica before it is promoted:
	// WAIT for it, as a graceful failover would.
	if n, err := rc.Do(ctx, "WAIT", 1, 5000).Int(); err != nil || n != 1 {
		t.Fatalf("WAIT: %d replicas, %v", n, err)
	}
	began := time.Now()
	if err := s.Failover(ctx); err != nil {
		t.Fatal(err)
	}
	addr, err := s.WaitNewMaster(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("failover from %s to %s in %v", old, addr, time.Since(began).Round(time.Millisecond))

	// Until the sentinels have turned the old master into a replica it
	// still takes writes from a client that has not heard of the switch
	// yet, and its resync then drops them: that window is what the relay
	// covers (docs/RELIABILITY.md). The client hears of it within moments:
	// its writes land on the new master.
	direct := redis.NewClient(&redis.Options{Addr: addr, DB: 2})
	defer direct.Close()
	if n, err := direct.Exists(ctx, "asynq:{q}:t:before").Result(); err != nil || n != 1 {
		t.Errorf("the task written before is not on the new master %s: %d, %v", addr, n, err)
	}
	for try := 0; ; try++ {
		id := fmt.Sprintf("after-%d", try)
		_, err := client.EnqueueContext(ctx, asynq.NewTask("t", nil), asynq.TaskID(id), asynq.Queue("q"))
		if err == nil {
			if n, _ := direct.Exists(ctx, "asynq:{q}:t:"+id).Result(); n == 1 {
				t.Logf("writes reach the new master %v after the failover began (%d written to the old one first)", time.Since(began).Round(time.Millisecond), try)
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("the client never wrote to the new master: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if v, err := rc.Get(ctx, "kept").Result(); err != nil || v != "1" {
		t.Errorf("the worker's client reads %q, %v after the failover", v, err)
	}
	if info, err := insp.GetQueueInfo("q"); err != nil || info.Pending < 2 {
		t.Errorf("the inspector sees %+v, %v", info, err)
	}
}
