package store

import (
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
)

// securityEvent is an event of reason security for email.
func securityEvent(id, email string) Event {
	ev := event(id, email)
	ev.Type, ev.Reason = "user.session.compromised", offboard.ReasonSecurity
	return ev
}

// TestSecurityCases: which cases are security cases (Case.Security, the
// queue of their tasks), and that the flag is set only before the fan-out
// and never cleared, so a case's tasks are always on one queue.
func TestSecurityCases(t *testing.T) {
	runStoreTests(t, []storeTest{
		{"a security event opens a security case; another reason does not", func(t *testing.T, s *Store) {
			sec := ingest(t, s, securityEvent("e1", "ann@example.com"))
			other := ingest(t, s, event("e2", "bob@example.com"))
			if !sec.Security || other.Security {
				t.Fatalf("results: security %v, other %v; want true, false", sec.Security, other.Security)
			}
			if c := getCase(t, s, sec.CaseID); !c.Security || c.Reason != offboard.ReasonSecurity {
				t.Errorf("security case = %+v", c)
			}
			if c := getCase(t, s, other.CaseID); c.Security {
				t.Errorf("other case = %+v", c)
			}
			due, _, err := s.Due(t.Context(), 0)
			if err != nil || len(due) != 2 {
				t.Fatalf("Due = %+v, %v", due, err)
			}
			for _, d := range due {
				if d.Security != (d.CaseID == sec.CaseID) {
					t.Errorf("due %+v: wrong Security", d)
				}
			}
			still, _, err := s.StillDue(t.Context(), due, nil, time.Now().Add(time.Minute))
			if err != nil || len(still) != 2 {
				t.Fatalf("StillDue = %+v, %v", still, err)
			}
			for _, d := range still {
				if d.Security != (d.CaseID == sec.CaseID) {
					t.Errorf("still due %+v: wrong Security", d)
				}
			}
		}},
		{"a security event brings a scheduled case forward and makes it a security case, its reason kept", func(t *testing.T, s *Store) {
			ev := event("e1", "ann@example.com")
			ev.Reason = offboard.ReasonTerminated
			ev.EffectiveAt = time.Now().Add(7 * 24 * time.Hour)
			first := ingest(t, s, ev)
			if first.Security || first.State != offboard.StateScheduled {
				t.Fatalf("first = %+v", first)
			}
			res := ingest(t, s, securityEvent("e2", "ann@example.com"))
			if res.CaseID != first.CaseID || !res.Security || res.State != offboard.StatePending ||
				!res.EffectiveAt.Before(first.EffectiveAt) {
				t.Fatalf("after the security event: %+v; want the same case, pending, brought forward, Security", res)
			}
			c := getCase(t, s, res.CaseID)
			if !c.Security || c.Reason != offboard.ReasonTerminated {
				t.Fatalf("case = %+v; want Security with reason terminated (disable_for reads the reason)", c)
			}
			// A later event of another reason does not clear it.
			if again := ingest(t, s, event("e3", "ann@example.com")); !again.Security {
				t.Fatalf("a later event cleared Security: %+v", again)
			}
			verify(t, s)
		}},
		{"a security event after the fan-out leaves the case's queue as it is", func(t *testing.T, s *Store) {
			first := ingest(t, s, event("e1", "ann@example.com"))
			if _, err := s.FanOut(t.Context(), first.CaseID, map[string]offboard.Outcome{"a": offboard.Pending}, "worker"); err != nil {
				t.Fatal(err)
			}
			res := ingest(t, s, securityEvent("e2", "ann@example.com"))
			if res.CaseID != first.CaseID || res.Security || getCase(t, s, res.CaseID).Security {
				t.Fatalf("after the security event: %+v; want the same case, not Security", res)
			}
			_, refs, err := s.Due(t.Context(), 0)
			if err != nil || len(refs) != 1 || refs[0].Security {
				t.Fatalf("Due entries = %+v, %v; want one, not Security", refs, err)
			}
		}},
		{"a security case's entries are due with Security", func(t *testing.T, s *Store) {
			res := ingest(t, s, securityEvent("e1", "ann@example.com"))
			c, err := s.FanOut(t.Context(), res.CaseID, map[string]offboard.Outcome{"a": offboard.Pending}, "worker")
			if err != nil || !c.Security {
				t.Fatalf("FanOut = %+v, %v; want the case with Security", c, err)
			}
			_, refs, err := s.Due(t.Context(), 0)
			if err != nil || len(refs) != 1 || !refs[0].Security {
				t.Fatalf("Due entries = %+v, %v; want one with Security", refs, err)
			}
		}},
		{"a held case a security event releases is a security case", func(t *testing.T, s *Store) {
			s.SetGuard(&Guard{Cases: 1, Within: 10 * time.Minute, Bypass: []offboard.Reason{offboard.ReasonSecurity}})
			ingest(t, s, event("e1", "ann@example.com"))
			held := ingest(t, s, event("e2", "bob@example.com"))
			if held.State != offboard.StateAwaitingApproval || held.Security {
				t.Fatalf("held = %+v", held)
			}
			res := ingest(t, s, securityEvent("e3", "bob@example.com"))
			if res.CaseID != held.CaseID || res.State != offboard.StatePending || !res.Security {
				t.Fatalf("after the security event: %+v; want released, Security", res)
			}
		}},
		{"an approval names each released case's Security", func(t *testing.T, s *Store) {
			s.SetGuard(&Guard{Cases: 1, Within: 10 * time.Minute})
			ingest(t, s, event("e1", "ann@example.com"))
			held := ingest(t, s, securityEvent("e2", "bob@example.com"))
			if held.State != offboard.StateAwaitingApproval || !held.Security {
				t.Fatalf("held = %+v", held)
			}
			out, err := s.ApproveCases(t.Context(), Approval{CaseIDs: []string{held.CaseID}, Who: "ops"})
			if err != nil || len(out.Released) != 1 || !out.Released[0].Security {
				t.Fatalf("ApproveCases = %+v, %v; want one released with Security", out, err)
			}
		}},
		{"an id-only case resolved to reason security is a security case", func(t *testing.T, s *Store) {
			a := ingest(t, s, idEvent("e1", "bob", "hibob", "42"))
			got, err := s.ResolveSubject(t.Context(), a.CaseID, Resolution{Email: "ann@example.com", Reason: offboard.ReasonSecurity}, "worker")
			if err != nil || !got.Security {
				t.Fatalf("ResolveSubject = %+v, %v; want Security", got, err)
			}
			sameAsStored(t, s, got)
		}},
		{"a security case merged into a pending one makes it a security case", func(t *testing.T, s *Store) {
			open := ingest(t, s, event("g1", "ann@example.com"))
			ev := idEvent("e1", "bob", "hibob", "42")
			ev.Reason = offboard.ReasonSecurity
			a := ingest(t, s, ev)
			if !a.Security {
				t.Fatalf("id-only security event: %+v", a)
			}
			got, err := s.ResolveSubject(t.Context(), a.CaseID, Resolution{Email: "ann@example.com"}, "worker")
			if err != nil || got.ID != open.CaseID || !got.Security {
				t.Fatalf("ResolveSubject = %+v, %v; want the open case, Security", got, err)
			}
			sameAsStored(t, s, got)
		}},
	})
}
