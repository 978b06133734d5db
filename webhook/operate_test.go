package webhook

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/tasks"
)

// refusal is one request the admin API must refuse, and how.
type refusal struct {
	name, path, body string
	header           http.Header
	code             int
	errText          string
}

// refuses sends each request and checks its status and error text.
func (s *surface) refuses(tests []refusal) {
	s.t.Helper()
	for _, tt := range tests {
		s.t.Run(tt.name, func(t *testing.T) {
			code, body := s.send(http.MethodPost, tt.path, tt.header, tt.body)
			var e struct{ Error string }
			_ = json.Unmarshal([]byte(body), &e)
			if code != tt.code || !strings.Contains(e.Error, tt.errText) {
				t.Fatalf("POST %s: %d %s, want %d with %q", tt.path, code, body, tt.code, tt.errText)
			}
		})
	}
}

// bodyRefusals are the refusals every operator request shares.
func bodyRefusals(path, what string) []refusal {
	return []refusal{
		{"no token is 401", path, `{"who":"Dana"}`, http.Header{"Content-Type": {"application/json"}}, http.StatusUnauthorized, "missing or invalid admin token"},
		{"a cross-site POST is 403 even with the token", path, `{"who":"Dana"}`, http.Header{"Authorization": {"Bearer " + testAdminToken}, "Origin": {"https://evil.example"}}, http.StatusForbidden, "cross-site"},
		{"malformed JSON is 400", path, `{"who":`, bearerJSON(), http.StatusBadRequest, `body: want JSON {"who": "…", "note": "…"}`},
		{"an unknown field is 400", path, `{"who":"Dana","by":"x"}`, bearerJSON(), http.StatusBadRequest, "body: want JSON"},
		{"a missing who is 400 naming it", path, `{"note":"x"}`, bearerJSON(), http.StatusBadRequest, "who: required: the person who asks for the " + what},
		{"an overlong note is 400", path, `{"who":"Dana","note":"` + strings.Repeat("x", 2001) + `"}`, bearerJSON(), http.StatusBadRequest, "note: at most 2000 characters"},
	}
}

func TestRetryAnswers(t *testing.T) {
	s := startSurfaceWith(t, func(o *Options) { o.Connectors = []string{"okta", "box"}; o.RevokeMaxRetry = 9 })
	id := s.caseWith("ann@example.com", map[string]offboard.Outcome{"okta": offboard.Failed, "box": offboard.Verified})
	path := "/v1/cases/" + id + "/entries/okta/retry"
	// The revoke that failed left its task archived under the task id.
	taskID := tasks.RevokeID(id, "okta")
	if _, err := s.client.Enqueue(asynq.NewTask(tasks.TypeRevoke, []byte(`{}`)), asynq.TaskID(taskID), asynq.Queue(tasks.QueueRevoke)); err != nil {
		t.Fatal(err)
	}
	if err := s.insp.ArchiveTask(tasks.QueueRevoke, taskID); err != nil {
		t.Fatal(err)
	}

	s.refuses(append(bodyRefusals(path, "retry"),
		refusal{"an unknown case is 404", "/v1/cases/nope/entries/okta/retry", `{"who":"Dana"}`, bearerJSON(), http.StatusNotFound, "no such case"},
		refusal{"a connector without an entry is 404", "/v1/cases/" + id + "/entries/zoom/retry", `{"who":"Dana"}`, bearerJSON(), http.StatusNotFound, `the case has no entry for connector "zoom"`},
		refusal{"a verified entry is 409 naming its outcome", "/v1/cases/" + id + "/entries/box/retry", `{"who":"Dana"}`, bearerJSON(), http.StatusConflict, "entry is verified, not failed"},
	))
	if c, err := s.store.GetCase(t.Context(), id); err != nil || c.State != offboard.StateNeedsAttention {
		t.Fatalf("after the refused requests: %v, %v; want needs_attention", c, err)
	}

	code, body := s.send(http.MethodPost, path, bearerJSON(), `{"who":"Dana Admin","note":"token rotated"}`)
	var got struct {
		CaseID    string      `json:"case_id"`
		CaseState string      `json:"case_state"`
		Queued    bool        `json:"queued"`
		Entry     store.Entry `json:"entry"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &got) != nil {
		t.Fatalf("retry: %d %s", code, body)
	}
	if got.CaseID != id || got.CaseState != "in_progress" || !got.Queued || got.Entry.Outcome != offboard.Pending || got.Entry.Connector != "okta" {
		t.Errorf("retry answered %s", body)
	}
	info, err := s.insp.GetTaskInfo(tasks.QueueRevoke, taskID)
	if err != nil || info.State != asynq.TaskStatePending || info.MaxRetry != 9 || string(info.Payload) != `{"case_id":"`+id+`","connector":"okta"}` {
		t.Fatalf("the revoke task = %+v, %v; want it pending again, with the configured retries", info, err)
	}
	if code, body := s.send(http.MethodPost, path, bearerJSON(), `{"who":"Dana"}`); code != http.StatusConflict || !strings.Contains(body, "entry is pending, not failed") {
		t.Errorf("a second retry: %d %s, want 409 naming pending", code, body)
	}

	// Another case of the subject is open: this one is not reopened.
	other := s.caseWith("bob@example.com", map[string]offboard.Outcome{"okta": offboard.Failed})
	open, err := s.store.Ingest(t.Context(), store.Event{Source: "hr", EventID: "bob-again", Email: "bob@example.com", Reason: offboard.ReasonTerminated, Actor: "source:hr"})
	if err != nil || !open.NewCase {
		t.Fatalf("Ingest = %+v, %v", open, err)
	}
	code, body = s.send(http.MethodPost, "/v1/cases/"+other+"/entries/okta/retry", bearerJSON(), `{"who":"Dana"}`)
	var conflict struct {
		Error      string `json:"error"`
		OpenCaseID string `json:"open_case_id"`
	}
	if code != http.StatusConflict || json.Unmarshal([]byte(body), &conflict) != nil || conflict.OpenCaseID != open.CaseID || !strings.Contains(conflict.Error, open.CaseID) {
		t.Errorf("retry with another case open: %d %s, want 409 naming %s", code, body, open.CaseID)
	}
}

func TestCancelAnswers(t *testing.T) {
	s := startSurface(t)
	effective := time.Now().Add(72 * time.Hour).Truncate(time.Second)
	res, err := s.store.Ingest(t.Context(), store.Event{Source: "hr", EventID: "ann-1", Email: "ann@example.com",
		Reason: offboard.ReasonTerminated, EffectiveAt: effective, Actor: "source:hr"})
	if err != nil || res.State != offboard.StateScheduled {
		t.Fatalf("Ingest = %+v, %v", res, err)
	}
	q := tasks.NewQueue(s.client, tasks.Settings{})
	if ok, err := q.Offboard(t.Context(), tasks.Offboard{CaseID: res.CaseID, EffectiveAt: res.EffectiveAt}); !ok || err != nil {
		t.Fatalf("Offboard = %v, %v", ok, err)
	}
	path := "/v1/cases/" + res.CaseID + "/cancel"
	s.refuses(append(bodyRefusals(path, "cancellation"),
		refusal{"an unknown case is 404", "/v1/cases/nope/cancel", `{"who":"Dana"}`, bearerJSON(), http.StatusNotFound, "no such case"},
	))
	taskID := tasks.OffboardID(res.CaseID, res.EffectiveAt)
	if _, err := s.insp.GetTaskInfo(tasks.QueueOffboard, taskID); err != nil {
		t.Fatalf("after the refused requests, the task: %v", err)
	}

	code, body := s.send(http.MethodPost, path, bearerJSON(), `{"who":"Dana Admin","note":"rehired"}`)
	var got struct {
		CaseState    string    `json:"case_state"`
		ClosedAt     time.Time `json:"closed_at"`
		ClosedReason string    `json:"closed_reason"`
		TasksRemoved int       `json:"tasks_removed"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &got) != nil {
		t.Fatalf("cancel: %d %s", code, body)
	}
	if got.CaseState != "cancelled" || got.ClosedAt.IsZero() || got.ClosedReason != "cancelled by Dana Admin: rehired" || got.TasksRemoved != 1 {
		t.Errorf("cancel answered %s", body)
	}
	if _, err := s.insp.GetTaskInfo(tasks.QueueOffboard, taskID); err == nil {
		t.Errorf("the offboard task %s is still in Redis", taskID)
	}
	if code, body := s.send(http.MethodPost, path, bearerJSON(), `{"who":"Dana"}`); code != http.StatusConflict || !strings.Contains(body, "case is cancelled") {
		t.Errorf("a second cancel: %d %s, want 409 naming cancelled", code, body)
	}
	if code, body := s.send(http.MethodGet, "/v1/cases?state=cancelled", bearerJSON(), ""); code != http.StatusOK || !strings.Contains(body, res.CaseID) {
		t.Errorf("GET /v1/cases?state=cancelled: %d %s", code, body)
	}

	started := s.caseWith("bob@example.com", map[string]offboard.Outcome{"okta": offboard.Pending})
	if code, body := s.send(http.MethodPost, "/v1/cases/"+started+"/cancel", bearerJSON(), `{"who":"Dana"}`); code != http.StatusConflict || !strings.Contains(body, "case is in_progress") {
		t.Errorf("cancel once revocation started: %d %s, want 409 naming in_progress", code, body)
	}
}
