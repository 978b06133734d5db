package webhook

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/store"
)

const logoutSteps = "Lucid admin panel → Users → select the user → Log out user"

// manualSurface is a server whose "lucid-logout" manual step follows "lucid".
func manualSurface(t *testing.T) *surface {
	t.Helper()
	return startSurfaceWith(t, func(o *Options) {
		o.Connectors = []string{"okta", "lucid", "lucid-logout", "box"}
		o.After = map[string]string{"lucid-logout": "lucid"}
	})
}

// caseWith opens a case for email and gives it entries with these outcomes
// (a manual step's detail is logoutSteps); pending ones stay pending.
func (s *surface) caseWith(email string, entries map[string]offboard.Outcome) string {
	s.t.Helper()
	ctx := s.t.Context()
	res, err := s.store.Ingest(ctx, store.Event{Source: "hr", EventID: "ev-" + email, Email: email, Reason: offboard.ReasonTerminated, Actor: "source:hr"})
	if err != nil {
		s.t.Fatal(err)
	}
	pending := make(map[string]offboard.Outcome, len(entries))
	for k := range entries {
		pending[k] = offboard.Pending
	}
	if _, err := s.store.FanOut(ctx, res.CaseID, pending, "worker"); err != nil {
		s.t.Fatal(err)
	}
	for k, o := range entries {
		if o == offboard.Pending {
			continue
		}
		if _, err := s.store.RecordOutcome(ctx, res.CaseID, k, o, logoutSteps); err != nil {
			s.t.Fatal(err)
		}
	}
	return res.CaseID
}

func bearerJSON() http.Header {
	return http.Header{"Authorization": {"Bearer " + testAdminToken}, "Content-Type": {"application/json"}}
}

// manualList is GET /v1/manual's body.
type manualList struct {
	Entries []struct {
		CaseID       string `json:"case_id"`
		Email        string `json:"email"`
		Connector    string `json:"connector"`
		CaseState    string `json:"case_state"`
		Instructions string `json:"instructions"`
		WaitingFor   string `json:"waiting_for"`
	} `json:"entries"`
}

func (s *surface) manual() manualList {
	s.t.Helper()
	code, body := s.send(http.MethodGet, "/v1/manual", bearerJSON(), "")
	if code != http.StatusOK {
		s.t.Fatalf("GET /v1/manual: %d %s", code, body)
	}
	var l manualList
	if err := json.Unmarshal([]byte(body), &l); err != nil {
		s.t.Fatalf("GET /v1/manual body %s: %v", body, err)
	}
	return l
}

func TestAttestAnswers(t *testing.T) {
	s := manualSurface(t)
	id := s.caseWith("ann@example.com", map[string]offboard.Outcome{"box": offboard.ManualRequired, "okta": offboard.Verified})
	path := "/v1/cases/" + id + "/entries/box/attest"
	tests := []struct {
		name, path, body string
		header           http.Header
		code             int
		errText          string
	}{
		{"no token is 401", path, `{"who":"Dana"}`, http.Header{"Content-Type": {"application/json"}}, http.StatusUnauthorized, "missing or invalid admin token"},
		{"a cross-site POST is 403 even with the token", path, `{"who":"Dana"}`, http.Header{"Authorization": {"Bearer " + testAdminToken}, "Origin": {"https://evil.example"}}, http.StatusForbidden, "cross-site"},
		{"malformed JSON is 400", path, `{"who":`, bearerJSON(), http.StatusBadRequest, `body: want JSON {"who": "…", "note": "…"}`},
		{"an unknown field is 400", path, `{"who":"Dana","by":"x"}`, bearerJSON(), http.StatusBadRequest, `body: want JSON`},
		{"a missing who is 400 naming it", path, `{"note":"done"}`, bearerJSON(), http.StatusBadRequest, "who: required"},
		{"a blank who is 400 naming it", path, `{"who":"  "}`, bearerJSON(), http.StatusBadRequest, "who: required"},
		{"an overlong who is 400", path, `{"who":"` + strings.Repeat("x", 201) + `"}`, bearerJSON(), http.StatusBadRequest, "who: at most 200 characters"},
		{"a body over the cap is 413", path, `{"who":"Dana","note":"` + strings.Repeat("x", MaxBody) + `"}`, bearerJSON(), http.StatusRequestEntityTooLarge, ""},
		{"an unknown case is 404", "/v1/cases/nope/entries/box/attest", `{"who":"Dana"}`, bearerJSON(), http.StatusNotFound, "no such case"},
		{"a connector without an entry is 404", "/v1/cases/" + id + "/entries/zoom/attest", `{"who":"Dana"}`, bearerJSON(), http.StatusNotFound, `the case has no entry for connector "zoom"`},
		{"a verified entry is 409 naming its state", "/v1/cases/" + id + "/entries/okta/attest", `{"who":"Dana"}`, bearerJSON(), http.StatusConflict, "entry is verified, not manual_required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := s.send(http.MethodPost, tt.path, tt.header, tt.body)
			var e struct{ Error string }
			_ = json.Unmarshal([]byte(body), &e)
			if code != tt.code || !strings.Contains(e.Error, tt.errText) {
				t.Fatalf("POST %s: %d %s, want %d with %q", tt.path, code, body, tt.code, tt.errText)
			}
		})
	}
	if c, err := s.store.GetCase(t.Context(), id); err != nil || c.State != offboard.StateNeedsAttention {
		t.Fatalf("after the refused requests: %v, %v; want needs_attention", c, err)
	}

	code, body := s.send(http.MethodPost, path, bearerJSON(), `{"who":"Dana Admin","note":"logged out in the admin panel"}`)
	var got struct {
		CaseID    string      `json:"case_id"`
		CaseState string      `json:"case_state"`
		ClosedAt  string      `json:"closed_at"`
		Entry     store.Entry `json:"entry"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &got) != nil {
		t.Fatalf("attest: %d %s", code, body)
	}
	if got.CaseID != id || got.CaseState != "completed" || got.ClosedAt == "" || got.Entry.Outcome != offboard.Attested ||
		got.Entry.Connector != "box" || got.Entry.Detail != logoutSteps {
		t.Errorf("attest answered %s", body)
	}
	if code, body := s.send(http.MethodPost, path, bearerJSON(), `{"who":"Dana Admin"}`); code != http.StatusConflict ||
		!strings.Contains(body, `"entry is attested, not manual_required"`) {
		t.Errorf("attesting again: %d %s, want 409 naming attested", code, body)
	}
	c, err := s.store.GetCase(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if a := c.Audit[len(c.Audit)-2]; a.Action != "entry.attested" || !strings.Contains(a.Detail, `"who":"Dana Admin"`) {
		t.Errorf("audit = %+v", a)
	}
	if len(s.manual().Entries) != 0 {
		t.Errorf("GET /v1/manual still lists the attested step")
	}
}

func TestManualStepWaitsForTheStepItFollows(t *testing.T) {
	s := manualSurface(t)
	id := s.caseWith("ann@example.com", map[string]offboard.Outcome{"lucid": offboard.Pending, "lucid-logout": offboard.ManualRequired})
	other := s.caseWith("bob@example.com", map[string]offboard.Outcome{"box": offboard.ManualRequired})

	l := s.manual()
	if len(l.Entries) != 2 {
		t.Fatalf("GET /v1/manual = %+v, want ann's and bob's steps", l)
	}
	ann, bob := l.Entries[0], l.Entries[1]
	if ann.CaseID != id || ann.Connector != "lucid-logout" || ann.WaitingFor != "lucid" || ann.Instructions != "" || ann.CaseState != "in_progress" {
		t.Errorf("ann's step before lucid is done = %+v, want waiting_for lucid, no instructions", ann)
	}
	if bob.CaseID != other || bob.WaitingFor != "" || bob.Instructions != logoutSteps || bob.CaseState != "needs_attention" {
		t.Errorf("bob's step = %+v, want ready with its instructions", bob)
	}
	path := "/v1/cases/" + id + "/entries/lucid-logout/attest"
	if code, body := s.send(http.MethodPost, path, bearerJSON(), `{"who":"Dana"}`); code != http.StatusConflict || !strings.Contains(body, "entry waits for lucid, which is pending") {
		t.Fatalf("attesting a waiting step: %d %s, want 409", code, body)
	}

	if _, err := s.store.RecordOutcome(t.Context(), id, "lucid", offboard.Verified, "account deactivated"); err != nil {
		t.Fatal(err)
	}
	ann = s.manual().Entries[0]
	if ann.WaitingFor != "" || ann.Instructions != logoutSteps || ann.CaseState != "needs_attention" {
		t.Errorf("ann's step once lucid is done = %+v, want ready with its instructions", ann)
	}
	if code, body := s.send(http.MethodPost, path, bearerJSON(), `{"who":"Dana"}`); code != http.StatusOK || !strings.Contains(body, `"case_state":"completed"`) {
		t.Fatalf("attesting the ready step: %d %s", code, body)
	}
	if code, body := s.send(http.MethodGet, "/v1/manual?limit=0", bearerJSON(), ""); code != http.StatusBadRequest || !strings.Contains(body, "limit") {
		t.Errorf("limit=0: %d %s", code, body)
	}
	if code, _ := s.send(http.MethodGet, "/v1/manual", nil, ""); code != http.StatusUnauthorized {
		t.Errorf("GET /v1/manual without the token: %d, want 401", code)
	}
}
