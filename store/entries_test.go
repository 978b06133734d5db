package store

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/offboarder/offboarder/offboard"
)

// openCase ingests an event for email that is due now and returns its case id.
func openCase(t *testing.T, s *Store, email string) string {
	t.Helper()
	return ingest(t, s, event("open-"+email, email)).CaseID
}

// fanOut fans caseID out or fails the test.
func fanOut(t *testing.T, s *Store, caseID string, entries map[string]offboard.Outcome) *Case {
	t.Helper()
	c, err := s.FanOut(t.Context(), caseID, entries, "worker")
	if err != nil {
		t.Fatalf("FanOut: %v", err)
	}
	return c
}

// outcome records an outcome or fails the test.
func outcome(t *testing.T, s *Store, caseID, connector string, o offboard.Outcome, detail string) Entry {
	t.Helper()
	e, err := s.RecordOutcome(t.Context(), caseID, connector, o, detail)
	if err != nil {
		t.Fatalf("RecordOutcome(%s, %s): %v", connector, o, err)
	}
	return e
}

// outcomes maps connector to outcome for the entries of c.
func outcomes(c *Case) map[string]offboard.Outcome {
	m := map[string]offboard.Outcome{}
	for _, e := range c.Entries {
		m[e.Connector] = e.Outcome
	}
	return m
}

func TestFanOut(t *testing.T) {
	runStoreTests(t, []storeTest{
		{"fan out creates one entry per connector and moves the case to in progress", func(t *testing.T, s *Store) {
			id := openCase(t, s, "ann@example.com")
			c := fanOut(t, s, id, map[string]offboard.Outcome{"slack": offboard.Pending, "github": offboard.Pending, "zoom": offboard.Skipped})
			if c.State != offboard.StateInProgress {
				t.Errorf("state = %s, want in_progress", c.State)
			}
			var names []string
			for _, e := range c.Entries {
				names = append(names, e.Connector)
				if e.CaseID != id || e.Attempts != 0 || e.CreatedAt.IsZero() {
					t.Errorf("entry = %+v", e)
				}
				if (e.FinishedAt != nil) != (e.Outcome == offboard.Skipped) {
					t.Errorf("entry %s: finished_at %v with outcome %s", e.Connector, e.FinishedAt, e.Outcome)
				}
			}
			if want := []string{"github", "slack", "zoom"}; !reflect.DeepEqual(names, want) {
				t.Errorf("entries = %v, want %v", names, want)
			}
			got := getCase(t, s, id)
			last := got.Audit[len(got.Audit)-1]
			if last.Action != "case.fanned_out" || last.Actor != "worker" || last.Detail != `{"connectors":["github","slack","zoom"]}` {
				t.Errorf("last audit = %+v", last)
			}
		}},
		{"fanning out again leaves existing entries as they are", func(t *testing.T, s *Store) {
			id := openCase(t, s, "ann@example.com")
			fanOut(t, s, id, map[string]offboard.Outcome{"slack": offboard.Pending})
			if _, _, err := s.BeginAttempt(t.Context(), id, "slack"); err != nil {
				t.Fatal(err)
			}
			c := fanOut(t, s, id, map[string]offboard.Outcome{"slack": offboard.Skipped, "github": offboard.Pending})
			if want := map[string]offboard.Outcome{"slack": offboard.Pending, "github": offboard.Pending}; !reflect.DeepEqual(outcomes(c), want) {
				t.Errorf("outcomes = %v, want %v", outcomes(c), want)
			}
			if c.Entries[1].Attempts != 1 {
				t.Errorf("slack attempts = %d, want 1 (kept)", c.Entries[1].Attempts)
			}
			before := getCase(t, s, id)
			again := fanOut(t, s, id, map[string]offboard.Outcome{"slack": offboard.Pending, "github": offboard.Pending})
			after := getCase(t, s, id)
			if !reflect.DeepEqual(before, after) || !reflect.DeepEqual(again.Entries, after.Entries) {
				t.Errorf("a repeated fan out changed the case:\nbefore %+v\nafter  %+v", before, after)
			}
			want := []string{"case.opened", "case.fanned_out", "case.fanned_out"}
			if got := actions(after); !reflect.DeepEqual(got, want) {
				t.Errorf("audit = %v, want %v", got, want)
			}
		}},
		{"fan out of only final entries closes the case at once", func(t *testing.T, s *Store) {
			id := openCase(t, s, "ann@example.com")
			c := fanOut(t, s, id, map[string]offboard.Outcome{"slack": offboard.Skipped, "github": offboard.Skipped})
			if c.State != offboard.StateCompleted || c.ClosedAt == nil {
				t.Errorf("case = %+v, want completed", c)
			}
			want := []string{"case.opened", "case.fanned_out", "case.closed"}
			if got := actions(getCase(t, s, id)); !reflect.DeepEqual(got, want) {
				t.Errorf("audit = %v, want %v", got, want)
			}
		}},
		{"fan out to no connector at all completes the case", func(t *testing.T, s *Store) {
			id := openCase(t, s, "ann@example.com")
			if c := fanOut(t, s, id, nil); c.State != offboard.StateCompleted || len(c.Entries) != 0 {
				t.Errorf("case = %+v, want completed without entries", c)
			}
		}},
		{"fan out of a scheduled case starts it", func(t *testing.T, s *Store) {
			ev := event("e1", "ann@example.com")
			ev.EffectiveAt = time.Now().Add(time.Hour)
			id := ingest(t, s, ev).CaseID
			if c := fanOut(t, s, id, map[string]offboard.Outcome{"slack": offboard.Pending}); c.State != offboard.StateInProgress {
				t.Errorf("state = %s, want in_progress", c.State)
			}
		}},
		{"fan out of a closed case changes nothing", func(t *testing.T, s *Store) {
			id := openCase(t, s, "ann@example.com")
			fanOut(t, s, id, map[string]offboard.Outcome{"slack": offboard.Skipped})
			before := getCase(t, s, id)
			c := fanOut(t, s, id, map[string]offboard.Outcome{"github": offboard.Pending})
			if c.State != offboard.StateCompleted || len(c.Entries) != 1 {
				t.Errorf("case = %+v, want completed with one entry", c)
			}
			if after := getCase(t, s, id); !reflect.DeepEqual(before, after) {
				t.Errorf("case changed:\nbefore %+v\nafter  %+v", before, after)
			}
		}},
		{"fan out of an unknown case is not found", func(t *testing.T, s *Store) {
			if _, err := s.FanOut(t.Context(), "nope", map[string]offboard.Outcome{"slack": offboard.Pending}, "worker"); !errors.Is(err, ErrNotFound) {
				t.Errorf("FanOut = %v, want ErrNotFound", err)
			}
		}},
	})
}

func TestAttempts(t *testing.T) {
	runStoreTests(t, []storeTest{
		{"begin attempt counts attempts and keeps the first start", func(t *testing.T, s *Store) {
			id := openCase(t, s, "ann@example.com")
			fanOut(t, s, id, map[string]offboard.Outcome{"slack": offboard.Pending})
			first, _, err := s.BeginAttempt(t.Context(), id, "slack")
			if err != nil {
				t.Fatal(err)
			}
			second, _, err := s.BeginAttempt(t.Context(), id, "slack")
			if err != nil {
				t.Fatal(err)
			}
			if first.Attempts != 1 || second.Attempts != 2 || first.StartedAt == nil ||
				!second.StartedAt.Equal(*first.StartedAt) || second.UpdatedAt.Before(first.UpdatedAt) {
				t.Errorf("first %+v, second %+v", first, second)
			}
		}},
		{"begin attempt on a final entry returns it as is", func(t *testing.T, s *Store) {
			id := openCase(t, s, "ann@example.com")
			fanOut(t, s, id, map[string]offboard.Outcome{"slack": offboard.Pending, "github": offboard.Pending})
			done := outcome(t, s, id, "slack", "verified", "")
			e, _, err := s.BeginAttempt(t.Context(), id, "slack")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(e, done) {
				t.Errorf("entry = %+v, want %+v", e, done)
			}
		}},
		{"begin attempt on an unknown entry is not found", func(t *testing.T, s *Store) {
			id := openCase(t, s, "ann@example.com")
			if _, _, err := s.BeginAttempt(t.Context(), id, "slack"); !errors.Is(err, ErrNotFound) {
				t.Errorf("BeginAttempt = %v, want ErrNotFound", err)
			}
			if _, _, err := s.BeginAttempt(t.Context(), "no-such-case", "slack"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "case") {
				t.Errorf("BeginAttempt of an unknown case = %v, want ErrNotFound naming the case", err)
			}
		}},
		{"begin attempt returns the case row the revoke acts on", func(t *testing.T, s *Store) {
			id := openCase(t, s, "ann@example.com")
			fanOut(t, s, id, map[string]offboard.Outcome{"slack": offboard.Pending})
			want, err := s.CaseRow(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			_, c, err := s.BeginAttempt(t.Context(), id, "slack")
			if err != nil {
				t.Fatal(err)
			}
			if c.ID != id || c.Email != "ann@example.com" || !reflect.DeepEqual(c, want) {
				t.Errorf("case = %+v, want %+v", c, want)
			}
		}},
		{"a retry notes the last error and audits it truncated", func(t *testing.T, s *Store) {
			id := openCase(t, s, "ann@example.com")
			fanOut(t, s, id, map[string]offboard.Outcome{"slack": offboard.Pending})
			text := "slack: 503 service unavailable " + strings.Repeat("é", 600)
			if err := s.RecordRetry(t.Context(), id, "slack", text); err != nil {
				t.Fatal(err)
			}
			c := getCase(t, s, id)
			if c.Entries[0].LastError != text || c.Entries[0].Outcome != offboard.Pending {
				t.Errorf("entry = %+v", c.Entries[0])
			}
			last := c.Audit[len(c.Audit)-1]
			if last.Action != "entry.retry" || last.Connector != "slack" ||
				utf8.RuneCountInString(last.Detail) != 500 || !strings.HasPrefix(text, last.Detail) {
				t.Errorf("last audit = %+v (%d chars)", last, utf8.RuneCountInString(last.Detail))
			}
			verify(t, s)
		}},
		{"a retry on a final entry changes nothing", func(t *testing.T, s *Store) {
			id := openCase(t, s, "ann@example.com")
			fanOut(t, s, id, map[string]offboard.Outcome{"slack": offboard.Pending, "github": offboard.Pending})
			outcome(t, s, id, "slack", "verified", "")
			before := getCase(t, s, id)
			if err := s.RecordRetry(t.Context(), id, "slack", "late"); err != nil {
				t.Fatal(err)
			}
			if after := getCase(t, s, id); !reflect.DeepEqual(before, after) {
				t.Errorf("case changed:\nbefore %+v\nafter  %+v", before, after)
			}
		}},
		{"a retry on an unknown entry is not found", func(t *testing.T, s *Store) {
			if err := s.RecordRetry(t.Context(), "nope", "slack", "x"); !errors.Is(err, ErrNotFound) {
				t.Errorf("RecordRetry = %v, want ErrNotFound", err)
			}
		}},
	})
}

func TestRecordOutcome(t *testing.T) {
	// closing runs two connectors to the given outcomes and checks the state.
	closing := func(first, second offboard.Outcome, wantState offboard.State) func(t *testing.T, s *Store) {
		return func(t *testing.T, s *Store) {
			id := openCase(t, s, "ann@example.com")
			fanOut(t, s, id, map[string]offboard.Outcome{"a": offboard.Pending, "b": offboard.Pending})
			if _, _, err := s.BeginAttempt(t.Context(), id, "a"); err != nil {
				t.Fatal(err)
			}
			e := outcome(t, s, id, "a", first, "detail of a")
			if e.Outcome != first || e.FinishedAt == nil {
				t.Errorf("entry a = %+v", e)
			}
			if first == offboard.Failed && e.LastError != "detail of a" {
				t.Errorf("failed entry last_error = %q", e.LastError)
			}
			if c := getCase(t, s, id); c.State != offboard.StateInProgress || c.ClosedAt != nil {
				t.Fatalf("after one of two outcomes: %+v", c)
			}
			outcome(t, s, id, "b", second, "")
			c := getCase(t, s, id)
			if c.State != wantState || c.ClosedAt == nil {
				t.Errorf("state = %s (closed %v), want %s", c.State, c.ClosedAt, wantState)
			}
			want := []string{"case.opened", "case.fanned_out", "entry.outcome", "entry.outcome", "case.closed"}
			if got := actions(c); !reflect.DeepEqual(got, want) {
				t.Fatalf("audit = %v, want %v", got, want)
			}
			var d struct {
				Outcome  offboard.Outcome `json:"outcome"`
				Attempts int              `json:"attempts"`
				Error    string           `json:"error"`
			}
			if err := json.Unmarshal([]byte(c.Audit[2].Detail), &d); err != nil {
				t.Fatal(err)
			}
			if d.Outcome != first || d.Attempts != 1 || (first == offboard.Failed) != (d.Error == "detail of a") {
				t.Errorf("outcome detail = %s", c.Audit[2].Detail)
			}
			if c.Audit[4].Detail != `{"state":"`+string(wantState)+`"}` {
				t.Errorf("close detail = %s", c.Audit[4].Detail)
			}
			verify(t, s)
		}
	}
	runStoreTests(t, []storeTest{
		{"the last verified outcome completes the case", closing("verified", "not_found", offboard.StateCompleted)},
		{"a failed outcome leaves the case needing attention", closing(offboard.Failed, "verified", offboard.StateNeedsAttention)},
		{"a manual outcome leaves the case needing attention", closing("acknowledged", offboard.ManualRequired, offboard.StateNeedsAttention)},
		{"skipped and cancelled entries complete the case", closing(offboard.Skipped, "cancelled", offboard.StateCompleted)},
		{"recording an outcome twice keeps the first", func(t *testing.T, s *Store) {
			id := openCase(t, s, "ann@example.com")
			fanOut(t, s, id, map[string]offboard.Outcome{"a": offboard.Pending, "b": offboard.Pending})
			first := outcome(t, s, id, "a", "verified", "")
			before := getCase(t, s, id)
			again := outcome(t, s, id, "a", offboard.Failed, "boom")
			if !reflect.DeepEqual(first, again) {
				t.Errorf("second outcome returned %+v, want %+v", again, first)
			}
			if after := getCase(t, s, id); !reflect.DeepEqual(before, after) {
				t.Errorf("case changed:\nbefore %+v\nafter  %+v", before, after)
			}
		}},
		{"pending is not an outcome", func(t *testing.T, s *Store) {
			id := openCase(t, s, "ann@example.com")
			fanOut(t, s, id, map[string]offboard.Outcome{"a": offboard.Pending})
			for _, o := range []offboard.Outcome{"", offboard.Pending} {
				if _, err := s.RecordOutcome(t.Context(), id, "a", o, ""); err == nil {
					t.Errorf("RecordOutcome(%q) succeeded", o)
				}
			}
		}},
		{"an outcome for an unknown entry or case is not found", func(t *testing.T, s *Store) {
			id := openCase(t, s, "ann@example.com")
			if _, err := s.RecordOutcome(t.Context(), id, "a", "verified", ""); !errors.Is(err, ErrNotFound) {
				t.Errorf("unknown entry: %v, want ErrNotFound", err)
			}
			if _, err := s.RecordOutcome(t.Context(), "nope", "a", "verified", ""); !errors.Is(err, ErrNotFound) {
				t.Errorf("unknown case: %v, want ErrNotFound", err)
			}
		}},
		{"outcomes recorded at once for every entry close the case exactly once", func(t *testing.T, s *Store) {
			id := openCase(t, s, "ann@example.com")
			names := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
			entries := map[string]offboard.Outcome{}
			for _, n := range names {
				entries[n] = offboard.Pending
			}
			fanOut(t, s, id, entries)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for _, n := range names {
				for range 2 { // each outcome delivered twice, as a re-run task would
					wg.Go(func() {
						<-start
						if _, err := s.RecordOutcome(t.Context(), id, n, "verified", ""); err != nil {
							t.Errorf("RecordOutcome(%s): %v", n, err)
						}
					})
				}
			}
			close(start)
			wg.Wait()
			c := getCase(t, s, id)
			if c.State != offboard.StateCompleted {
				t.Errorf("state = %s, want completed", c.State)
			}
			counts := map[string]int{}
			for _, a := range actions(c) {
				counts[a]++
			}
			if counts["case.closed"] != 1 || counts["entry.outcome"] != len(names) {
				t.Errorf("audit actions = %v", counts)
			}
			verify(t, s)
		}},
	})
}

func TestDue(t *testing.T) {
	runStoreTests(t, []storeTest{
		{"due lists open cases not fanned out and pending entries of cases in progress", func(t *testing.T, s *Store) {
			now := time.Now()
			past := event("p", "pending@example.com")
			past.EffectiveAt = now.Add(-time.Hour)
			pending := ingest(t, s, past).CaseID
			future := event("s", "scheduled@example.com")
			future.EffectiveAt = now.Add(time.Hour)
			scheduled := ingest(t, s, future).CaseID
			running := openCase(t, s, "running@example.com")
			fanOut(t, s, running, map[string]offboard.Outcome{"slack": offboard.Pending, "github": offboard.Pending, "zoom": offboard.Skipped})
			outcome(t, s, running, "github", "verified", "")
			later := openCase(t, s, "later@example.com")
			fanOut(t, s, later, map[string]offboard.Outcome{"okta": offboard.Pending})
			done := openCase(t, s, "done@example.com")
			fanOut(t, s, done, map[string]offboard.Outcome{"slack": offboard.Skipped})

			cases, refs, err := s.Due(t.Context(), 0)
			if err != nil {
				t.Fatal(err)
			}
			wantCases := []DueCase{
				{CaseID: pending, EffectiveAt: past.EffectiveAt.UTC().Truncate(time.Microsecond)},
				{CaseID: scheduled, EffectiveAt: future.EffectiveAt.UTC().Truncate(time.Microsecond)},
			}
			if !reflect.DeepEqual(cases, wantCases) {
				t.Errorf("cases = %+v, want %+v", cases, wantCases)
			}
			wantRefs := []EntryRef{{CaseID: running, Connector: "slack"}, {CaseID: later, Connector: "okta"}}
			if !reflect.DeepEqual(refs, wantRefs) {
				t.Errorf("entries = %+v, want %+v", refs, wantRefs)
			}

			cases, refs, err = s.Due(t.Context(), 1)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cases, wantCases[:1]) || !reflect.DeepEqual(refs, wantRefs[:1]) {
				t.Errorf("with limit 1: %+v, %+v", cases, refs)
			}
		}},
		{"nothing is due in an empty store", func(t *testing.T, s *Store) {
			cases, refs, err := s.Due(t.Context(), 10)
			if err != nil || len(cases) != 0 || len(refs) != 0 {
				t.Errorf("Due = %v, %v, %v", cases, refs, err)
			}
		}},
	})
}

func TestListCases(t *testing.T) {
	runStoreTests(t, []storeTest{
		{"cases are listed newest first and filtered by state and email", func(t *testing.T, s *Store) {
			var ids []string
			for _, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
				ids = append(ids, openCase(t, s, email))
			}
			fanOut(t, s, ids[1], map[string]offboard.Outcome{"slack": offboard.Pending})
			all, err := s.ListCases(t.Context(), CaseFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 3 || all[0].ID != ids[2] || all[2].ID != ids[0] {
				t.Errorf("all = %+v", all)
			}
			running, err := s.ListCases(t.Context(), CaseFilter{State: offboard.StateInProgress})
			if err != nil {
				t.Fatal(err)
			}
			if len(running) != 1 || running[0].ID != ids[1] || len(running[0].Entries) != 1 {
				t.Errorf("in progress = %+v", running)
			}
			limited, err := s.ListCases(t.Context(), CaseFilter{Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			if len(limited) != 2 || limited[0].ID != ids[2] {
				t.Errorf("limit 2 = %+v", limited)
			}
			none, err := s.ListCases(t.Context(), CaseFilter{Email: "nobody@example.com"})
			if err != nil || none == nil || len(none) != 0 {
				t.Errorf("no match = %#v, %v; want an empty list", none, err)
			}
		}},
	})
}

func TestRecordOutcomeKeepsTheDetail(t *testing.T) {
	runStoreTests(t, []storeTest{
		{"a final outcome keeps what the connector said, a failure its error", func(t *testing.T, s *Store) {
			id := openCase(t, s, "ann@example.com")
			fanOut(t, s, id, map[string]offboard.Outcome{"a": offboard.Pending, "b": offboard.Pending})
			a := outcome(t, s, id, "a", offboard.Skipped, "account not deactivated: the reason is \"security\"")
			b := outcome(t, s, id, "b", offboard.Failed, "credentials rejected")
			if a.Detail != "account not deactivated: the reason is \"security\"" || a.LastError != "" {
				t.Errorf("skipped entry: detail %q, last_error %q", a.Detail, a.LastError)
			}
			if b.LastError != "credentials rejected" {
				t.Errorf("failed entry: last_error %q", b.LastError)
			}
			for _, e := range getCase(t, s, id).Entries {
				if e.Connector == "a" && e.Detail != a.Detail {
					t.Errorf("read back: detail %q, want %q", e.Detail, a.Detail)
				}
			}
		}},
	})
}
