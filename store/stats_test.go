package store

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
)

func TestCountCases(t *testing.T) {
	runStoreTests(t, []storeTest{
		{"an empty store counts zero in every state", func(t *testing.T, s *Store) {
			got, err := s.CountCases(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(offboard.States) {
				t.Errorf("CountCases = %v, want one count per state of offboard.States", got)
			}
			for _, st := range offboard.States {
				if n, ok := got[st]; !ok || n != 0 {
					t.Errorf("state %s: %d (present %v), want 0", st, n, ok)
				}
			}
		}},
		{"cases are counted by their state", func(t *testing.T, s *Store) {
			openCase(t, s, "ann@example.com") // pending
			done := openCase(t, s, "bob@example.com")
			fanOut(t, s, done, map[string]offboard.Outcome{"okta": offboard.Pending})
			outcome(t, s, done, "okta", offboard.Verified, "")
			manualCase(t, s, "cy@example.com", nil) // needs_attention
			running := openCase(t, s, "dee@example.com")
			fanOut(t, s, running, map[string]offboard.Outcome{"okta": offboard.Pending})
			got, err := s.CountCases(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			want := map[offboard.State]int64{
				offboard.StatePending: 1, offboard.StateCompleted: 1, offboard.StateNeedsAttention: 1, offboard.StateInProgress: 1,
			}
			for _, st := range offboard.States {
				if got[st] != want[st] {
					t.Errorf("state %s: %d cases, want %d", st, got[st], want[st])
				}
			}
		}},
	})
}

func TestOldestManual(t *testing.T) {
	runStoreTests(t, []storeTest{
		{"no open manual step answers false", func(t *testing.T, s *Store) {
			id := openCase(t, s, "ann@example.com")
			fanOut(t, s, id, map[string]offboard.Outcome{"okta": offboard.Pending})
			if at, ok, err := s.OldestManual(t.Context()); err != nil || ok {
				t.Errorf("OldestManual = %v, %v, %v; want none", at, ok, err)
			}
		}},
		{"the oldest open manual step's creation, attested ones left out", func(t *testing.T, s *Store) {
			first := manualCase(t, s, "ann@example.com", nil)
			time.Sleep(5 * time.Millisecond)
			second := manualCase(t, s, "bob@example.com", nil)
			created := func(id string) time.Time {
				for _, e := range getCase(t, s, id).Entries {
					if e.Connector == "lucid" {
						return e.CreatedAt
					}
				}
				t.Fatalf("case %s has no lucid entry", id)
				return time.Time{}
			}
			at, ok, err := s.OldestManual(t.Context())
			if err != nil || !ok || !at.Equal(created(first)) {
				t.Errorf("OldestManual = %v, %v, %v; want the first case's step, created %v", at, ok, err, created(first))
			}
			attest(t, s, first, "lucid")
			at, ok, err = s.OldestManual(t.Context())
			if err != nil || !ok || !at.Equal(created(second)) {
				t.Errorf("after attesting the first: OldestManual = %v, %v, %v; want the second's, created %v", at, ok, err, created(second))
			}
		}},
	})
}

// BenchmarkScrapeReads is what one scrape of /metrics asks of the store
// (CountCases and OldestManual) with 10,000 cases, 100 of them waiting
// for a manual step.
func BenchmarkScrapeReads(b *testing.B) {
	for _, d := range dialects {
		b.Run(d, func(b *testing.B) {
			s := newStore(b, d)
			ctx := b.Context()
			var wg sync.WaitGroup
			for g := range 16 {
				wg.Go(func() {
					for i := g; i < 10000; i += 16 {
						res, err := s.Ingest(ctx, Event{Source: "hr", EventID: fmt.Sprintf("e%d", i), Type: "terminated",
							Email: fmt.Sprintf("user%d@example.com", i), Reason: "terminated", ReceivedAt: time.Now(), Actor: "source:hr"})
						if err != nil {
							b.Error(err)
							return
						}
						if i%100 == 0 {
							if _, err := s.FanOut(ctx, res.CaseID, map[string]offboard.Outcome{"lucid": offboard.ManualRequired}, "worker"); err != nil {
								b.Error(err)
								return
							}
						}
					}
				})
			}
			wg.Wait()
			b.ResetTimer()
			for b.Loop() {
				if _, err := s.CountCases(ctx); err != nil {
					b.Fatal(err)
				}
				if _, _, err := s.OldestManual(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
