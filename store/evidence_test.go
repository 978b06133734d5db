package store

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
)

func TestEvidence(t *testing.T) {
	runStoreTests(t, []storeTest{
		{"the evidence of a case holds its events, entries, every attempt, its audit rows and the chain's head", func(t *testing.T, s *Store) {
			id := openCase(t, s, "ann@example.com")
			fanOut(t, s, id, map[string]offboard.Outcome{"okta": offboard.Pending})
			start := time.Now().UTC().Truncate(time.Microsecond)
			for _, a := range []Attempt{
				{CaseID: id, Connector: "okta", N: 1, StartedAt: start, Duration: 1500 * time.Microsecond, StatusCode: 503, Result: "retry", Error: "okta: 503"},
				{CaseID: id, Connector: "okta", N: 2, StartedAt: start.Add(time.Second), Duration: 42 * time.Millisecond, StatusCode: 200, Result: "verified"},
				{CaseID: id, Connector: "okta", N: 2, StartedAt: start.Add(time.Hour), Duration: time.Hour, StatusCode: 500, Result: "failed"}, // a re-run: kept once
			} {
				if err := s.RecordAttempt(t.Context(), a); err != nil {
					t.Fatal(err)
				}
			}
			outcome(t, s, id, "okta", offboard.Verified, "sessions ended")
			ev, err := s.Evidence(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			c := ev.Case
			if c.ID != id || c.State != offboard.StateCompleted || len(c.Events) != 1 || len(c.Entries) != 1 || c.Entries[0].Outcome != offboard.Verified {
				t.Errorf("case = %+v", c)
			}
			if len(ev.Attempts) != 2 || ev.Attempts[0].StatusCode != 503 || ev.Attempts[0].DurationMS != 1.5 ||
				ev.Attempts[1].Result != "verified" || ev.Attempts[1].Duration != 42*time.Millisecond || !ev.Attempts[1].StartedAt.Equal(start.Add(time.Second)) {
				t.Errorf("attempts = %+v", ev.Attempts)
			}
			head, err := s.VerifyAudit(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if ev.AuditHead != head || len(c.Audit) == 0 || c.Audit[len(c.Audit)-1].Seq > head.Seq || c.Audit[0].Hash == "" {
				t.Errorf("audit head %+v, verified %+v, rows %+v", ev.AuditHead, head, c.Audit)
			}
			if time.Since(ev.GeneratedAt) > time.Minute {
				t.Errorf("generated_at = %v", ev.GeneratedAt)
			}
			b, _ := json.Marshal(ev)
			var doc map[string]any
			if err := json.Unmarshal(b, &doc); err != nil || doc["generated_at"] == nil || doc["audit_head"] == nil || doc["attempts"] == nil {
				t.Errorf("document = %s", b)
			}
		}},
		{"an attempt is kept with the retry or the outcome it led to, in the same transaction", func(t *testing.T, s *Store) {
			id := openCase(t, s, "cy@example.com")
			fanOut(t, s, id, map[string]offboard.Outcome{"okta": offboard.Pending})
			now := time.Now()
			if err := s.RecordAttemptRetry(t.Context(), Attempt{CaseID: id, Connector: "okta", N: 1, StartedAt: now, StatusCode: 429, Result: "retry"}, "okta: rate limited", now.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			e, err := s.RecordAttemptOutcome(t.Context(), Attempt{CaseID: id, Connector: "okta", N: 2, StartedAt: now.Add(time.Second), StatusCode: 200, Result: "verified"}, offboard.Verified, "")
			if err != nil || e.Outcome != offboard.Verified {
				t.Fatalf("outcome: %+v, %v", e, err)
			}
			// An entry that does not exist: nothing is kept, not even the attempt.
			if _, err := s.RecordAttemptOutcome(t.Context(), Attempt{CaseID: id, Connector: "nope", N: 1, StartedAt: now, StatusCode: 200, Result: "verified"}, offboard.Verified, ""); !errors.Is(err, ErrNotFound) {
				t.Fatalf("unknown entry: %v", err)
			}
			ev, err := s.Evidence(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if len(ev.Attempts) != 2 || ev.Attempts[0].StatusCode != 429 || ev.Attempts[1].Result != "verified" || ev.Case.State != offboard.StateCompleted {
				t.Errorf("attempts %+v, state %s", ev.Attempts, ev.Case.State)
			}
		}},
		{"a retry notes when the next attempt is due, and an attempt's start or the outcome clears it", func(t *testing.T, s *Store) {
			id := openCase(t, s, "next@example.com")
			fanOut(t, s, id, map[string]offboard.Outcome{"okta": offboard.Pending})
			entry := func() Entry {
				t.Helper()
				c, err := s.GetCase(t.Context(), id)
				if err != nil || len(c.Entries) != 1 {
					t.Fatalf("case %+v, %v", c, err)
				}
				return c.Entries[0]
			}
			if _, _, err := s.BeginAttempt(t.Context(), id, "okta"); err != nil {
				t.Fatal(err)
			}
			next := time.Now().Add(90 * time.Second).Truncate(time.Microsecond)
			if err := s.RecordAttemptRetry(t.Context(), Attempt{CaseID: id, Connector: "okta", N: 1, StartedAt: time.Now(), StatusCode: 503, Result: "retry"}, "okta: 503", next); err != nil {
				t.Fatal(err)
			}
			if e := entry(); e.NextAttemptAt == nil || !e.NextAttemptAt.Equal(next) {
				t.Fatalf("after a retry: next_attempt_at %v, want %v", e.NextAttemptAt, next)
			}
			if _, _, err := s.BeginAttempt(t.Context(), id, "okta"); err != nil {
				t.Fatal(err)
			}
			if e := entry(); e.NextAttemptAt != nil {
				t.Fatalf("an attempt began: next_attempt_at %v, want none", e.NextAttemptAt)
			}
			if err := s.RecordAttemptRetry(t.Context(), Attempt{CaseID: id, Connector: "okta", N: 2, StartedAt: time.Now(), StatusCode: 503, Result: "retry"}, "okta: 503", next); err != nil {
				t.Fatal(err)
			}
			if _, err := s.RecordOutcome(t.Context(), id, "okta", offboard.Verified, ""); err != nil {
				t.Fatal(err)
			}
			if e := entry(); e.NextAttemptAt != nil {
				t.Fatalf("final: next_attempt_at %v, want none", e.NextAttemptAt)
			}
		}},
		{"a case without attempts has an empty list, and an unknown case is not found", func(t *testing.T, s *Store) {
			id := openCase(t, s, "bob@example.com")
			ev, err := s.Evidence(t.Context(), id)
			if err != nil || ev.Attempts == nil || len(ev.Attempts) != 0 {
				t.Fatalf("evidence %+v, %v", ev, err)
			}
			if _, err := s.Evidence(t.Context(), "no-such-case"); !errors.Is(err, ErrNotFound) {
				t.Errorf("unknown case: %v, want ErrNotFound", err)
			}
		}},
		{"the cases created in a window come oldest first, page by page", func(t *testing.T, s *Store) {
			var ids []string
			for _, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
				ids = append(ids, openCase(t, s, email))
			}
			since, until := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
			var got []string
			after := ""
			for page := 0; page < 5; page++ {
				evs, next, err := s.EvidenceCreated(t.Context(), since, until, after, 2)
				if err != nil {
					t.Fatal(err)
				}
				for _, ev := range evs {
					got = append(got, ev.Case.ID)
				}
				if next == "" {
					break
				}
				after = next
			}
			if len(got) != 3 || got[0] != ids[0] || got[2] != ids[2] {
				t.Errorf("got %v, want %v", got, ids)
			}
			evs, _, err := s.EvidenceCreated(t.Context(), until, until.Add(time.Hour), "", 0)
			if err != nil || len(evs) != 0 {
				t.Errorf("a window after every case: %d cases, %v", len(evs), err)
			}
			if _, _, err := s.EvidenceCreated(t.Context(), since, until, "no-such-case", 0); !errors.Is(err, ErrNotFound) {
				t.Errorf("an unknown cursor: %v, want ErrNotFound", err)
			}
		}},
	})
}
