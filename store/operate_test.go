package store

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
)

// failedCase opens a case for email whose okta entry failed (after two
// attempts) and whose other entries ended as given.
func failedCase(t *testing.T, s *Store, email string, others map[string]offboard.Outcome) string {
	t.Helper()
	id := openCase(t, s, email)
	entries := map[string]offboard.Outcome{"okta": offboard.Pending}
	for k := range others {
		entries[k] = offboard.Pending
	}
	fanOut(t, s, id, entries)
	for range 2 {
		if _, _, err := s.BeginAttempt(t.Context(), id, "okta"); err != nil {
			t.Fatal(err)
		}
	}
	outcome(t, s, id, "okta", offboard.Failed, "okta: 401 unauthorized: check the token")
	for k, o := range others {
		outcome(t, s, id, k, o, "")
	}
	return id
}

// unchanged fails the test if the case differs from before.
func unchanged(t *testing.T, s *Store, before *Case) {
	t.Helper()
	if after := getCase(t, s, before.ID); !reflect.DeepEqual(before, after) {
		t.Errorf("case changed:\nbefore %+v\nafter  %+v", before, after)
	}
}

func TestRetryEntry(t *testing.T) {
	runStoreTests(t, []storeTest{
		{"retrying the failed entry of a needs_attention case reopens both, and a success completes the case", func(t *testing.T, s *Store) {
			id := failedCase(t, s, "ann@example.com", map[string]offboard.Outcome{"slack": offboard.Verified})
			if c := getCase(t, s, id); c.State != offboard.StateNeedsAttention || c.ClosedAt == nil {
				t.Fatalf("before: %s closed %v, want needs_attention and closed", c.State, c.ClosedAt)
			}
			e, c, err := s.RetryEntry(t.Context(), id, "okta", " Dana Admin ", "token rotated")
			if err != nil {
				t.Fatalf("RetryEntry: %v", err)
			}
			if e.Outcome != offboard.Pending || e.Attempts != 2 || e.FinishedAt != nil || !strings.Contains(e.LastError, "401") {
				t.Errorf("entry = %+v, want pending, 2 attempts kept, not finished, the last error kept", e)
			}
			if c.State != offboard.StateInProgress || c.ClosedAt != nil {
				t.Errorf("case = %s closed %v, want in_progress, open", c.State, c.ClosedAt)
			}
			got := getCase(t, s, id)
			if got.State != offboard.StateInProgress || got.ClosedAt != nil {
				t.Errorf("stored case = %s closed %v", got.State, got.ClosedAt)
			}
			n := len(got.Audit)
			reopened, retried := got.Audit[n-2], got.Audit[n-1]
			if reopened.Action != "case.reopened" || reopened.Actor != "admin" || reopened.Detail != `{"from":"needs_attention","state":"in_progress"}` {
				t.Errorf("audit = %+v, want case.reopened from needs_attention", reopened)
			}
			var d struct {
				Who, Note string
				Attempts  int
				LastError string `json:"last_error"`
			}
			if err := json.Unmarshal([]byte(retried.Detail), &d); err != nil {
				t.Fatalf("retried detail %q: %v", retried.Detail, err)
			}
			if retried.Action != "entry.retried" || retried.Connector != "okta" || d.Who != "Dana Admin" ||
				d.Note != "token rotated" || d.Attempts != 2 || !strings.Contains(d.LastError, "401 unauthorized") {
				t.Errorf("audit = %+v (%+v), want entry.retried of okta with who, note, attempts and the last error", retried, d)
			}
			// The relay finds the work again.
			if _, refs, err := s.Due(t.Context(), 0); err != nil || len(refs) != 1 || refs[0].Connector != "okta" {
				t.Errorf("Due = %v, %v, want the okta entry", refs, err)
			}
			if e, _, err := s.BeginAttempt(t.Context(), id, "okta"); err != nil || e.Attempts != 3 {
				t.Fatalf("BeginAttempt = %+v, %v, want the third attempt", e, err)
			}
			outcome(t, s, id, "okta", offboard.Verified, "sessions ended")
			if c := getCase(t, s, id); c.State != offboard.StateCompleted || c.ClosedAt == nil {
				t.Errorf("after the retry succeeded: %s closed %v, want completed", c.State, c.ClosedAt)
			}
			verified(t, s)
		}},
		{"retrying an entry of a case still in progress leaves the case as it is", func(t *testing.T, s *Store) {
			id := failedCase(t, s, "ann@example.com", nil)
			exec(t, s, "INSERT INTO entries (case_id, connector, outcome, created_at, updated_at) VALUES (?, 'slack', 'pending', 0, 0)", id)
			exec(t, s, "UPDATE cases SET state = 'in_progress', closed_at = NULL WHERE id = ?", id)
			_, c, err := s.RetryEntry(t.Context(), id, "okta", "Dana", "")
			if err != nil || c.State != offboard.StateInProgress {
				t.Fatalf("RetryEntry = %v, %v, want in_progress", c, err)
			}
			if got := actions(getCase(t, s, id)); got[len(got)-1] != "entry.retried" || got[len(got)-2] == "case.reopened" {
				t.Errorf("audit = %v, want entry.retried without case.reopened", got)
			}
		}},
		{"an entry that is not failed is refused, naming its outcome", func(t *testing.T, s *Store) {
			id := failedCase(t, s, "ann@example.com", map[string]offboard.Outcome{"slack": offboard.Verified})
			before := getCase(t, s, id)
			_, _, err := s.RetryEntry(t.Context(), id, "slack", "Dana", "")
			var nr *NotRetryableError
			if !errors.As(err, &nr) || nr.Outcome != offboard.Verified || !strings.Contains(err.Error(), "entry is verified, not failed") {
				t.Fatalf("RetryEntry = %v, want a NotRetryableError naming verified", err)
			}
			unchanged(t, s, before)
		}},
		{"an unknown case or connector is not found, and who is required", func(t *testing.T, s *Store) {
			id := failedCase(t, s, "ann@example.com", nil)
			before := getCase(t, s, id)
			if _, _, err := s.RetryEntry(t.Context(), "nope", "okta", "Dana", ""); !errors.Is(err, ErrNotFound) {
				t.Errorf("unknown case: %v, want ErrNotFound", err)
			}
			if _, _, err := s.RetryEntry(t.Context(), id, "zoom", "Dana", ""); !errors.Is(err, ErrNotFound) {
				t.Errorf("unknown connector: %v, want ErrNotFound", err)
			}
			if _, _, err := s.RetryEntry(t.Context(), id, "okta", "  ", ""); err == nil || !strings.Contains(err.Error(), "who is required") {
				t.Errorf("no who: %v, want who is required", err)
			}
			unchanged(t, s, before)
		}},
		{"a case whose subject has another case open is not reopened, naming that case", func(t *testing.T, s *Store) {
			id := failedCase(t, s, "ann@example.com", nil)
			other := ingest(t, s, event("later", "ann@example.com"))
			if !other.NewCase {
				t.Fatalf("the later event attached to %s", other.CaseID)
			}
			before := getCase(t, s, id)
			_, _, err := s.RetryEntry(t.Context(), id, "okta", "Dana", "")
			var oc *OpenCaseError
			if !errors.As(err, &oc) || oc.CaseID != other.CaseID || !strings.Contains(err.Error(), other.CaseID) {
				t.Fatalf("RetryEntry = %v, want an OpenCaseError naming %s", err, other.CaseID)
			}
			unchanged(t, s, before)
		}},
		{"an entry of a cancelled case is not retried", func(t *testing.T, s *Store) {
			id := failedCase(t, s, "ann@example.com", nil)
			exec(t, s, "UPDATE cases SET state = 'cancelled' WHERE id = ?", id)
			_, _, err := s.RetryEntry(t.Context(), id, "okta", "Dana", "")
			var se *CaseStateError
			if !errors.As(err, &se) || se.State != offboard.StateCancelled {
				t.Fatalf("RetryEntry = %v, want a CaseStateError naming cancelled", err)
			}
		}},
	})
}

func TestNobodyFound(t *testing.T) {
	runStoreTests(t, []storeTest{
		{"a case whose every entry is not_found needs attention, saying so", func(t *testing.T, s *Store) {
			id := openCase(t, s, "amn@example.com")
			fanOut(t, s, id, map[string]offboard.Outcome{"okta": offboard.Pending, "slack": offboard.Pending})
			outcome(t, s, id, "okta", offboard.NotFound, "")
			outcome(t, s, id, "slack", offboard.NotFound, "")
			c := getCase(t, s, id)
			if c.State != offboard.StateNeedsAttention || c.ClosedReason != NobodyFound || c.ClosedAt == nil {
				t.Errorf("case = %s (%q), want needs_attention: %s", c.State, c.ClosedReason, NobodyFound)
			}
			if last := c.Audit[len(c.Audit)-1]; last.Action != "case.closed" ||
				last.Detail != `{"reason":"no connected system knows this address","state":"needs_attention"}` {
				t.Errorf("last audit = %+v", last)
			}
			if l, err := s.ListCases(t.Context(), CaseFilter{}); err != nil || l[0].ClosedReason != NobodyFound {
				t.Errorf("ListCases = %+v, %v, want the reason listed", l, err)
			}
			verified(t, s)
		}},
		{"one system that knows the address completes the case", func(t *testing.T, s *Store) {
			id := openCase(t, s, "ann@example.com")
			fanOut(t, s, id, map[string]offboard.Outcome{"okta": offboard.Pending, "slack": offboard.Pending})
			outcome(t, s, id, "okta", offboard.NotFound, "")
			outcome(t, s, id, "slack", offboard.Acknowledged, "")
			if c := getCase(t, s, id); c.State != offboard.StateCompleted || c.ClosedReason != "" {
				t.Errorf("case = %s (%q), want completed without a reason", c.State, c.ClosedReason)
			}
		}},
		{"a dry run with every entry skipped completes", func(t *testing.T, s *Store) {
			id := openCase(t, s, "ann@example.com")
			c := fanOut(t, s, id, map[string]offboard.Outcome{"okta": offboard.Skipped})
			if c.State != offboard.StateCompleted || c.ClosedReason != "" {
				t.Errorf("case = %s (%q), want completed", c.State, c.ClosedReason)
			}
		}},
	})
}

func TestCancelCase(t *testing.T) {
	later := func(id, email string, in time.Duration) Event {
		ev := event(id, email)
		ev.EffectiveAt = time.Now().Add(in)
		return ev
	}
	runStoreTests(t, []storeTest{
		{"a scheduled case is cancelled, closed with who and why, and a new event opens a new case", func(t *testing.T, s *Store) {
			res := ingest(t, s, later("e1", "ann@example.com", 48*time.Hour))
			// An earlier event brings the case forward: its first task is
			// still scheduled for the first effective time.
			res2 := ingest(t, s, later("e2", "ann@example.com", 24*time.Hour))
			if res.State != offboard.StateScheduled || res2.CaseID != res.CaseID {
				t.Fatalf("ingest = %+v, %+v", res, res2)
			}
			c, times, err := s.CancelCase(t.Context(), res.CaseID, " Dana Admin ", "rehired")
			if err != nil {
				t.Fatalf("CancelCase: %v", err)
			}
			if c.State != offboard.StateCancelled || c.ClosedAt == nil || c.ClosedReason != "cancelled by Dana Admin: rehired" {
				t.Errorf("case = %s closed %v (%q)", c.State, c.ClosedAt, c.ClosedReason)
			}
			if len(times) != 2 || !times[0].Equal(res2.EffectiveAt) || !times[1].Equal(res.EffectiveAt) {
				t.Errorf("times = %v, want the case's %v then the first event's %v", times, res2.EffectiveAt, res.EffectiveAt)
			}
			got := getCase(t, s, res.CaseID)
			if got.State != offboard.StateCancelled || got.ClosedReason != c.ClosedReason {
				t.Errorf("stored = %s (%q)", got.State, got.ClosedReason)
			}
			last := got.Audit[len(got.Audit)-1]
			if last.Action != "case.cancelled" || last.Actor != "admin" || last.Detail != `{"from":"scheduled","note":"rehired","who":"Dana Admin"}` {
				t.Errorf("audit = %+v", last)
			}
			if cases, _, err := s.Due(t.Context(), 0); err != nil || len(cases) != 0 {
				t.Errorf("Due = %v, %v, want nothing for the relay", cases, err)
			}
			// The worker's fan-out, should its task run anyway, changes nothing.
			if fc, err := s.FanOut(t.Context(), res.CaseID, map[string]offboard.Outcome{"okta": offboard.Pending}, "worker"); err != nil ||
				fc.State != offboard.StateCancelled || len(fc.Entries) != 0 {
				t.Errorf("FanOut = %+v, %v, want the cancelled case unchanged", fc, err)
			}
			if again := ingest(t, s, event("e3", "ann@example.com")); !again.NewCase || again.CaseID == res.CaseID {
				t.Errorf("a new event after the cancellation = %+v, want a new case", again)
			}
			verified(t, s)
		}},
		{"a pending case is cancelled, and its pending entries with it", func(t *testing.T, s *Store) {
			id := openCase(t, s, "ann@example.com")
			exec(t, s, "INSERT INTO entries (case_id, connector, outcome, created_at, updated_at) VALUES (?, 'slack', 'pending', 0, 0)", id)
			c, times, err := s.CancelCase(t.Context(), id, "Dana", "")
			if err != nil || c.State != offboard.StateCancelled || c.ClosedReason != "cancelled by Dana" || len(times) != 1 {
				t.Fatalf("CancelCase = %+v, %v, %v", c, times, err)
			}
			if e := getCase(t, s, id).Entries; len(e) != 1 || e[0].Outcome != offboard.Cancelled || e[0].FinishedAt == nil {
				t.Errorf("entries = %+v, want slack cancelled", e)
			}
		}},
		{"a case whose revocation started, or that is closed, is refused, naming its state", func(t *testing.T, s *Store) {
			id := openCase(t, s, "ann@example.com")
			fanOut(t, s, id, map[string]offboard.Outcome{"okta": offboard.Pending})
			for _, want := range []offboard.State{offboard.StateInProgress, offboard.StateCompleted} {
				if want == offboard.StateCompleted {
					outcome(t, s, id, "okta", offboard.Verified, "")
				}
				before := getCase(t, s, id)
				_, _, err := s.CancelCase(t.Context(), id, "Dana", "")
				var se *CaseStateError
				if !errors.As(err, &se) || se.State != want || !strings.Contains(err.Error(), "case is "+string(want)) {
					t.Errorf("CancelCase = %v, want a CaseStateError naming %s", err, want)
				}
				unchanged(t, s, before)
			}
		}},
		{"an unknown case is not found, and who is required", func(t *testing.T, s *Store) {
			if _, _, err := s.CancelCase(t.Context(), "nope", "Dana", ""); !errors.Is(err, ErrNotFound) {
				t.Errorf("unknown case: %v, want ErrNotFound", err)
			}
			id := openCase(t, s, "ann@example.com")
			before := getCase(t, s, id)
			if _, _, err := s.CancelCase(t.Context(), id, "", "x"); err == nil || !strings.Contains(err.Error(), "who is required") {
				t.Errorf("no who: %v", err)
			}
			unchanged(t, s, before)
		}},
	})
}
