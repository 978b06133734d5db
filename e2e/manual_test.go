package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/store"
)

const (
	deactivateSteps = "Lucid admin panel → Users → select the user → Deactivate"
	logoutSteps     = "Lucid admin panel → Users → select the user → Log out user"
)

// manualSteps is GET /v1/manual's list.
func (e *env) manualSteps() []map[string]any {
	e.t.Helper()
	code, res := e.admin(http.MethodGet, "/v1/manual", adminToken, nil)
	if code != http.StatusOK {
		e.t.Fatalf("GET /v1/manual: %d %v", code, res)
	}
	raw, _ := res["entries"].([]any)
	out := make([]map[string]any, len(raw))
	for i, r := range raw {
		out[i], _ = r.(map[string]any)
	}
	return out
}

func (e *env) attest(id, connector, who string) (int, map[string]any) {
	e.t.Helper()
	b, _ := json.Marshal(map[string]string{"who": who, "note": "done in the admin panel"})
	return e.admin(http.MethodPost, "/v1/cases/"+id+"/entries/"+connector+"/attest", adminToken, b)
}

// TestManualStepsWaitForAPersonAndAreAttested: a leaver's case with two
// manual steps for a system without a session API — deactivate, then log
// out (after) — beside okta. The case waits in needs_attention; the logout
// step waits for the deactivation; each is attested through the admin API
// in turn, and the case completes with who and when in its audit and the
// chain verified.
func TestManualStepsWaitForAPersonAndAreAttested(t *testing.T) {
	dialects(t, func(t *testing.T, dbURL func(*testing.T) string) {
		e := start(t, dbURL(t), envOptions{extraConnectors: []connectors.Spec{
			{Name: "lucid-logout", Type: "manual", Settings: map[string]any{"instructions": logoutSteps, "after": "lucid"}},
			{Name: "lucid", Type: "manual", Settings: map[string]any{"instructions": deactivateSteps}},
		}})
		code, res := e.post("hr", body("evt-manual", "alice@example.com"), "")
		if code != http.StatusAccepted {
			t.Fatalf("want 202, got %d %v", code, res)
		}
		id, _ := res["case_id"].(string)
		c := e.waitClosed(id)
		got := map[string]store.Entry{}
		for _, en := range c.Entries {
			got[en.Connector] = en
		}
		if c.State != offboard.StateNeedsAttention || got["okta"].Outcome != offboard.Acknowledged ||
			got["lucid"].Outcome != offboard.ManualRequired || got["lucid"].Detail != deactivateSteps ||
			got["lucid-logout"].Outcome != offboard.ManualRequired || got["lucid-logout"].Detail != logoutSteps {
			t.Fatalf("case before a person acts: %s %+v", c.State, c.Entries)
		}

		steps := e.manualSteps()
		if len(steps) != 2 {
			t.Fatalf("GET /v1/manual = %v, want the two lucid steps", steps)
		}
		byName := map[string]map[string]any{}
		for _, s := range steps {
			if s["case_id"] != id || s["email"] != "alice@example.com" {
				t.Errorf("step %v is not alice's case", s)
			}
			byName[s["connector"].(string)] = s
		}
		if s := byName["lucid"]; s["instructions"] != deactivateSteps || s["waiting_for"] != nil {
			t.Errorf("the deactivation = %v, want ready with its instructions", s)
		}
		if s := byName["lucid-logout"]; s["waiting_for"] != "lucid" || s["instructions"] != nil {
			t.Errorf("the logout before the deactivation = %v, want waiting_for lucid and no instructions", s)
		}
		if code, res := e.attest(id, "lucid-logout", "Dana"); code != http.StatusConflict || !strings.Contains(res["error"].(string), "waits for lucid") {
			t.Fatalf("attesting the logout first: %d %v, want 409", code, res)
		}
		if code, res := e.attest(id, "okta", "Dana"); code != http.StatusConflict || res["error"] != "entry is acknowledged, not manual_required" {
			t.Fatalf("attesting okta: %d %v, want 409 naming acknowledged", code, res)
		}

		before := time.Now().UTC().Add(-time.Second)
		if code, res := e.attest(id, "lucid", "Dana Admin"); code != http.StatusOK || res["case_state"] != string(offboard.StateNeedsAttention) {
			t.Fatalf("attesting the deactivation: %d %v, want 200 and the case still needs_attention", code, res)
		}
		steps = e.manualSteps()
		if len(steps) != 1 || steps[0]["connector"] != "lucid-logout" || steps[0]["instructions"] != logoutSteps || steps[0]["waiting_for"] != nil {
			t.Fatalf("GET /v1/manual after the deactivation = %v, want the logout, ready", steps)
		}
		code, res = e.attest(id, "lucid-logout", "Dana Admin")
		if code != http.StatusOK || res["case_state"] != string(offboard.StateCompleted) {
			t.Fatalf("attesting the logout: %d %v, want 200 and the case completed", code, res)
		}
		if steps := e.manualSteps(); len(steps) != 0 {
			t.Errorf("GET /v1/manual after both = %v, want none", steps)
		}

		c, err := e.Store.GetCase(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if c.State != offboard.StateCompleted || c.ClosedAt == nil || c.ClosedAt.Before(before) {
			t.Fatalf("case: %s closed %v, want completed now", c.State, c.ClosedAt)
		}
		var attested []string
		for _, a := range c.Audit {
			if a.Action != "entry.attested" {
				continue
			}
			var d struct {
				Who        string    `json:"who"`
				Note       string    `json:"note"`
				AttestedAt time.Time `json:"attested_at"`
			}
			if err := json.Unmarshal([]byte(a.Detail), &d); err != nil || d.Who != "Dana Admin" || d.Note != "done in the admin panel" || d.AttestedAt.Before(before) {
				t.Errorf("attestation %+v: %+v %v", a, d, err)
			}
			attested = append(attested, a.Connector)
		}
		if strings.Join(attested, ",") != "lucid,lucid-logout" {
			t.Errorf("attestations in the audit: %v", attested)
		}
		if last := c.Audit[len(c.Audit)-1]; last.Action != "case.closed" || last.Detail != `{"state":"completed"}` {
			t.Errorf("last audit row = %+v, want the case closed completed", last)
		}
		if code, res := e.admin(http.MethodGet, "/v1/audit/verify", adminToken, nil); code != http.StatusOK || res["verified"] != true {
			t.Fatalf("GET /v1/audit/verify: %d %v", code, res)
		}
	})
}
