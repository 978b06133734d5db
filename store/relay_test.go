package store

import (
	"reflect"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
)

func TestStillDue(t *testing.T) {
	runStoreTests(t, []storeTest{
		{"what Due listed and what ended since are told apart by a second read", func(t *testing.T, s *Store) {
			pending := openCase(t, s, "pending@example.com")
			fannedOut := openCase(t, s, "fanned@example.com")
			running := openCase(t, s, "running@example.com")
			fanOut(t, s, running, map[string]offboard.Outcome{"slack": offboard.Pending, "okta": offboard.Pending})
			cases, refs, err := s.Due(t.Context(), 0)
			if err != nil || len(cases) != 2 || len(refs) != 2 {
				t.Fatalf("Due = %+v, %+v, %v", cases, refs, err)
			}
			// Work ends after Due's read: a case fanned out, an entry done.
			fanOut(t, s, fannedOut, map[string]offboard.Outcome{"slack": offboard.Pending})
			outcome(t, s, running, "okta", offboard.Verified, "")
			refs = append(refs, EntryRef{CaseID: running, Connector: "zoom"}, EntryRef{CaseID: "no-such-case", Connector: "slack"})

			gotCases, gotRefs, err := s.StillDue(t.Context(), cases, refs, time.Now().Add(time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if len(gotCases) != 1 || gotCases[0].CaseID != pending || gotCases[0].EffectiveAt.IsZero() {
				t.Errorf("cases still due = %+v, want only %s", gotCases, pending)
			}
			if want := []EntryRef{{CaseID: running, Connector: "slack"}}; !reflect.DeepEqual(gotRefs, want) {
				t.Errorf("entries still due = %+v, want %+v", gotRefs, want)
			}
		}},
		{"rows written after settled are left to their writer", func(t *testing.T, s *Store) {
			before := time.Now().Add(-time.Second)
			pending := openCase(t, s, "pending@example.com")
			running := openCase(t, s, "running@example.com")
			fanOut(t, s, running, map[string]offboard.Outcome{"slack": offboard.Pending})
			cases, refs, err := s.StillDue(t.Context(), []DueCase{{CaseID: pending}}, []EntryRef{{CaseID: running, Connector: "slack"}}, before)
			if err != nil || len(cases) != 0 || len(refs) != 0 {
				t.Errorf("StillDue = %+v, %+v, %v; want nothing", cases, refs, err)
			}
		}},
	})
}
