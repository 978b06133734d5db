package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
)

// guarded sets a guard of n cases in ten minutes, security bypassing it.
func guarded(s *Store, n int) {
	s.SetGuard(&Guard{Cases: n, Within: 10 * time.Minute, Bypass: []offboard.Reason{offboard.ReasonSecurity}})
}

// states ingests one event per email (reason r) and returns the states.
func states(t *testing.T, s *Store, r offboard.Reason, emails ...string) ([]offboard.State, []string) {
	t.Helper()
	var out []offboard.State
	var ids []string
	for _, e := range emails {
		ev := event("ev-"+e, e)
		ev.Reason = r
		ev.ReceivedAt = s.now()
		res := ingest(t, s, ev)
		if got := getCase(t, s, res.CaseID).State; got != res.State {
			t.Fatalf("%s: result says %s, the case is %s", e, res.State, got)
		}
		out = append(out, res.State)
		ids = append(ids, res.CaseID)
	}
	return out, ids
}

const (
	pending = offboard.StatePending
	held    = offboard.StateAwaitingApproval
)

func TestGuard(t *testing.T) {
	runStoreTests(t, []storeTest{
		{"more new cases than the limit: the later ones wait for approval and are not fanned out", func(t *testing.T, s *Store) {
			guarded(s, 3)
			got, ids := states(t, s, offboard.ReasonTerminated, "a@x.com", "b@x.com", "c@x.com", "d@x.com", "e@x.com")
			if want := []offboard.State{pending, pending, pending, held, held}; !slices.Equal(got, want) {
				t.Fatalf("states = %v, want %v", got, want)
			}
			c := getCase(t, s, ids[3])
			if a := actions(c); !slices.Equal(a, []string{"case.opened", "case.held"}) {
				t.Errorf("audit = %v", a)
			}
			var detail map[string]any
			if err := json.Unmarshal([]byte(c.Audit[1].Detail), &detail); err != nil || detail["cases"] != 4.0 || c.Audit[1].Actor != "policy" {
				t.Errorf("held audit = %+v (%v)", c.Audit[1], err)
			}
			fanned := fanOut(t, s, ids[4], map[string]offboard.Outcome{"okta": offboard.Pending})
			if fanned.State != held || len(fanned.Entries) != 0 {
				t.Errorf("fan out of a held case = %+v, want it unchanged", fanned)
			}
			due, _, err := s.Due(t.Context(), 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range due {
				if d.CaseID == ids[3] || d.CaseID == ids[4] {
					t.Errorf("held case %s is due", d.CaseID)
				}
			}
			list, err := s.HeldCases(t.Context(), 0)
			if err != nil || len(list) != 2 || list[0].ID != ids[3] || list[1].ID != ids[4] {
				t.Errorf("held cases = %+v (%v), want %s, %s oldest first", list, err, ids[3], ids[4])
			}
			verify(t, s)
		}},
		{"a bypass reason is neither held nor counted", func(t *testing.T, s *Store) {
			guarded(s, 2)
			got1, _ := states(t, s, offboard.ReasonTerminated, "a@x.com")
			got2, _ := states(t, s, offboard.ReasonSecurity, "s1@x.com", "s2@x.com", "s3@x.com")
			got3, _ := states(t, s, offboard.ReasonTerminated, "b@x.com", "c@x.com")
			got4, _ := states(t, s, offboard.ReasonSecurity, "s4@x.com")
			got := slices.Concat(got1, got2, got3, got4)
			want := []offboard.State{pending, pending, pending, pending, pending, held, pending}
			if !slices.Equal(got, want) {
				t.Fatalf("states = %v, want %v", got, want)
			}
		}},
		{"cases opened before the window do not count", func(t *testing.T, s *Store) {
			guarded(s, 2)
			now := time.Now()
			s.now = func() time.Time { return now.Add(-11 * time.Minute) }
			old, _ := states(t, s, offboard.ReasonTerminated, "a@x.com", "b@x.com", "c@x.com")
			s.now = func() time.Time { return now }
			recent, _ := states(t, s, offboard.ReasonTerminated, "d@x.com", "e@x.com", "f@x.com")
			if want := []offboard.State{pending, pending, held}; !slices.Equal(old, want) || !slices.Equal(recent, want) {
				t.Fatalf("states = %v then %v, want %v each", old, recent, want)
			}
		}},
		{"a held case takes further events, and a bypass reason's event releases it", func(t *testing.T, s *Store) {
			guarded(s, 0)
			_, ids := states(t, s, offboard.ReasonTerminated, "a@x.com")
			again := event("ev-2", "a@x.com")
			again.Reason = offboard.ReasonTerminated
			if res := ingest(t, s, again); res.NewCase || res.CaseID != ids[0] || res.State != held {
				t.Fatalf("second event = %+v, want it attached to the held case", res)
			}
			sec := event("ev-3", "a@x.com")
			sec.Reason = offboard.ReasonSecurity
			if res := ingest(t, s, sec); res.CaseID != ids[0] || res.State != pending {
				t.Fatalf("security event = %+v, want the case released to pending", res)
			}
			c := getCase(t, s, ids[0])
			if a := actions(c); !slices.Equal(a, []string{"case.opened", "case.held", "event.attached", "event.attached", "case.approved"}) {
				t.Errorf("audit = %v", a)
			}
		}},
		{"no guard set holds nothing", func(t *testing.T, s *Store) {
			got, _ := states(t, s, offboard.ReasonTerminated, "a@x.com", "b@x.com", "c@x.com")
			s.SetGuard(nil)
			more, _ := states(t, s, offboard.ReasonTerminated, "d@x.com")
			if slices.Contains(append(got, more...), held) {
				t.Errorf("states = %v %v, want none held", got, more)
			}
		}},
	})
}

func TestApproveCases(t *testing.T) {
	runStoreTests(t, []storeTest{
		{"approving named cases releases the held ones and lists the others", func(t *testing.T, s *Store) {
			guarded(s, 1)
			_, ids := states(t, s, offboard.ReasonTerminated, "a@x.com", "b@x.com", "c@x.com")
			res, err := s.ApproveCases(t.Context(), Approval{CaseIDs: []string{ids[1], ids[0], "nope", ids[1]}, Who: "Jo", Note: "the export was right"})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Released) != 1 || res.Released[0].ID != ids[1] || res.Released[0].State != pending ||
				!slices.Equal(res.NotFound, []string{"nope"}) ||
				len(res.NotHeld) != 1 || res.NotHeld[0] != (NotHeldCase{ID: ids[0], State: pending}) {
				t.Fatalf("result = %+v", res)
			}
			c := getCase(t, s, ids[1])
			last := c.Audit[len(c.Audit)-1]
			if c.State != pending || last.Action != "case.approved" || last.Actor != "Jo" ||
				last.Detail != `{"note":"the export was right","state":"pending"}` {
				t.Errorf("case %s, last audit %+v", c.State, last)
			}
			if getCase(t, s, ids[2]).State != held {
				t.Error("a case not named was released")
			}
			verify(t, s)
		}},
		{"approving all releases every held case oldest first; a case effective later is scheduled", func(t *testing.T, s *Store) {
			guarded(s, 0)
			_, ids := states(t, s, offboard.ReasonTerminated, "a@x.com", "b@x.com")
			later := event("ev-later", "c@x.com")
			later.EffectiveAt = time.Now().Add(time.Hour)
			if res := ingest(t, s, later); res.State != held {
				t.Fatalf("a case effective later = %+v, want held", res)
			} else {
				ids = append(ids, res.CaseID)
			}
			res, err := s.ApproveCases(t.Context(), Approval{All: true, Who: "jo"})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range res.Released {
				got = append(got, r.ID+"="+string(r.State))
			}
			want := []string{ids[0] + "=pending", ids[1] + "=pending", ids[2] + "=scheduled"}
			if !slices.Equal(got, want) || len(res.NotFound)+len(res.NotHeld) != 0 {
				t.Fatalf("result = %+v, want %v", res, want)
			}
			if list, _ := s.HeldCases(t.Context(), 0); len(list) != 0 {
				t.Errorf("still held: %+v", list)
			}
		}},
		{"an approval without who is refused", func(t *testing.T, s *Store) {
			if _, err := s.ApproveCases(t.Context(), Approval{All: true, Who: " "}); err == nil {
				t.Error("approved without who")
			}
		}},
	})
}

func TestProtectedEvent(t *testing.T) {
	runStoreTests(t, []storeTest{
		{"a protected account's event is recorded on a case closed at once as dismissed", func(t *testing.T, s *Store) {
			open := ingest(t, s, event("e1", "root@x.com"))
			ev := event("e2", "root@x.com")
			ev.Protected = true
			res := ingest(t, s, ev)
			if !res.NewCase || res.CaseID == open.CaseID || res.State != offboard.StateDismissed {
				t.Fatalf("result = %+v, want a new dismissed case beside %s", res, open.CaseID)
			}
			c := getCase(t, s, res.CaseID)
			if c.ClosedAt == nil || len(c.Events) != 1 || !slices.Equal(actions(c), []string{"case.protected"}) {
				t.Errorf("case = %+v", c)
			}
			if dup := ingest(t, s, ev); !dup.Duplicate || dup.CaseID != res.CaseID {
				t.Errorf("again = %+v, want a duplicate of %s", dup, res.CaseID)
			}
			verify(t, s)
		}},
	})
}

// TestGuardAcrossProcesses opens two stores on one database, as two serve
// processes would, and ingests at once from both: the guard still lets
// exactly its limit through.
func TestGuardAcrossProcesses(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			u := newDatabase(t, d)
			a, b := openStore(t, u), openStore(t, u)
			guarded(a, 10)
			guarded(b, 10)
			const n = 40
			results := make([]IngestResult, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				s := a
				if i%2 == 1 {
					s = b
				}
				wg.Go(func() {
					<-start
					ev := event(fmt.Sprintf("e%d", i), fmt.Sprintf("p%d@x.com", i))
					var err error
					if results[i], err = s.Ingest(t.Context(), ev); err != nil {
						t.Errorf("Ingest %d: %v", i, err)
					}
				})
			}
			close(start)
			wg.Wait()
			through := 0
			for _, r := range results {
				if r.State == pending {
					through++
				}
			}
			if through != 10 {
				t.Errorf("%d cases went through, want 10", through)
			}
			list, err := a.HeldCases(t.Context(), 0)
			if err != nil || len(list) != n-10 {
				t.Errorf("%d held (%v), want %d", len(list), err, n-10)
			}
		})
	}
}
