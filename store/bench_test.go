package store

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

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
