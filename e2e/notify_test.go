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
