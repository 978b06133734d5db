package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/simulator/okta"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/ssf"
)

// issSubClaims is RISC account-disabled (for hijacking: security) whose
// subject is named only by iss_sub, sub being an Okta user id.
func (tr *transmitter) issSubClaims(jti, sub string) []byte {
	tr.t.Helper()
	return tr.claimsWith(tr.claims("risc-account-disabled-iss-sub.json", jti, ""), "sub_id",
		map[string]any{"format": "iss_sub", "iss": "https://example.okta.com", "sub": sub})
}

// metricsText is the server's /metrics.
func (e *env) metricsText() string {
	e.t.Helper()
	resp, err := http.Get(e.URL + "/metrics")
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// An SSF subject named only by iss_sub is resolved through resolve_with's
// connector (the Okta user id → its email) and revoked; one the connector
// does not know needs attention; without resolve_with the SET is answered
// 202, ignored, and counted as subject_without_email.
func TestSSFIssSubSubjectIsResolvedWithOkta(t *testing.T) {
	dialects(t, func(t *testing.T, dbURL func(*testing.T) string) {
		tr := newTransmitter(t)
		e := start(t, dbURL(t), envOptions{extraSpecs: []sources.Spec{{Name: "caep", Type: "ssf", Settings: map[string]any{
			"issuer": caepIssuer, "audience": caepAudience, "jwks": tr.jwks(), "resolve_with": "okta",
		}}}})

		aliceID := okta.UserID("alice@example.com")
		code, _, res := e.pushSET(tr.sign(tr.issSubClaims("iss-sub-1", aliceID), nil), ssf.ContentType)
		if code != http.StatusAccepted || res["duplicate"] != false {
			t.Fatalf("SET: want 202 with a case, got %d %v", code, res)
		}
		id, _ := res["case_id"].(string)
		c := e.waitCase(id)
		if c.State != offboard.StateCompleted || c.Email != "alice@example.com" || c.Reason != offboard.ReasonSecurity {
			t.Fatalf("case: %+v", c)
		}
		if len(c.Entries) != 1 || c.Entries[0].Connector != "okta" || c.Entries[0].Outcome != "acknowledged" {
			t.Fatalf("entries: %+v", c.Entries)
		}
		if n := e.Sim.Sessions("okta", "alice@example.com"); n != 0 {
			t.Fatalf("simulator still holds %d sessions for alice", n)
		}
		if n := e.Sim.Sessions("okta", "bob@example.com"); n != 1 {
			t.Fatalf("bob's sessions were touched: %d left", n)
		}

		// An id Okta does not know: nobody can say who it is.
		code, _, res = e.pushSET(tr.sign(tr.issSubClaims("iss-sub-2", "00unobody0000000000"), nil), ssf.ContentType)
		if code != http.StatusAccepted {
			t.Fatalf("SET: %d %v", code, res)
		}
		c = e.waitCase(res["case_id"].(string))
		if c.State != offboard.StateNeedsAttention || c.Email != "" || len(c.Entries) != 0 || !strings.Contains(c.ClosedReason, "no user with id") {
			t.Fatalf("unknown id: %+v", c)
		}
		if strings.Contains(e.metricsText(), `result="subject_without_email"`) {
			t.Fatal("resolved subjects were counted as subject_without_email")
		}
	})
}

func TestSSFIssSubSubjectWithoutResolveWithIsCounted(t *testing.T) {
	dialects(t, func(t *testing.T, dbURL func(*testing.T) string) {
		tr := newTransmitter(t)
		e := start(t, dbURL(t), envOptions{extraSpecs: []sources.Spec{{Name: "caep", Type: "ssf", Settings: map[string]any{
			"issuer": caepIssuer, "audience": caepAudience, "jwks": tr.jwks(),
		}}}})
		for i, jti := range []string{"iss-sub-1", "iss-sub-2"} {
			code, _, res := e.pushSET(tr.sign(tr.issSubClaims(jti, okta.UserID("alice@example.com")), nil), ssf.ContentType)
			if code != http.StatusAccepted || res["status"] != "ignored" || !strings.Contains(res["reason"].(string), "subject without email") {
				t.Fatalf("SET %d: want 202 ignored for a subject without email, got %d %v", i, code, res)
			}
		}
		if n := len(e.cases()); n != 0 {
			t.Fatalf("%d cases from subjects without email", n)
		}
		if m := e.metricsText(); !strings.Contains(m, `offboarder_webhook_deliveries_total{result="subject_without_email",source="caep"} 2`) {
			t.Fatalf("deliveries not counted as subject_without_email:\n%s", grepLines(m, "offboarder_webhook_deliveries_total"))
		}
		if n := strings.Count(e.Log.String(), `"message":"subject without email"`); n != 2 {
			t.Fatalf("want 2 log lines \"subject without email\", got %d", n)
		}
		if n := e.Sim.Sessions("okta", "alice@example.com"); n != 2 {
			t.Fatalf("alice's sessions were touched: %d left", n)
		}
	})
}

// grepLines returns the lines of s that hold sub.
func grepLines(s, sub string) string {
	var out []string
	for l := range strings.Lines(s) {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}
