package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/store"
)

// The evidence of a completed case shows the worker's attempt (status 200,
// a duration) and audit rows every one of which, and the head exported
// with them, GET /v1/audit/verify confirms in the whole chain.
func TestEvidenceOfACompletedCaseVerifiesAgainstTheChain(t *testing.T) {
	dialects(t, func(t *testing.T, dbURL func(t *testing.T) string) {
		e := start(t, dbURL(t), envOptions{})
		code, res := e.post("hr", body("evt-evidence", "alice@example.com"), "")
		if code != http.StatusAccepted {
			t.Fatalf("%d %v", code, res)
		}
		id := res["case_id"].(string)
		if c := e.waitCase(id); c.State != offboard.StateCompleted {
			t.Fatalf("case %s, want completed", c.State)
		}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, e.URL+"/v1/cases/"+id+"/evidence", nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var ev store.Evidence
		if err := json.NewDecoder(resp.Body).Decode(&ev); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %v", resp.StatusCode, err)
		}
		if ev.GeneratedAt.IsZero() || ev.Case.ID != id || len(ev.Case.Events) != 1 || len(ev.Case.Entries) != 1 {
			t.Fatalf("evidence = %+v", ev)
		}
		if len(ev.Attempts) != 1 || ev.Attempts[0].Connector != "okta" || ev.Attempts[0].StatusCode != 200 ||
			ev.Attempts[0].Result != string(ev.Case.Entries[0].Outcome) || ev.Attempts[0].DurationMS <= 0 {
			t.Errorf("attempts = %+v", ev.Attempts)
		}
		if len(ev.Case.Audit) < 3 {
			t.Fatalf("audit rows = %+v", ev.Case.Audit)
		}
		anchors := []store.AuditHead{ev.AuditHead}
		for _, a := range ev.Case.Audit {
			anchors = append(anchors, store.AuditHead{Seq: a.Seq, Hash: a.Hash})
		}
		for _, a := range anchors {
			code, got := e.admin(http.MethodGet, fmt.Sprintf("/v1/audit/verify?seq=%d&hash=%s", a.Seq, a.Hash), adminToken, nil)
			if code != http.StatusOK || got["verified"] != true {
				t.Errorf("row %d of the evidence does not verify in the chain: %d %v", a.Seq, code, got)
			}
		}
		// A hash changed in the document no longer verifies.
		bad := ev.Case.Audit[0]
		bad.Hash = "0" + bad.Hash[1:]
		if bad.Hash == ev.Case.Audit[0].Hash {
			bad.Hash = "1" + bad.Hash[1:]
		}
		if _, got := e.admin(http.MethodGet, fmt.Sprintf("/v1/audit/verify?seq=%d&hash=%s", bad.Seq, bad.Hash), adminToken, nil); got["verified"] != false {
			t.Errorf("a changed hash verified: %v", got)
		}
	})
}
