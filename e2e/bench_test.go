package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/offboarder/offboarder/internal/testenv"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/tasks"
)

// benchDialects runs fn on SQLite and PostgreSQL.
func benchDialects(b *testing.B, fn func(b *testing.B, dbURL string)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, "sqlite:"+b.TempDir()+"/o.db") })
	b.Run("postgres", func(b *testing.B) { fn(b, testenv.Postgres(b)) })
}

// BenchmarkWebhookIngest: signed generic webhooks over loopback HTTP from 16
// goroutines, each answered 202 once committed and enqueued. Reports
// accepted/s and the p50/p99 answer time.
func BenchmarkWebhookIngest(b *testing.B) {
	benchDialects(b, func(b *testing.B, dbURL string) {
		e := start(b, dbURL, envOptions{noWorker: true})
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
		var (
			n    atomic.Int64
			mu   sync.Mutex
			lats []time.Duration
		)
		b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0)))
		b.ResetTimer()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			var mine []time.Duration
			for pb.Next() {
				i := n.Add(1)
				body := fmt.Appendf(nil, `{"id":"b%d","email":"user%d@example.com","reason":"terminated"}`, i, i)
				req, _ := http.NewRequest(http.MethodPost, e.URL+"/webhooks/hr", bytes.NewReader(body))
				req.Header.Set(sources.SignatureHeader, sources.SignatureValue(time.Now(), body, []byte(hrSecret)))
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mine = append(mine, time.Since(t0))
				if resp.StatusCode != http.StatusAccepted {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
			mu.Lock()
			lats = append(lats, mine...)
			mu.Unlock()
		})
		elapsed := time.Since(start)
		b.StopTimer()
		reportLatencies(b, lats, elapsed)
	})
}

// BenchmarkIngestFloor: what a webhook costs at least — the same store
// transaction and one asynq enqueue — from a plain loop at the same
// concurrency, without HTTP, signature or parsing.
func BenchmarkIngestFloor(b *testing.B) {
	benchDialects(b, func(b *testing.B, dbURL string) {
		e := start(b, dbURL, envOptions{noWorker: true})
		client := asynq.NewClient(asynq.RedisClientOpt{Addr: e.Redis.Addr})
		b.Cleanup(func() { client.Close() })
		var (
			n    atomic.Int64
			mu   sync.Mutex
			lats []time.Duration
		)
		b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0)))
		b.ResetTimer()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			var mine []time.Duration
			for pb.Next() {
				i := n.Add(1)
				t0 := time.Now()
				res, err := e.Store.Ingest(b.Context(), store.Event{
					Source: "hr", EventID: fmt.Sprintf("f%d", i), Type: "terminated",
					Email: fmt.Sprintf("user%d@example.com", i), Reason: "terminated",
					ReceivedAt: time.Now(), Actor: "source:hr",
				})
				if err == nil {
					_, err = client.EnqueueContext(b.Context(), tasks.NewOffboard(tasks.Offboard{CaseID: res.CaseID, EffectiveAt: res.EffectiveAt}))
				}
				if err != nil {
					b.Error(err)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lats = append(lats, mine...)
			mu.Unlock()
		})
		elapsed := time.Since(start)
		b.StopTimer()
		reportLatencies(b, lats, elapsed)
	})
}

func reportLatencies(b *testing.B, lats []time.Duration, elapsed time.Duration) {
	if len(lats) == 0 {
		return
	}
	slices.Sort(lats)
	q := func(p float64) float64 { return float64(lats[int(p*float64(len(lats)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(lats))/elapsed.Seconds(), "req/s")
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

// BenchmarkTimeToRevoke: 200 offboardings, each through the six identity
// providers of the simulator at 50 ms vendor latency, sent 10 at a time;
// reports p50/p99 from the webhook's arrival (case created) to the case's
// last outcome, and cases completed per second.
func BenchmarkTimeToRevoke(b *testing.B) {
	benchDialects(b, func(b *testing.B, dbURL string) {
		e := start(b, dbURL, envOptions{allConnectors: true, concurrency: 200})
		opts := e.SimOptions
		opts.Latency = 50 * time.Millisecond
		e.Sim.SetOptions(opts)
		const cases = 200
		for i := range cases {
			e.Sim.AddUser(fmt.Sprintf("leaver%d@example.com", i), 1)
		}
		var round atomic.Int64
		for b.Loop() {
			r := round.Add(1)
			ids := make([]string, cases)
			sem := make(chan struct{}, 10)
			var wg sync.WaitGroup
			start := time.Now()
			for i := range cases {
				wg.Go(func() {
					sem <- struct{}{}
					defer func() { <-sem }()
					code, res := e.post("hr", body(fmt.Sprintf("r%d-%d", r, i), fmt.Sprintf("leaver%d@example.com", i)), "")
					if code != http.StatusAccepted {
						b.Errorf("%d %v", code, res)
						return
					}
					ids[i] = res["case_id"].(string)
				})
			}
			wg.Wait()
			var lats []time.Duration
			for _, id := range ids {
				c := e.waitCase(id)
				var last time.Time
				for _, en := range c.Entries {
					if en.FinishedAt != nil && en.FinishedAt.After(last) {
						last = *en.FinishedAt
					}
				}
				lats = append(lats, last.Sub(c.CreatedAt))
			}
			elapsed := time.Since(start)
			slices.Sort(lats)
			q := func(p float64) float64 { return float64(lats[int(p*float64(len(lats)-1))].Microseconds()) / 1000 }
			b.ReportMetric(q(0.50), "p50-ms")
			b.ReportMetric(q(0.99), "p99-ms")
			b.ReportMetric(float64(cases)/elapsed.Seconds(), "cases/s")
		}
	})
}
