package webhook

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/intake"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/tasks"
)

// guardedSurface is a server whose store holds every case after the
// first in ten minutes, and where root@example.com is protected.
func guardedSurface(t *testing.T) *surface {
	t.Helper()
	s := startSurfaceWith(t, func(o *Options) {
		o.Intake = intake.Policy{Protected: map[string]bool{"root@example.com": true}}
	})
	s.store.SetGuard(&store.Guard{Cases: 1, Within: 10 * time.Minute, Bypass: []offboard.Reason{offboard.ReasonSecurity}})
	return s
}

// deliverGeneric is a signed delivery of the generic source hr.
func (s *surface) deliverGeneric(id, email string, r offboard.Reason) (int, string) {
	s.t.Helper()
	b, _ := json.Marshal(sources.GenericBody{ID: id, Email: email, Reason: r})
	return s.send(http.MethodPost, "/webhooks/hr", http.Header{
		"Content-Type":          {"application/json"},
		sources.SignatureHeader: {sources.SignatureValue(time.Now(), b, []byte(testHRSecret))},
	}, string(b))
}

func decode[T any](t *testing.T, body string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	return v
}

func TestProtectedAccounts(t *testing.T) {
	s := guardedSurface(t)
	for _, tc := range []struct {
		name string
		send func() (int, string)
	}{
		{"a webhook for a protected account is answered 422 and recorded", func() (int, string) {
			return s.deliverGeneric("p1", " Root@Example.com", offboard.ReasonTerminated)
		}},
		{"its redelivery is answered 422 again", func() (int, string) {
			return s.deliverGeneric("p1", "root@example.com", offboard.ReasonTerminated)
		}},
		{"the manual trigger for a protected account is answered 422", func() (int, string) {
			return s.send(http.MethodPost, "/v1/offboard", bearerJSON(), `{"email": "root@example.com", "reason": "security"}`)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := tc.send()
			out := decode[struct {
				Error string     `json:"error"`
				Cases []accepted `json:"cases"`
			}](t, body)
			if code != http.StatusUnprocessableEntity || !strings.Contains(out.Error, "protected") || len(out.Cases) != 1 ||
				!out.Cases[0].Protected || out.Cases[0].State != offboard.StateDismissed {
				t.Fatalf("answer %d %s, want 422 with the dismissed case", code, body)
			}
			c, err := s.store.GetCase(t.Context(), out.Cases[0].CaseID)
			if err != nil || c.Audit[0].Action != "case.protected" || len(c.Entries) != 0 {
				t.Errorf("case = %+v, %v", c, err)
			}
			if _, err := s.insp.GetTaskInfo(tasks.QueueOffboard, tasks.OffboardID(c.ID, c.EffectiveAt)); err == nil {
				t.Error("a protected account's case has an offboard task")
			}
		})
	}
	if !strings.Contains(s.log.String(), "protected account") {
		t.Error("no log line for the protected account")
	}
}

func TestApprovals(t *testing.T) {
	s := guardedSurface(t)
	var ids []string
	for i, email := range []string{"ann@example.com", "bob@example.com", "cy@example.com"} {
		code, body := s.deliverGeneric("e"+string(rune('1'+i)), email, offboard.ReasonTerminated)
		if code != http.StatusAccepted {
			t.Fatalf("delivery %d: %d %s", i, code, body)
		}
		a := decode[accepted](t, body)
		want := offboard.StatePending
		if i > 0 {
			want = offboard.StateAwaitingApproval
		}
		if a.State != want {
			t.Fatalf("delivery %d state %s, want %s", i, a.State, want)
		}
		ids = append(ids, a.CaseID)
	}
	if code, body := s.deliverGeneric("s1", "eve@example.com", offboard.ReasonSecurity); code != http.StatusAccepted || decode[accepted](t, body).State != offboard.StatePending {
		t.Fatalf("security delivery: %d %s, want it pending", code, body)
	}

	t.Run("GET /v1/approvals lists the held cases oldest first", func(t *testing.T) {
		code, body := s.send(http.MethodGet, "/v1/approvals", bearerJSON(), "")
		list := decode[struct{ Cases []store.Case }](t, body)
		if code != http.StatusOK || len(list.Cases) != 2 || list.Cases[0].ID != ids[1] || list.Cases[1].ID != ids[2] {
			t.Fatalf("%d %s", code, body)
		}
		if code, body := s.send(http.MethodGet, "/v1/cases?state=awaiting_approval", bearerJSON(), ""); code != http.StatusOK ||
			len(decode[struct{ Cases []store.Case }](t, body).Cases) != 2 {
			t.Errorf("cases by state: %d %s", code, body)
		}
	})
	t.Run("a bad approval is refused naming the problem", func(t *testing.T) {
		for body, want := range map[string]string{
			`{"all": true}`: "who: required",
			`{"all": true, "case_ids": ["x"], "who": "jo"}`: "either",
			`{"who": "jo"}`:                          "either",
			`{"all": true, "who": "jo", "extra": 1}`: "body: want JSON",
			`[]`:                                     "body: want JSON",
		} {
			code, got := s.send(http.MethodPost, "/v1/approvals", bearerJSON(), body)
			if code != http.StatusBadRequest || !strings.Contains(got, want) {
				t.Errorf("%s: %d %s, want 400 with %q", body, code, got, want)
			}
		}
	})
	t.Run("approvals are behind the admin token", func(t *testing.T) {
		if code, _ := s.send(http.MethodPost, "/v1/approvals", http.Header{"Content-Type": {"application/json"}}, `{"all": true, "who": "jo"}`); code != http.StatusUnauthorized {
			t.Errorf("without a token: %d, want 401", code)
		}
		if code, _ := s.send(http.MethodGet, "/v1/approvals", nil, ""); code != http.StatusUnauthorized {
			t.Errorf("list without a token: %d, want 401", code)
		}
	})
	t.Run("approving by id releases the held case, enqueues it and lists the rest", func(t *testing.T) {
		code, body := s.send(http.MethodPost, "/v1/approvals", bearerJSON(),
			`{"case_ids": ["`+ids[1]+`", "`+ids[0]+`", "no-such-case"], "who": "Jo Admin", "note": "checked with HR"}`)
		res := decode[store.ApprovalResult](t, body)
		if code != http.StatusOK || len(res.Released) != 1 || res.Released[0].ID != ids[1] || res.Released[0].State != offboard.StatePending ||
			len(res.NotFound) != 1 || res.NotFound[0] != "no-such-case" || len(res.NotHeld) != 1 || res.NotHeld[0].ID != ids[0] {
			t.Fatalf("%d %s", code, body)
		}
		if _, err := s.insp.GetTaskInfo(tasks.QueueOffboard, tasks.OffboardID(ids[1], res.Released[0].EffectiveAt)); err != nil {
			t.Errorf("no offboard task for the released case: %v", err)
		}
		c, _ := s.store.GetCase(t.Context(), ids[1])
		if last := c.Audit[len(c.Audit)-1]; last.Action != "case.approved" || last.Actor != "Jo Admin" {
			t.Errorf("last audit %+v", last)
		}
	})
	t.Run("approving all releases the rest", func(t *testing.T) {
		code, body := s.send(http.MethodPost, "/v1/approvals", bearerJSON(), `{"all": true, "who": "jo"}`)
		res := decode[store.ApprovalResult](t, body)
		if code != http.StatusOK || len(res.Released) != 1 || res.Released[0].ID != ids[2] {
			t.Fatalf("%d %s", code, body)
		}
		if _, body := s.send(http.MethodGet, "/v1/approvals", bearerJSON(), ""); body != `{"cases":[]}` {
			t.Errorf("still held: %s", body)
		}
	})
}
