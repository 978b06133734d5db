package webhook

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/tasks"
)

func TestEvidenceAPI(t *testing.T) {
	s := startSurface(t)
	id := s.caseWith("ann@example.com", map[string]offboard.Outcome{"okta": offboard.Verified})
	if err := s.store.RecordAttempt(t.Context(), store.Attempt{CaseID: id, Connector: "okta", N: 1, StartedAt: time.Now(), Duration: 30 * time.Millisecond, StatusCode: 200, Result: "verified"}); err != nil {
		t.Fatal(err)
	}
	bearer := http.Header{"Authorization": {"Bearer " + testAdminToken}}

	t.Run("a case's evidence is one document with attempts, audit hashes and the chain's head", func(t *testing.T) {
		code, body := s.send(http.MethodGet, "/v1/cases/"+id+"/evidence", bearer, "")
		if code != http.StatusOK {
			t.Fatalf("%d %s", code, body)
		}
		var ev struct {
			GeneratedAt time.Time `json:"generated_at"`
			Case        struct {
				ID      string `json:"id"`
				Events  []any  `json:"events"`
				Entries []any  `json:"entries"`
				Audit   []struct {
					Seq  int64  `json:"seq"`
					Hash string `json:"hash"`
				} `json:"audit"`
			} `json:"case"`
			Attempts []struct {
				StatusCode int     `json:"status_code"`
				DurationMS float64 `json:"duration_ms"`
			} `json:"attempts"`
			AuditHead store.AuditHead `json:"audit_head"`
		}
		if err := json.Unmarshal([]byte(body), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Case.ID != id || len(ev.Case.Events) != 1 || len(ev.Case.Entries) != 1 || len(ev.Case.Audit) == 0 || ev.Case.Audit[0].Hash == "" {
			t.Errorf("case = %+v", ev.Case)
		}
		if len(ev.Attempts) != 1 || ev.Attempts[0].StatusCode != 200 || ev.Attempts[0].DurationMS != 30 {
			t.Errorf("attempts = %+v", ev.Attempts)
		}
		if ev.GeneratedAt.IsZero() || ev.AuditHead.Seq < ev.Case.Audit[len(ev.Case.Audit)-1].Seq || len(ev.AuditHead.Hash) != 64 {
			t.Errorf("generated_at %v, head %+v", ev.GeneratedAt, ev.AuditHead)
		}
	})
	t.Run("an unknown case is 404 and no token is 401", func(t *testing.T) {
		if code, body := s.send(http.MethodGet, "/v1/cases/nope/evidence", bearer, ""); code != http.StatusNotFound {
			t.Errorf("%d %s", code, body)
		}
		if code, _ := s.send(http.MethodGet, "/v1/cases/"+id+"/evidence", nil, ""); code != http.StatusUnauthorized {
			t.Errorf("no token: %d", code)
		}
		if code, _ := s.send(http.MethodGet, "/v1/evidence?since=2020-01-01T00:00:00Z", nil, ""); code != http.StatusUnauthorized {
			t.Errorf("no token: %d", code)
		}
	})
	t.Run("a period's evidence lists the cases created in it", func(t *testing.T) {
		q := url.Values{"since": {time.Now().Add(-time.Hour).Format(time.RFC3339)}}
		code, body := s.send(http.MethodGet, "/v1/evidence?"+q.Encode(), bearer, "")
		if code != http.StatusOK || !strings.Contains(body, `"id":"`+id+`"`) || !strings.Contains(body, `"generated_at"`) {
			t.Errorf("%d %s", code, body)
		}
		q.Set("until", time.Now().Add(-30*time.Minute).Format(time.RFC3339))
		if code, body := s.send(http.MethodGet, "/v1/evidence?"+q.Encode(), bearer, ""); code != http.StatusOK || !strings.Contains(body, `"cases":[]`) {
			t.Errorf("an earlier window: %d %s", code, body)
		}
	})
	t.Run("bad parameters are 400 naming the parameter", func(t *testing.T) {
		for query, want := range map[string]string{
			"":                                   "since:",
			"since=yesterday":                    "since:",
			"since=2026-01-02T00:00:00Z&until=x": "until:",
			"since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z": "until: must be after since",
			"since=2026-01-01T00:00:00Z&limit=0":                    "limit:",
			"since=2026-01-01T00:00:00Z&after=zz":                   "after:",
		} {
			code, body := s.send(http.MethodGet, "/v1/evidence?"+query, bearer, "")
			if code != http.StatusBadRequest || !strings.Contains(body, want) {
				t.Errorf("%q: %d %s, want 400 with %q", query, code, body, want)
			}
		}
	})
}

// An attestation that completes a case enqueues its notifications when
// completed is notified.
func TestAttestationThatCompletesACaseNotifies(t *testing.T) {
	dest := tasks.DestinationID("webhook", "https://example.com/hook")
	s := startSurfaceWith(t, func(o *Options) {
		o.Connectors = []string{"okta", "lucid"}
		o.Notify = tasks.NotifySettings{Destinations: []string{dest}, On: []offboard.State{offboard.StateCompleted}}
	})
	id := s.caseWith("ann@example.com", map[string]offboard.Outcome{"okta": offboard.Verified, "lucid": offboard.ManualRequired})
	code, body := s.send(http.MethodPost, "/v1/cases/"+id+"/entries/lucid/attest", bearerJSON(), `{"who":"dana"}`)
	if code != http.StatusOK || !strings.Contains(body, `"case_state":"completed"`) {
		t.Fatalf("%d %s", code, body)
	}
	info, err := s.insp.GetTaskInfo(tasks.QueueOffboard, tasks.NotifyID(id, "completed", dest))
	if err != nil || info.Type != tasks.TypeNotify {
		t.Fatalf("notify task: %v %v", info, err)
	}
}
