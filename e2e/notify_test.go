package e2e

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/tasks"
	"github.com/offboarder/offboarder/worker"
)

const notifySecret = "e2e-notify-secret-0123456789"

// receiver records the notifications it takes; the first `down` requests
// are answered 503 (a receiver that is down), later ones 200.
type receiver struct {
	mu       sync.Mutex
	down     int
	requests int
	bodies   []string
	bad      []string // signature problems (generic receivers)
}

func (r *receiver) serve(t *testing.T, slack bool) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.requests++
		if r.requests <= r.down {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if !slack {
			if err := sources.VerifySignature(req.Header.Get(sources.SignatureHeader), b, [][]byte{[]byte(notifySecret)}, time.Now(), sources.DefaultTolerance); err != nil {
				r.bad = append(r.bad, err.Error())
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
		}
		r.bodies = append(r.bodies, string(b))
		io.WriteString(w, "ok") // Slack's answer
	}))
	t.Cleanup(srv.Close)
	return srv
}

func (r *receiver) got() (requests int, bodies []string, bad []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests, append([]string(nil), r.bodies...), append([]string(nil), r.bad...)
}

// A case that ends needs_attention is told once to the Slack hook and to
// the signed webhook, with the case page's link and no secret; a receiver
// that is down is tried again until it is up.
func TestNotificationsOfACaseThatNeedsAttention(t *testing.T) {
	dialects(t, func(t *testing.T, dbURL func(t *testing.T) string) {
		slack, hook := &receiver{}, &receiver{down: 2}
		slackSrv, hookSrv := slack.serve(t, true), hook.serve(t, false)
		slackURL := slackSrv.URL + "/services/T000/B000/SLACKHOOKSECRET"
		e := start(t, dbURL(t), envOptions{oktaToken: "a-revoked-okta-token", notify: worker.Notifications{
			Slack:     []string{slackURL},
			Webhooks:  []worker.Webhook{{URL: hookSrv.URL + "/offboarder", Secret: notifySecret}},
			On:        []offboard.State{offboard.StateNeedsAttention, offboard.StateCompleted},
			PublicURL: "https://offboarder.example.com",
		}})
		code, res := e.post("hr", body("evt-notify", "nina@example.com"), "")
		if code != http.StatusAccepted {
			t.Fatalf("%d %v", code, res)
		}
		id := res["case_id"].(string)
		if c := e.waitCase(id); c.State != offboard.StateNeedsAttention {
			t.Fatalf("case %s, want needs_attention", c.State)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			_, s, _ := slack.got()
			_, h, _ := hook.got()
			if len(s) >= 1 && len(h) >= 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("slack got %d, webhook got %d notifications", len(s), len(h))
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(1500 * time.Millisecond) // a second message would have come by now
		_, s, _ := slack.got()
		requests, h, bad := hook.got()
		if len(s) != 1 || len(h) != 1 || len(bad) > 0 {
			t.Fatalf("slack got %d, webhook %d (signature problems %v); want one each", len(s), len(h), bad)
		}
		if requests != 3 {
			t.Errorf("the webhook was tried %d times, want 3 (two while down, one when up)", requests)
		}
		if !strings.Contains(s[0], "nina@example.com") || !strings.Contains(s[0], "needs_attention") ||
			!strings.Contains(s[0], "okta: failed") || !strings.Contains(s[0], "https://offboarder.example.com/ui/cases/"+id) {
			t.Errorf("slack message = %s", s[0])
		}
		for _, want := range []string{`"type":"case.needs_attention"`, `"case_id":"` + id + `"`, `"email":"nina@example.com"`,
			`"reason":"terminated"`, `"systems":[{"connector":"okta","outcome":"failed"}]`, `"url":"https://offboarder.example.com/ui/cases/` + id + `"`} {
			if !strings.Contains(h[0], want) {
				t.Errorf("webhook body lacks %s: %s", want, h[0])
			}
		}
		for _, secret := range []string{"SLACKHOOKSECRET", notifySecret, "a-revoked-okta-token", hrSecret, adminToken} {
			if strings.Contains(s[0]+h[0], secret) {
				t.Errorf("a notification carries a secret: %s", secret)
			}
			if strings.Contains(e.Log.String(), secret) && secret != "a-revoked-okta-token" {
				t.Errorf("the log shows a secret: %s", secret)
			}
		}
	})
}

// A receiver that refuses the message (Slack's 404 no_service: the hook was
// removed) is not asked again: the task is archived with the reason.
func TestARefusedNotificationIsNotSentAgain(t *testing.T) {
	var mu sync.Mutex
	requests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests++
		mu.Unlock()
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "no_service")
	}))
	t.Cleanup(srv.Close)
	hook := srv.URL + "/services/T000/B000/SLACKHOOKSECRET"
	e := start(t, "sqlite:"+t.TempDir()+"/o.db", envOptions{oktaToken: "a-revoked-okta-token", notify: worker.Notifications{
		Slack: []string{hook}, On: []offboard.State{offboard.StateNeedsAttention},
	}})
	code, res := e.post("hr", body("evt-refused", "rita@example.com"), "")
	if code != http.StatusAccepted {
		t.Fatalf("%d %v", code, res)
	}
	id := res["case_id"].(string)
	e.waitCase(id)
	taskID := tasks.NotifyID(id, "needs_attention", tasks.DestinationID("slack", hook))
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := e.Insp.GetTaskInfo(tasks.QueueOffboard, taskID)
		if err == nil && info.State.String() == "archived" {
			if !strings.Contains(info.LastErr, "no_service") || strings.Contains(info.LastErr, "SLACKHOOKSECRET") {
				t.Errorf("archived with %q: want Slack's reason and never the hook's URL", info.LastErr)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("notify task not archived: %+v %v", info, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if requests != 1 {
		t.Errorf("the receiver was asked %d times, want 1", requests)
	}
}
