package store

import (
	"context"
	"fmt"
	"net/url"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offboarder/offboarder/internal/testenv"
	"github.com/offboarder/offboarder/offboard"
)

// BenchmarkIngest commits one event and opens its case per operation, from
// 16 goroutines, as the webhook does under load.
func BenchmarkIngest(b *testing.B) {
	for _, d := range dialects {
		b.Run(d, func(b *testing.B) { benchIngest(b, d, nil) })
		// The default guard, never reached (so nothing is held): the cost
		// of its count, once per commit that opens cases.
		b.Run(d+"/guarded", func(b *testing.B) {
			benchIngest(b, d, &Guard{Cases: 1 << 30, Within: 10 * time.Minute, Bypass: []offboard.Reason{offboard.ReasonSecurity}})
		})
	}
}

func benchIngest(b *testing.B, d string, g *Guard) {
	s := newStore(b, d)
	s.SetGuard(g)
	var n atomic.Int64
	b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0))) // about 16 goroutines
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			_, err := s.Ingest(b.Context(), Event{
				Source: "hr", EventID: fmt.Sprintf("e%d", i), Type: "terminated",
				Email: fmt.Sprintf("user%d@example.com", i), Reason: "terminated",
				ReceivedAt: time.Now(), Actor: "source:hr",
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkIngestProcesses is BenchmarkIngest from several processes on
// one database: 1, 2 or 4 stores on it, each with its own pool and
// committers as a serve process has, 16 writers in all spread evenly over
// them, the default blast-radius guard on (never reached). Every commit of
// a new case ends holding the audit head's row lock on PostgreSQL, so the
// processes queue on it; the rtt= runs put a proxy between the stores and
// PostgreSQL that adds that much to every round trip, as a network does.
// ingests/s is what the whole deployment takes in; commits/s its
// transactions (a group commit holds several ingests).
func BenchmarkIngestProcesses(b *testing.B) {
	for _, d := range dialects {
		rtts := []time.Duration{0}
		if d == dialectPostgres {
			rtts = append(rtts, time.Millisecond)
		}
		for _, rtt := range rtts {
			for _, n := range []int{1, 2, 4} {
				name := fmt.Sprintf("%s/stores=%d", d, n)
				if rtt > 0 {
					name = fmt.Sprintf("%s/rtt=%s/stores=%d", d, rtt, n)
				}
				b.Run(name, func(b *testing.B) { benchProcesses(b, d, n, rtt) })
			}
		}
	}
}

func benchProcesses(b *testing.B, d string, n int, rtt time.Duration) {
	u := newDatabase(b, d)
	if rtt > 0 {
		pu, err := url.Parse(u)
		if err != nil {
			b.Fatal(err)
		}
		p := testenv.StartProxy(b, pu.Host)
		p.SetLatency(rtt / 2)
		pu.Host = p.Addr
		u = pu.String()
	}
	g := &Guard{Cases: 1 << 30, Within: 10 * time.Minute, Bypass: []offboard.Reason{offboard.ReasonSecurity}}
	stores := make([]*Store, n)
	ingests := make([]atomic.Int64, n)
	for i := range stores {
		stores[i] = openStore(b, u)
		stores[i].SetGuard(g)
	}
	var writers, events atomic.Int64
	b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0))) // about 16 goroutines
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		w := int(writers.Add(1)-1) % n
		s := stores[w]
		for pb.Next() {
			i := events.Add(1)
			_, err := s.Ingest(b.Context(), Event{
				Source: "hr", EventID: fmt.Sprintf("e%d", i), Type: "terminated",
				Email: fmt.Sprintf("user%d@example.com", i), Reason: "terminated",
				ReceivedAt: time.Now(), Actor: "source:hr",
			})
			if err != nil {
				b.Error(err)
				return
			}
			ingests[w].Add(1)
		}
	})
	elapsed := time.Since(start).Seconds()
	b.StopTimer()
	var commits int64
	for i, s := range stores {
		batches, batched, _ := s.CommitStats()
		commits += batches + ingests[i].Load() - batched // a write alone is a commit of its own
	}
	b.ReportMetric(float64(b.N)/elapsed, "ingests/s")
	b.ReportMetric(float64(commits)/elapsed, "commits/s")
}

// BenchmarkCase is one whole offboarding's store traffic per operation, as
// the webhook and the worker make it for six connectors: the ingest, the
// fan-out, and for each connector the attempt (with the case row) and the
// outcome (the last one closes the case). 16 goroutines.
func BenchmarkCase(b *testing.B) {
	conns := []string{"auth0", "entra", "google", "keycloak", "okta", "onelogin"}
	for _, d := range dialects {
		b.Run(d, func(b *testing.B) {
			s := newStore(b, d)
			ctx := b.Context()
			var n atomic.Int64
			b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					if err := oneCase(ctx, s, i, conns); err != nil {
						b.Error(err)
						return
					}
				}
			})
			batches, writes, _ := s.CommitStats()
			b.ReportMetric(float64(writes)/float64(max(batches, 1)), "writes/batch")
			b.ReportMetric(float64(batches)/float64(b.N), "batches/case")
		})
	}
}

func oneCase(ctx context.Context, s *Store, i int64, conns []string) error {
	res, err := s.Ingest(ctx, Event{
		Source: "hr", EventID: fmt.Sprintf("e%d", i), Type: "terminated",
		Email: fmt.Sprintf("user%d@example.com", i), Reason: "terminated",
		ReceivedAt: time.Now(), Actor: "source:hr",
	})
	if err != nil {
		return err
	}
	if _, _, err := s.CaseWithFirstEvent(ctx, res.CaseID); err != nil {
		return err
	}
	entries := make(map[string]offboard.Outcome, len(conns))
	for _, c := range conns {
		entries[c] = offboard.Pending
	}
	if _, err := s.FanOut(ctx, res.CaseID, entries, "worker"); err != nil {
		return err
	}
	for _, c := range conns {
		e, _, err := s.BeginAttempt(ctx, res.CaseID, c)
		if err != nil {
			return err
		}
		a := Attempt{CaseID: res.CaseID, Connector: c, N: e.Attempts, StartedAt: time.Now(),
			Duration: 40 * time.Millisecond, StatusCode: 200, Result: "verified"}
		if _, err := s.RecordAttemptOutcome(ctx, a, "verified", ""); err != nil {
			return err
		}
	}
	return nil
}
