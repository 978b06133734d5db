package store

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
)

func idEvent(id, source, key, val string) Event {
	ev := event(id, "")
	ev.Source = source
	ev.Email = ""
	ev.SubjectIDs = map[string]string{key: val}
	return ev
}

func TestResolveSubject(t *testing.T) {
	runStoreTests(t, []storeTest{
		{"an id-only event opens a case keyed by its id", func(t *testing.T, s *Store) {
			a := ingest(t, s, idEvent("e1", "bob", "hibob", "42"))
			b := ingest(t, s, idEvent("e2", "bob", "hibob", "42"))
			c := ingest(t, s, idEvent("e3", "bob", "hibob", "43"))
			if !a.NewCase || b.NewCase || b.CaseID != a.CaseID || c.CaseID == a.CaseID {
				t.Fatalf("want e1 and e2 on one case, e3 on another: %+v %+v %+v", a, b, c)
			}
			if got := getCase(t, s, a.CaseID); got.Email != "" || got.SubjectIDs["hibob"] != "42" {
				t.Fatalf("case: %+v", got)
			}
		}},
		{"resolving takes the email and the effective time", func(t *testing.T, s *Store) {
			a := ingest(t, s, idEvent("e1", "bob", "hibob", "42"))
			later := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
			got, err := s.ResolveSubject(t.Context(), a.CaseID, Resolution{Email: "Ann@Example.com", EffectiveAt: later}, "worker")
			if err != nil || got.ID != a.CaseID {
				t.Fatalf("ResolveSubject = %+v, %v", got, err)
			}
			id := got.ID
			sameAsStored(t, s, got)
			c := getCase(t, s, id)
			if c.Email != "ann@example.com" || c.State != offboard.StateScheduled || !c.EffectiveAt.Equal(later) {
				t.Fatalf("case: %+v", c)
			}
			// A later email-bearing event for her attaches to the same case.
			if r := ingest(t, s, event("e9", "ann@example.com")); r.CaseID != id {
				t.Fatalf("an event for the resolved email opened another case: %+v", r)
			}
		}},
		{"resolving to an email with an open case merges into it", func(t *testing.T, s *Store) {
			open := ingest(t, s, event("g1", "ann@example.com"))
			a := ingest(t, s, idEvent("e1", "bob", "hibob", "42"))
			got, err := s.ResolveSubject(t.Context(), a.CaseID, Resolution{Email: "ann@example.com"}, "worker")
			if err != nil || got.ID != open.CaseID {
				t.Fatalf("ResolveSubject = %+v, %v; want %q", got, err, open.CaseID)
			}
			sameAsStored(t, s, got)
			if c := getCase(t, s, a.CaseID); c.State != offboard.StateMerged || c.ClosedAt == nil || len(c.Events) != 0 {
				t.Fatalf("merged case: %+v", c)
			}
			if c := getCase(t, s, open.CaseID); len(c.Events) != 2 {
				t.Fatalf("the events did not move: %+v", c.Events)
			}
			if _, err := s.VerifyAudit(t.Context()); err != nil {
				t.Fatal(err)
			}
		}},
		{"resolving a case that has its email returns it unchanged", func(t *testing.T, s *Store) {
			a := ingest(t, s, event("g1", "ann@example.com"))
			got, err := s.ResolveSubject(t.Context(), a.CaseID, Resolution{Email: "bob@example.com"}, "worker")
			if err != nil || got.ID != a.CaseID || got.Email != "ann@example.com" {
				t.Fatalf("ResolveSubject = %+v, %v", got, err)
			}
			sameAsStored(t, s, got)
		}},
		{"the case and its first event are read together", func(t *testing.T, s *Store) {
			first := idEvent("e1", "bob", "hibob", "42")
			first.ReceivedAt = time.Now().Add(-time.Minute)
			a := ingest(t, s, first)
			ingest(t, s, idEvent("e2", "bob", "hibob", "42"))
			c, ev, err := s.CaseWithFirstEvent(t.Context(), a.CaseID)
			if err != nil {
				t.Fatal(err)
			}
			sameAsStored(t, s, c)
			want := getCase(t, s, a.CaseID).Events[0]
			if ev == nil || *ev != want || ev.EventID != "e1" || ev.Source != "bob" {
				t.Fatalf("first event = %+v, want %+v", ev, want)
			}
			if _, _, err := s.CaseWithFirstEvent(t.Context(), "nope"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("a missing case: %v, want ErrNotFound", err)
			}
			// Merged away, a case keeps no events: the case alone, no event.
			ingest(t, s, event("g1", "ann@example.com"))
			if _, err := s.ResolveSubject(t.Context(), a.CaseID, Resolution{Email: "ann@example.com"}, "worker"); err != nil {
				t.Fatal(err)
			}
			c, ev, err = s.CaseWithFirstEvent(t.Context(), a.CaseID)
			if err != nil || ev != nil || c.State != offboard.StateMerged {
				t.Fatalf("merged case: %+v, %+v, %v", c, ev, err)
			}
		}},
		{"closing dismisses an open case once", func(t *testing.T, s *Store) {
			a := ingest(t, s, idEvent("e1", "entra", "entra", "oid"))
			if err := s.CloseCase(t.Context(), a.CaseID, offboard.StateDismissed, "user still enabled", "worker"); err != nil {
				t.Fatal(err)
			}
			if err := s.CloseCase(t.Context(), a.CaseID, offboard.StateNeedsAttention, "again", "worker"); err != nil {
				t.Fatal(err)
			}
			c := getCase(t, s, a.CaseID)
			if acts := actions(c); c.State != offboard.StateDismissed || acts[len(acts)-1] != "case.closed" {
				t.Fatalf("case: %+v %v", c, acts)
			}
			if c.ClosedReason != "user still enabled" {
				t.Errorf("closed_reason = %q, want the first close's reason", c.ClosedReason)
			}
			if err := s.CloseCase(t.Context(), a.CaseID, offboard.StateCompleted, "", "worker"); err == nil {
				t.Fatal("closing as completed by hand must be refused")
			}
			// A new event for the subject opens a new case.
			if r := ingest(t, s, idEvent("e2", "entra", "entra", "oid")); !r.NewCase {
				t.Fatalf("want a new case after dismissal: %+v", r)
			}
		}},
		{"source state round-trips and is replaced", func(t *testing.T, s *Store) {
			if _, ok, err := s.SourceState(t.Context(), "entra", "subscription"); ok || err != nil {
				t.Fatalf("empty state: %v %v", ok, err)
			}
			for _, v := range []string{`{"id":"a"}`, `{"id":"b"}`} {
				if err := s.PutSourceState(t.Context(), "entra", "subscription", []byte(v)); err != nil {
					t.Fatal(err)
				}
			}
			v, ok, err := s.SourceState(t.Context(), "entra", "subscription")
			if err != nil || !ok || string(v) != `{"id":"b"}` {
				t.Fatalf("state = %q %v %v", v, ok, err)
			}
		}},
	})
}

// sameAsStored fails the test unless c is the case row as stored.
func sameAsStored(t *testing.T, s *Store, c *Case) {
	t.Helper()
	want, err := s.CaseRow(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("case = %+v\nstored %+v", c, want)
	}
}
