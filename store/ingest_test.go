package store

import (
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/offboarder/offboarder/offboard"
)

func TestIngest(t *testing.T) {
	runStoreTests(t, []storeTest{
		{"a new subject opens a pending case with its event and an audit row", func(t *testing.T, s *Store) {
			ev := event("e1", " Ann@Example.com ")
			ev.SubjectIDs = map[string]string{"okta": "00u1"}
			res := ingest(t, s, ev)
			if !res.NewCase || res.Duplicate || res.State != offboard.StatePending {
				t.Fatalf("result = %+v, want a new pending case", res)
			}
			if id, err := uuid.Parse(res.CaseID); err != nil || id.Version() != 7 {
				t.Errorf("case id %q is not a uuid v7 (%v)", res.CaseID, err)
			}
			c := getCase(t, s, res.CaseID)
			wantAt := ev.ReceivedAt.UTC().Truncate(time.Microsecond)
			if c.Email != "ann@example.com" || c.Reason != "deactivated" || c.State != offboard.StatePending ||
				!c.EffectiveAt.Equal(wantAt) || c.EffectiveAt.Location() != time.UTC ||
				c.SubjectIDs["okta"] != "00u1" || c.Systems != nil || c.ClosedAt != nil {
				t.Errorf("case = %+v", c)
			}
			if !res.EffectiveAt.Equal(c.EffectiveAt) {
				t.Errorf("result effective at %v, case %v", res.EffectiveAt, c.EffectiveAt)
			}
			if len(c.Events) != 1 || c.Events[0].EventID != "e1" || c.Events[0].RequestID != "req-e1" ||
				!c.Events[0].ReceivedAt.Equal(wantAt) {
				t.Errorf("events = %+v", c.Events)
			}
			if c.Entries == nil || len(c.Entries) != 0 {
				t.Errorf("entries = %#v, want empty and not nil", c.Entries)
			}
			if len(c.Audit) != 1 || c.Audit[0].Action != "case.opened" || c.Audit[0].Actor != "source:okta" {
				t.Fatalf("audit = %+v", c.Audit)
			}
			var detail map[string]string
			if err := json.Unmarshal([]byte(c.Audit[0].Detail), &detail); err != nil {
				t.Fatalf("detail %q: %v", c.Audit[0].Detail, err)
			}
			want := map[string]string{"source": "okta", "event_id": "e1", "type": ev.Type, "reason": "deactivated", "request_id": "req-e1"}
			if !reflect.DeepEqual(detail, want) {
				t.Errorf("detail = %v, want %v", detail, want)
			}
			verify(t, s)
		}},
		{"an event effective in the future opens a scheduled case", func(t *testing.T, s *Store) {
			ev := event("e1", "ann@example.com")
			ev.EffectiveAt = time.Now().Add(time.Hour)
			res := ingest(t, s, ev)
			if res.State != offboard.StateScheduled || !res.EffectiveAt.Equal(ev.EffectiveAt.Truncate(time.Microsecond)) {
				t.Errorf("result = %+v, want scheduled at %v", res, ev.EffectiveAt)
			}
		}},
		{"an event without any time takes the time it was stored", func(t *testing.T, s *Store) {
			ev := event("e1", "ann@example.com")
			ev.ReceivedAt = time.Time{}
			before := time.Now().Add(-time.Second)
			res := ingest(t, s, ev)
			if res.State != offboard.StatePending || res.EffectiveAt.Before(before) || res.EffectiveAt.After(time.Now()) {
				t.Errorf("result = %+v, want pending now", res)
			}
		}},
		{"a duplicate delivery returns the same case and changes nothing", func(t *testing.T, s *Store) {
			first := ingest(t, s, event("e1", "ann@example.com"))
			before := getCase(t, s, first.CaseID)
			again := event("e1", "ann@example.com")
			again.Reason = "terminated"
			again.EffectiveAt = time.Now().Add(-time.Hour)
			again.Systems = []string{"slack"}
			res := ingest(t, s, again)
			if !res.Duplicate || res.NewCase || res.CaseID != first.CaseID || res.State != offboard.StatePending {
				t.Errorf("result = %+v, want a duplicate of %s", res, first.CaseID)
			}
			if after := getCase(t, s, first.CaseID); !reflect.DeepEqual(before, after) {
				t.Errorf("case changed:\nbefore %+v\nafter  %+v", before, after)
			}
			if n := count(t, s, "SELECT COUNT(*) FROM audit"); n != 1 {
				t.Errorf("%d audit rows, want 1", n)
			}
		}},
		{"the same event id from another source is a different event", func(t *testing.T, s *Store) {
			first := ingest(t, s, event("e1", "ann@example.com"))
			other := event("e1", "ann@example.com")
			other.Source = "bamboohr"
			res := ingest(t, s, other)
			if res.Duplicate || res.NewCase || res.CaseID != first.CaseID {
				t.Errorf("result = %+v, want attached to %s", res, first.CaseID)
			}
		}},
		{"a second event for an open case attaches to it and merges ids and systems", func(t *testing.T, s *Store) {
			e1 := event("e1", "ann@example.com")
			e1.SubjectIDs = map[string]string{"okta": "00u1"}
			e1.Systems = []string{"slack"}
			first := ingest(t, s, e1)
			e2 := event("e2", "ANN@example.com")
			e2.SubjectIDs = map[string]string{"okta": "other", "entra": "b2c"}
			e2.Systems = []string{"slack", "github", "github"}
			e2.Actor = "admin"
			res := ingest(t, s, e2)
			if res.NewCase || res.Duplicate || res.CaseID != first.CaseID {
				t.Fatalf("result = %+v, want attached to %s", res, first.CaseID)
			}
			c := getCase(t, s, res.CaseID)
			if want := []string{"github", "slack"}; !reflect.DeepEqual(c.Systems, want) {
				t.Errorf("systems = %v, want %v", c.Systems, want)
			}
			if want := map[string]string{"okta": "00u1", "entra": "b2c"}; !reflect.DeepEqual(c.SubjectIDs, want) {
				t.Errorf("subject ids = %v, want %v", c.SubjectIDs, want)
			}
			if len(c.Events) != 2 {
				t.Errorf("%d events, want 2", len(c.Events))
			}
			if got := actions(c); !reflect.DeepEqual(got, []string{"case.opened", "event.attached"}) || c.Audit[1].Actor != "admin" {
				t.Errorf("audit = %+v", c.Audit)
			}
		}},
		{"an event for every system widens a case limited to some", func(t *testing.T, s *Store) {
			e1 := event("e1", "ann@example.com")
			e1.Systems = []string{"slack"}
			first := ingest(t, s, e1)
			ingest(t, s, event("e2", "ann@example.com"))
			if c := getCase(t, s, first.CaseID); c.Systems != nil {
				t.Errorf("systems = %v, want nil (all)", c.Systems)
			}
		}},
		{"an event after the case closed opens a new case", func(t *testing.T, s *Store) {
			first := ingest(t, s, event("e1", "ann@example.com"))
			if _, err := s.FanOut(t.Context(), first.CaseID, map[string]offboard.Outcome{"slack": offboard.Skipped}, "worker"); err != nil {
				t.Fatal(err)
			}
			res := ingest(t, s, event("e2", "ann@example.com"))
			if !res.NewCase || res.CaseID == first.CaseID || res.State != offboard.StatePending {
				t.Fatalf("result = %+v, want a new case", res)
			}
			cases, err := s.ListCases(t.Context(), CaseFilter{Email: "Ann@Example.com"})
			if err != nil {
				t.Fatal(err)
			}
			if len(cases) != 2 || cases[0].ID != res.CaseID || cases[1].ID != first.CaseID {
				t.Fatalf("cases = %+v, want the new one first", cases)
			}
			if cases[1].State != offboard.StateCompleted || len(cases[1].Entries) != 1 || cases[0].Events != nil || cases[0].Audit != nil {
				t.Errorf("listed cases = %+v", cases)
			}
		}},
		{"an earlier event brings a scheduled case forward", func(t *testing.T, s *Store) {
			now := time.Now()
			e1 := event("e1", "ann@example.com")
			e1.EffectiveAt = now.Add(2 * time.Hour)
			first := ingest(t, s, e1)
			e2 := event("e2", "ann@example.com")
			e2.EffectiveAt = now.Add(time.Hour)
			res := ingest(t, s, e2)
			if res.CaseID != first.CaseID || res.State != offboard.StateScheduled || !res.EffectiveAt.Equal(e2.EffectiveAt.Truncate(time.Microsecond)) {
				t.Fatalf("after a nearer event: %+v, want scheduled at %v", res, e2.EffectiveAt)
			}
			e3 := event("e3", "ann@example.com")
			res = ingest(t, s, e3)
			if res.CaseID != first.CaseID || res.State != offboard.StatePending || !res.EffectiveAt.Equal(e3.ReceivedAt.Truncate(time.Microsecond)) {
				t.Fatalf("after an immediate event: %+v, want pending at %v", res, e3.ReceivedAt)
			}
			if c := getCase(t, s, first.CaseID); c.State != offboard.StatePending || !c.EffectiveAt.Equal(res.EffectiveAt) {
				t.Errorf("case = %+v", c)
			}
		}},
		{"a later event does not push a case back", func(t *testing.T, s *Store) {
			first := ingest(t, s, event("e1", "ann@example.com"))
			e2 := event("e2", "ann@example.com")
			e2.EffectiveAt = time.Now().Add(time.Hour)
			res := ingest(t, s, e2)
			if res.State != offboard.StatePending || !res.EffectiveAt.Equal(first.EffectiveAt) {
				t.Errorf("result = %+v, want pending at %v", res, first.EffectiveAt)
			}
		}},
		{"a real event turns a dry run into a real case before fan out", func(t *testing.T, s *Store) {
			e1 := event("e1", "ann@example.com")
			e1.DryRun = true
			first := ingest(t, s, e1)
			if c := getCase(t, s, first.CaseID); !c.DryRun {
				t.Fatal("dry run event opened a real case")
			}
			ingest(t, s, event("e2", "ann@example.com"))
			if c := getCase(t, s, first.CaseID); c.DryRun {
				t.Error("case still a dry run after a real event")
			}
		}},
		{"an event without an email is refused and nothing is stored", func(t *testing.T, s *Store) {
			if _, err := s.Ingest(t.Context(), event("e1", "  ")); err == nil {
				t.Fatal("Ingest accepted an event without an email")
			}
			if n := count(t, s, "SELECT COUNT(*) FROM cases"); n != 0 {
				t.Errorf("%d cases stored", n)
			}
		}},
		{"text PostgreSQL would refuse is stored cleaned and still deduplicated", func(t *testing.T, s *Store) {
			ev := event("e\x001\xff", "ann@example.com")
			ev.Type = "bad\x00type"
			first := ingest(t, s, ev)
			res := ingest(t, s, ev)
			if !res.Duplicate || res.CaseID != first.CaseID {
				t.Errorf("second delivery = %+v, want a duplicate", res)
			}
			c := getCase(t, s, first.CaseID)
			if got := c.Events[0].EventID; got != "e1\uFFFD" {
				t.Errorf("event id stored as %q", got)
			}
			verify(t, s)
		}},
		{"an unknown case is not found", func(t *testing.T, s *Store) {
			if _, err := s.GetCase(t.Context(), "nope"); !errors.Is(err, ErrNotFound) {
				t.Errorf("GetCase = %v, want ErrNotFound", err)
			}
		}},
	})
}

func TestIngestConcurrently(t *testing.T) {
	const n = 20
	// deliver ingests the events from n goroutines released together.
	deliver := func(t *testing.T, s *Store, events []Event) []IngestResult {
		t.Helper()
		results := make([]IngestResult, len(events))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, ev := range events {
			wg.Go(func() {
				<-start
				res, err := s.Ingest(t.Context(), ev)
				if err != nil {
					t.Errorf("Ingest %d: %v", i, err)
				}
				results[i] = res
			})
		}
		close(start)
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		return results
	}
	runStoreTests(t, []storeTest{
		{"the same delivery twenty times at once records one event and one case", func(t *testing.T, s *Store) {
			events := make([]Event, n)
			for i := range events {
				events[i] = event("same", "ann@example.com")
			}
			results := deliver(t, s, events)
			firsts := 0
			for _, r := range results {
				if !r.Duplicate {
					firsts++
					if !r.NewCase {
						t.Errorf("the first delivery did not open the case: %+v", r)
					}
				}
				if r.CaseID != results[0].CaseID {
					t.Errorf("case ids differ: %s and %s", r.CaseID, results[0].CaseID)
				}
			}
			if firsts != 1 {
				t.Errorf("%d results with Duplicate=false, want exactly 1", firsts)
			}
			for q, want := range map[string]int{
				"SELECT COUNT(*) FROM cases":  1,
				"SELECT COUNT(*) FROM events": 1,
				"SELECT COUNT(*) FROM audit":  1,
			} {
				if got := count(t, s, q); got != want {
					t.Errorf("%s = %d, want %d", q, got, want)
				}
			}
			verify(t, s)
		}},
		{"twenty different events for one subject at once share one case", func(t *testing.T, s *Store) {
			events := make([]Event, n)
			for i := range events {
				events[i] = event("e"+string(rune('a'+i)), "ann@example.com")
			}
			results := deliver(t, s, events)
			opened := 0
			for _, r := range results {
				if r.Duplicate || r.CaseID != results[0].CaseID {
					t.Errorf("result %+v, want case %s", r, results[0].CaseID)
				}
				if r.NewCase {
					opened++
				}
			}
			if opened != 1 {
				t.Errorf("%d results opened a case, want 1", opened)
			}
			c := getCase(t, s, results[0].CaseID)
			if len(c.Events) != n || len(c.Audit) != n {
				t.Errorf("%d events and %d audit rows, want %d", len(c.Events), len(c.Audit), n)
			}
			got := actions(c)
			sort.Strings(got)
			if got[0] != "case.opened" || got[1] != "event.attached" {
				t.Errorf("audit actions = %v", got)
			}
			if m := count(t, s, "SELECT COUNT(*) FROM cases"); m != 1 {
				t.Errorf("%d cases, want 1", m)
			}
			verify(t, s)
		}},
	})
}
