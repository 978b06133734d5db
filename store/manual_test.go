package store

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
)

const logoutSteps = "Lucid admin panel → Users → select the user → Log out user"

// manualCase opens a case for email with a manual step "lucid" (manual_required,
// its instructions the detail) beside the other entries, every one final as given.
func manualCase(t *testing.T, s *Store, email string, others map[string]offboard.Outcome) string {
	t.Helper()
	id := openCase(t, s, email)
	entries := map[string]offboard.Outcome{"lucid": offboard.Pending}
	for k := range others {
		entries[k] = offboard.Pending
	}
	fanOut(t, s, id, entries)
	outcome(t, s, id, "lucid", offboard.ManualRequired, logoutSteps)
	for k, o := range others {
		outcome(t, s, id, k, o, "")
	}
	return id
}

// attest attests id/connector or fails the test.
func attest(t *testing.T, s *Store, id, connector string) (Entry, *Case) {
	t.Helper()
	e, c, err := s.AttestEntry(t.Context(), id, connector, " Dana Admin ", "logged out in the admin panel")
	if err != nil {
		t.Fatalf("AttestEntry(%s): %v", connector, err)
	}
	return e, c
}

// verified fails the test unless the whole audit chain verifies.
func verified(t *testing.T, s *Store) {
	t.Helper()
	if _, err := s.VerifyAudit(t.Context()); err != nil {
		t.Fatalf("VerifyAudit: %v", err)
	}
}

func TestAttestEntry(t *testing.T) {
	runStoreTests(t, []storeTest{
		{"attesting the last manual step completes the case, with who, note and when in the audit", func(t *testing.T, s *Store) {
			id := manualCase(t, s, "ann@example.com", map[string]offboard.Outcome{"okta": offboard.Verified})
			if c := getCase(t, s, id); c.State != offboard.StateNeedsAttention {
				t.Fatalf("before the attestation: state %s, want needs_attention", c.State)
			}
			before := time.Now().UTC().Add(-time.Second)
			e, c := attest(t, s, id, "lucid")
			if e.Outcome != offboard.Attested || e.Detail != logoutSteps || e.FinishedAt == nil || e.FinishedAt.Before(before) {
				t.Errorf("entry = %+v, want attested, the instructions kept, finished now", e)
			}
			if c.State != offboard.StateCompleted || c.ClosedAt == nil || !c.ClosedAt.Equal(*e.FinishedAt) {
				t.Errorf("case = %s closed %v, want completed, closed at the attestation (%v)", c.State, c.ClosedAt, e.FinishedAt)
			}
			got := getCase(t, s, id)
			if got.State != offboard.StateCompleted || got.ClosedAt == nil || !got.ClosedAt.Equal(*c.ClosedAt) {
				t.Errorf("stored case = %s closed %v", got.State, got.ClosedAt)
			}
			n := len(got.Audit)
			att, closed := got.Audit[n-2], got.Audit[n-1]
			if att.Action != "entry.attested" || att.Connector != "lucid" || att.Actor != "admin" {
				t.Errorf("audit = %+v, want entry.attested of lucid by admin", att)
			}
			var d struct{ Who, Note, Attested_at string }
			if err := json.Unmarshal([]byte(att.Detail), &d); err != nil {
				t.Fatalf("attested detail %q: %v", att.Detail, err)
			}
			at, err := time.Parse(time.RFC3339Nano, d.Attested_at)
			if d.Who != "Dana Admin" || d.Note != "logged out in the admin panel" || err != nil || !at.Equal(*e.FinishedAt) {
				t.Errorf("attested detail = %+v (%v), want who, note and the time of the attestation", d, err)
			}
			if closed.Action != "case.closed" || closed.Actor != "admin" || closed.Detail != `{"state":"completed"}` {
				t.Errorf("last audit = %+v, want case.closed completed by admin", closed)
			}
			verified(t, s)
		}},
		{"a case with another entry failed stays needs_attention", func(t *testing.T, s *Store) {
			id := manualCase(t, s, "ann@example.com", map[string]offboard.Outcome{"okta": offboard.Failed})
			closedBefore := getCase(t, s, id).ClosedAt
			_, c := attest(t, s, id, "lucid")
			if c.State != offboard.StateNeedsAttention || c.ClosedAt == nil || !c.ClosedAt.Equal(*closedBefore) {
				t.Errorf("case = %s closed %v, want needs_attention, closed as before (%v)", c.State, c.ClosedAt, closedBefore)
			}
			got := getCase(t, s, id)
			if last := got.Audit[len(got.Audit)-1]; last.Action != "entry.attested" {
				t.Errorf("last audit = %+v, want the attestation and no new case.closed", last)
			}
			if outcomes(got)["lucid"] != offboard.Attested {
				t.Errorf("entries = %v", outcomes(got))
			}
			verified(t, s)
		}},
		{"a case with another manual step open stays needs_attention until that one is attested", func(t *testing.T, s *Store) {
			id := manualCase(t, s, "ann@example.com", nil)
			fanOut(t, s, id, nil) // closed case: nothing changes
			exec(t, s, "INSERT INTO entries (case_id, connector, outcome, created_at, updated_at, detail) VALUES (?, 'box', ?, 1, 1, 'x')", id, offboard.ManualRequired)
			exec(t, s, "UPDATE cases SET state = ? WHERE id = ?", offboard.StateNeedsAttention, id)
			if _, c := attest(t, s, id, "lucid"); c.State != offboard.StateNeedsAttention {
				t.Errorf("after the first: %s, want needs_attention", c.State)
			}
			if _, c := attest(t, s, id, "box"); c.State != offboard.StateCompleted {
				t.Errorf("after the second: %s, want completed", c.State)
			}
		}},
		{"attesting while other entries are pending leaves the case in progress", func(t *testing.T, s *Store) {
			id := openCase(t, s, "ann@example.com")
			fanOut(t, s, id, map[string]offboard.Outcome{"lucid": offboard.Pending, "okta": offboard.Pending})
			outcome(t, s, id, "lucid", offboard.ManualRequired, logoutSteps)
			if _, c := attest(t, s, id, "lucid"); c.State != offboard.StateInProgress || c.ClosedAt != nil {
				t.Errorf("case = %s closed %v, want in_progress", c.State, c.ClosedAt)
			}
			if _, err := s.RecordOutcome(t.Context(), id, "okta", offboard.Verified, ""); err != nil {
				t.Fatal(err)
			}
			if c := getCase(t, s, id); c.State != offboard.StateCompleted {
				t.Errorf("after the last entry: %s, want completed", c.State)
			}
			verified(t, s)
		}},
		{"attesting twice is refused, naming attested, and writes nothing", func(t *testing.T, s *Store) {
			id := manualCase(t, s, "ann@example.com", nil)
			attest(t, s, id, "lucid")
			rows := count(t, s, "SELECT COUNT(*) FROM audit")
			_, _, err := s.AttestEntry(t.Context(), id, "lucid", "Eve", "")
			var na *NotAttestableError
			if !errors.As(err, &na) || na.Outcome != offboard.Attested || !strings.Contains(err.Error(), "entry is attested, not manual_required") {
				t.Fatalf("second attestation = %v, want a *NotAttestableError naming attested", err)
			}
			if n := count(t, s, "SELECT COUNT(*) FROM audit"); n != rows {
				t.Errorf("audit rows %d → %d", rows, n)
			}
		}},
		{"a verified entry cannot be attested", func(t *testing.T, s *Store) {
			id := manualCase(t, s, "ann@example.com", map[string]offboard.Outcome{"okta": offboard.Verified})
			_, _, err := s.AttestEntry(t.Context(), id, "okta", "Eve", "")
			if na, ok := errors.AsType[*NotAttestableError](err); !ok || na.Outcome != offboard.Verified || !strings.Contains(err.Error(), "entry is verified") {
				t.Fatalf("AttestEntry(okta) = %v, want a *NotAttestableError naming verified", err)
			}
			if got := getCase(t, s, id); outcomes(got)["okta"] != offboard.Verified || got.State != offboard.StateNeedsAttention {
				t.Errorf("case = %s %v", got.State, outcomes(got))
			}
		}},
		{"an unknown case or entry is not found, and who is required", func(t *testing.T, s *Store) {
			id := manualCase(t, s, "ann@example.com", nil)
			if _, _, err := s.AttestEntry(t.Context(), "nope", "lucid", "Eve", ""); !errors.Is(err, ErrNotFound) {
				t.Errorf("unknown case: %v, want ErrNotFound", err)
			}
			if _, _, err := s.AttestEntry(t.Context(), id, "zoom", "Eve", ""); !errors.Is(err, ErrNotFound) {
				t.Errorf("unknown entry: %v, want ErrNotFound", err)
			}
			if _, _, err := s.AttestEntry(t.Context(), id, "lucid", "  ", ""); err == nil || !strings.Contains(err.Error(), "who is required") {
				t.Errorf("blank who: %v", err)
			}
			if got := getCase(t, s, id); outcomes(got)["lucid"] != offboard.ManualRequired {
				t.Errorf("entries = %v", outcomes(got))
			}
		}},
	})
}

func TestManualEntries(t *testing.T) {
	runStoreTests(t, []storeTest{
		{"open manual steps are listed oldest first with their instructions and their case's outcomes", func(t *testing.T, s *Store) {
			if got, err := s.ManualEntries(t.Context(), 0); err != nil || got == nil || len(got) != 0 {
				t.Fatalf("ManualEntries of an empty store = %v, %v; want an empty list", got, err)
			}
			ann := manualCase(t, s, "ann@example.com", map[string]offboard.Outcome{"okta": offboard.Verified})
			bob := openCase(t, s, "bob@example.com")
			fanOut(t, s, bob, map[string]offboard.Outcome{"lucid": offboard.Pending, "scim": offboard.Pending})
			outcome(t, s, bob, "lucid", offboard.ManualRequired, logoutSteps)
			done := manualCase(t, s, "cy@example.com", nil)
			attest(t, s, done, "lucid")

			got, err := s.ManualEntries(t.Context(), 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got[0].CaseID != ann || got[1].CaseID != bob {
				t.Fatalf("ManualEntries = %+v, want ann's then bob's", got)
			}
			a, b := got[0], got[1]
			if a.Email != "ann@example.com" || a.Reason != offboard.ReasonDeactivated || a.Connector != "lucid" ||
				a.Instructions != logoutSteps || a.CaseState != offboard.StateNeedsAttention || a.CreatedAt.IsZero() || a.UpdatedAt.Before(a.CreatedAt) {
				t.Errorf("ann's = %+v", a)
			}
			if a.Outcomes["okta"] != offboard.Verified || a.Outcomes["lucid"] != offboard.ManualRequired || len(a.Outcomes) != 2 {
				t.Errorf("ann's outcomes = %v", a.Outcomes)
			}
			if b.CaseState != offboard.StateInProgress || b.Outcomes["scim"] != offboard.Pending {
				t.Errorf("bob's = %+v, want in_progress with scim pending", b)
			}
			if one, err := s.ManualEntries(t.Context(), 1); err != nil || len(one) != 1 || one[0].CaseID != ann {
				t.Errorf("ManualEntries(1) = %+v, %v", one, err)
			}
		}},
	})
}
