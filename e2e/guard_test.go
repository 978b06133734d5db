package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/intake"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/store"
)

// TestHRExportGoneWrong: an HR system sends ten terminations at once (an
// export gone wrong) with a security offboarding among them. With
// policy.hold_after.cases 3, three proceed, seven wait for approval and
// no vendor hears of those seven; the security case is not held. Approving
// all lets the rest complete.
func TestHRExportGoneWrong(t *testing.T) {
	dialects(t, func(t *testing.T, dbURL func(t *testing.T) string) {
		e := start(t, dbURL(t), envOptions{guard: &store.Guard{Cases: 3, Within: 10 * time.Minute, Bypass: []offboard.Reason{offboard.ReasonSecurity}}})
		var ids []string
		people := map[string]string{} // case → email
		for i := range 10 {
			email := fmt.Sprintf("staff%d@example.com", i)
			e.Sim.AddUser(email, 2)
			if i == 5 {
				e.Sim.AddUser("intruder@example.com", 2)
				code, out := e.post("hr", []byte(`{"id":"sec-1","email":"intruder@example.com","reason":"security"}`), "")
				if code != http.StatusAccepted || out["state"] != string(offboard.StatePending) {
					t.Fatalf("security delivery: %d %v, want 202 and pending", code, out)
				}
				if c := e.waitClosed(out["case_id"].(string)); c.State != offboard.StateCompleted {
					t.Errorf("security case %s, want completed", c.State)
				}
			}
			code, out := e.post("hr", body(fmt.Sprintf("hr-%d", i), email), "")
			if code != http.StatusAccepted {
				t.Fatalf("delivery %d: %d %v", i, code, out)
			}
			want := offboard.StatePending
			if i >= 3 {
				want = offboard.StateAwaitingApproval
			}
			if out["state"] != string(want) {
				t.Fatalf("delivery %d state %v, want %s", i, out["state"], want)
			}
			id := out["case_id"].(string)
			ids = append(ids, id)
			people[id] = email
		}
		for _, id := range ids[:3] {
			if c := e.waitClosed(id); c.State != offboard.StateCompleted {
				t.Errorf("case %s (%s) is %s, want completed", id, people[id], c.State)
			}
		}
		time.Sleep(300 * time.Millisecond) // time for any wrong fan-out to show
		for i, id := range ids {
			c, err := e.Store.GetCase(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			n := e.Sim.Sessions("okta", people[id])
			if i < 3 && n != 0 || i >= 3 && (c.State != offboard.StateAwaitingApproval || len(c.Entries) != 0 || n != 2) {
				t.Errorf("%s: case %s with %d entries, %d okta sessions left", people[id], c.State, len(c.Entries), n)
			}
		}
		called := map[string]bool{}
		for _, call := range e.Sim.Calls() {
			for _, email := range people {
				if call.User == email || strings.Contains(call.Path+"?"+call.Query, email) {
					called[email] = true
				}
			}
		}
		if len(called) != 3 {
			t.Errorf("the vendor heard of %d people (%v), want the 3 not held", len(called), called)
		}
		if !strings.Contains(e.Log.String(), "case held") {
			t.Error("no warning that cases are held")
		}

		code, out := e.admin(http.MethodGet, "/v1/approvals", adminToken, nil)
		if held, _ := out["cases"].([]any); code != http.StatusOK || len(held) != 7 {
			t.Fatalf("GET /v1/approvals: %d, %d cases, want 7", code, len(held))
		}
		code, out = e.admin(http.MethodPost, "/v1/approvals", adminToken, []byte(`{"all": true, "who": "it-oncall", "note": "HR confirmed the list"}`))
		if released, _ := out["released"].([]any); code != http.StatusOK || len(released) != 7 {
			t.Fatalf("approve all: %d %v", code, out)
		}
		for _, id := range ids[3:] {
			c := e.waitClosed(id)
			if c.State != offboard.StateCompleted || e.Sim.Sessions("okta", people[id]) != 0 {
				t.Errorf("%s after approval: %s, %d sessions", people[id], c.State, e.Sim.Sessions("okta", people[id]))
			}
			approved := false
			for _, a := range c.Audit {
				approved = approved || a.Action == "case.approved" && a.Actor == "it-oncall"
			}
			if !approved {
				t.Errorf("%s: no case.approved by it-oncall in %v", people[id], c.Audit)
			}
		}
	})
}

// TestPolicyReasonsAndProtected: policy.reasons runs only the listed
// connectors for a reason and shows the others skipped; a protected
// account's event is answered 422, recorded, and nothing is revoked.
func TestPolicyReasonsAndProtected(t *testing.T) {
	dialects(t, func(t *testing.T, dbURL func(t *testing.T) string) {
		e := start(t, dbURL(t), envOptions{
			allConnectors: true,
			reasons:       map[offboard.Reason][]string{offboard.ReasonSuspended: {"okta"}},
			policy:        intake.Policy{Protected: map[string]bool{"bob@example.com": true}},
		})
		code, out := e.post("hr", []byte(`{"id":"s-1","email":"alice@example.com","reason":"suspended"}`), "")
		if code != http.StatusAccepted {
			t.Fatalf("suspended delivery: %d %v", code, out)
		}
		c := e.waitClosed(out["case_id"].(string))
		if c.State != offboard.StateCompleted || len(c.Entries) < 2 {
			t.Fatalf("case %s with %d entries", c.State, len(c.Entries))
		}
		for _, en := range c.Entries {
			switch {
			case en.Connector == "okta" && en.Outcome != offboard.Acknowledged && en.Outcome != offboard.Verified:
				t.Errorf("okta: %s, want it revoked", en.Outcome)
			case en.Connector != "okta" && (en.Outcome != offboard.Skipped || en.Detail != "policy: not run for reason suspended"):
				t.Errorf("%s: %s %q, want skipped by policy", en.Connector, en.Outcome, en.Detail)
			}
		}
		if n := e.Sim.Sessions("okta", "alice@example.com"); n != 0 {
			t.Errorf("alice has %d okta sessions left", n)
		}

		code, out = e.post("hr", body("p-1", "Bob@Example.com"), "")
		if code != http.StatusUnprocessableEntity {
			t.Fatalf("protected delivery: %d %v, want 422", code, out)
		}
		cases, _ := out["cases"].([]any)
		if len(cases) != 1 {
			t.Fatalf("422 body %v", out)
		}
		id := cases[0].(map[string]any)["case_id"].(string)
		time.Sleep(300 * time.Millisecond)
		pc, err := e.Store.GetCase(t.Context(), id)
		if err != nil || pc.State != offboard.StateDismissed || len(pc.Entries) != 0 || len(pc.Events) != 1 || pc.Audit[0].Action != "case.protected" {
			t.Errorf("protected case = %+v, %v", pc, err)
		}
		if n := e.Sim.Sessions("okta", "bob@example.com"); n != 1 {
			t.Errorf("bob has %d okta sessions, want his 1 untouched", n)
		}
	})
}

// TestProtectedIDOnlySubjectIsDismissed: an id-only event (Entra,
// BambooHR, HiBob) cannot be checked when it arrives; the worker resolves
// it and dismisses the case before fan-out when the person is protected.
func TestProtectedIDOnlySubjectIsDismissed(t *testing.T) {
	dialects(t, func(t *testing.T, dbURL func(*testing.T) string) {
		src := newIDSource(t)
		e := start(t, dbURL(t), envOptions{extra: []sources.Source{src},
			policy: intake.Policy{Protected: map[string]bool{"alice@example.com": true}}})
		code, res := e.post("people", []byte(`{"id":"p1","employee":"100"}`), "")
		if code != http.StatusAccepted {
			t.Fatalf("%d %v", code, res)
		}
		c := e.waitClosed(res["case_id"].(string))
		if c.State != offboard.StateDismissed || len(c.Entries) != 0 || c.Email != "alice@example.com" {
			t.Fatalf("case: %+v", c)
		}
		if last := c.Audit[len(c.Audit)-1]; last.Action != "case.closed" || !strings.Contains(last.Detail, "policy.protected") {
			t.Errorf("last audit %+v, want closed naming policy.protected", last)
		}
		if n := e.Sim.Sessions("okta", "alice@example.com"); n != 2 {
			t.Errorf("alice has %d okta sessions, want her 2 untouched", n)
		}
	})
}
