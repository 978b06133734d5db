package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
)

func TestPageCases(t *testing.T) {
	runStoreTests(t, []storeTest{
		{"pages run newest first and say whether more follow", func(t *testing.T, s *Store) {
			for i := range 5 {
				ingest(t, s, event(fmt.Sprintf("e%d", i), fmt.Sprintf("u%d@example.com", i)))
			}
			var seen []string
			for off := 0; ; off += 2 {
				page, more, err := s.PageCases(t.Context(), CasePage{Offset: off, Limit: 2})
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range page {
					seen = append(seen, c.Email)
				}
				if want := off+len(page) < 5; more != want {
					t.Fatalf("offset %d: more = %v, want %v", off, more, want)
				}
				if !more {
					break
				}
			}
			if fmt.Sprint(seen) != "[u4@example.com u3@example.com u2@example.com u1@example.com u0@example.com]" {
				t.Fatalf("pages = %v", seen)
			}
		}},
		{"filters by email, state, source and creation time", func(t *testing.T, s *Store) {
			a := ingest(t, s, event("a", "a@example.com"))
			ev := event("b", "b@example.com")
			ev.Source = "hr"
			b := ingest(t, s, ev)
			if _, err := s.FanOut(t.Context(), b.CaseID, map[string]offboard.Outcome{"okta": offboard.Verified}, "worker"); err != nil {
				t.Fatal(err)
			}
			cases := func(p CasePage) string {
				t.Helper()
				page, _, err := s.PageCases(t.Context(), p)
				if err != nil {
					t.Fatal(err)
				}
				var ids []string
				for _, c := range page {
					ids = append(ids, c.ID)
				}
				return fmt.Sprint(ids)
			}
			for name, tc := range map[string]struct {
				p    CasePage
				want []string
			}{
				"email":               {CasePage{Email: " A@Example.com"}, []string{a.CaseID}},
				"state":               {CasePage{State: offboard.StateCompleted}, []string{b.CaseID}},
				"source":              {CasePage{Source: "hr"}, []string{b.CaseID}},
				"from in the future":  {CasePage{From: time.Now().Add(time.Hour)}, nil},
				"to in the past":      {CasePage{To: time.Now().Add(-time.Hour)}, nil},
				"a window around now": {CasePage{From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour), Source: "okta"}, []string{a.CaseID}},
			} {
				if got := cases(tc.p); got != fmt.Sprint(tc.want) {
					t.Errorf("%s: got %s, want %v", name, got, tc.want)
				}
			}
			page, _, _ := s.PageCases(t.Context(), CasePage{Source: "hr"})
			if len(page) != 1 || len(page[0].Entries) != 1 || page[0].Entries[0].Outcome != offboard.Verified {
				t.Fatalf("entries not attached: %+v", page)
			}
		}},
	})
}

func TestRevokeTimes(t *testing.T) {
	runStoreTests(t, []storeTest{
		{"counts what an API ended, per system and day, and leaves people's steps out", func(t *testing.T, s *Store) {
			for i := range 3 {
				res := ingest(t, s, event(fmt.Sprintf("e%d", i), fmt.Sprintf("u%d@example.com", i)))
				if _, err := s.FanOut(t.Context(), res.CaseID, map[string]offboard.Outcome{
					"okta": offboard.Pending, "lucid": offboard.ManualRequired}, "worker"); err != nil {
					t.Fatal(err)
				}
				if _, err := s.RecordOutcome(t.Context(), res.CaseID, "okta", offboard.Verified, ""); err != nil {
					t.Fatal(err)
				}
			}
			got, err := s.RevokeTimes(t.Context(), time.Now().Add(-24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			today := time.Now().UTC().Truncate(24 * time.Hour)
			if len(got) != 1 || got[0].Connector != "okta" || got[0].Count != 3 || !got[0].Day.Equal(today) ||
				got[0].Mean < 0 || got[0].Max < got[0].Mean {
				t.Fatalf("RevokeTimes = %+v", got)
			}
			if later, _ := s.RevokeTimes(t.Context(), time.Now().Add(time.Hour)); len(later) != 0 {
				t.Fatalf("entries before since counted: %+v", later)
			}
		}},
	})
}
