package worker

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/vendorapi"
)

var testMessage = Message{Type: "case.needs_attention", CaseID: "c1", Email: "ann@example.com", State: "needs_attention",
	Reason: offboard.ReasonTerminated, Systems: []SystemOutcome{{"okta", offboard.Verified}, {"github", offboard.Failed}}}

// Slack's incoming webhooks answer 200 "ok", or a status with a short error
// code in the body (https://api.slack.com/messaging/webhooks#handling_errors).
func TestPostSlackClassifiesSlacksAnswers(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		retryable bool
		ok        bool
	}{
		{"200 ok is delivered", 200, "ok", false, true},
		{"400 invalid_payload is not sent again", 400, "invalid_payload", false, false},
		{"403 action_prohibited is not sent again", 403, "action_prohibited", false, false},
		{"404 no_service (the hook was removed) is not sent again", 404, "no_service", false, false},
		{"410 channel_is_archived is not sent again", 410, "channel_is_archived", false, false},
		{"429 is sent again after Retry-After", 429, "rate_limited", true, false},
		{"500 rollup_error is sent again", 500, "rollup_error", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				got = string(b)
				if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
					t.Errorf("%s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
				}
				if tt.status == 429 {
					w.Header().Set("Retry-After", "3")
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			hook := srv.URL + "/services/T000/B000/HOOKSECRET"
			err := postSlack(t.Context(), newNotifyClient(5*time.Second), hook, testMessage)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok %v", err, tt.ok)
			}
			if !strings.HasPrefix(got, `{"text":"*offboarder*: case `+"`c1`"+` for ann@example.com`) || !strings.Contains(got, `github: failed`) {
				t.Errorf("message = %s", got)
			}
			if err == nil {
				return
			}
			if retryable(err) != tt.retryable {
				t.Errorf("retryable = %v, want %v (%v)", retryable(err), tt.retryable, err)
			}
			if !strings.Contains(err.Error(), tt.body) || strings.Contains(err.Error(), "HOOKSECRET") {
				t.Errorf("error %q: want Slack's code, and never the hook's URL", err)
			}
			if tt.status == 429 && vendorapi.RetryAfter(err) != 3*time.Second {
				t.Errorf("RetryAfter = %v, want 3s", vendorapi.RetryAfter(err))
			}
		})
	}
}

func TestPostSlackReceiverDownIsRetryableAndHidesTheURL(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	hook := srv.URL + "/services/T000/B000/HOOKSECRET"
	srv.Close()
	err := postSlack(t.Context(), newNotifyClient(time.Second), hook, testMessage)
	if err == nil || !retryable(err) {
		t.Fatalf("err = %v, want a retryable error", err)
	}
	if strings.Contains(err.Error(), "HOOKSECRET") {
		t.Errorf("error shows the hook's URL: %v", err)
	}
}

// The generic webhook signs as the generic source verifies: the source's own
// VerifySignature accepts it with the secret, and refuses it with another.
func TestPostWebhookIsSignedAsTheGenericSourceVerifies(t *testing.T) {
	secret := []byte("notify-secret-0123456789")
	var verr, other error
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		h := r.Header.Get(sources.SignatureHeader)
		verr = sources.VerifySignature(h, b, [][]byte{secret}, time.Now(), sources.DefaultTolerance)
		other = sources.VerifySignature(h, b, [][]byte{[]byte("another-secret-0123456789")}, time.Now(), sources.DefaultTolerance)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	if err := postWebhook(t.Context(), newNotifyClient(5*time.Second), srv.URL+"/hook", secret, testMessage); err != nil {
		t.Fatal(err)
	}
	if verr != nil || other == nil {
		t.Errorf("signature: with the secret %v, with another %v", verr, other)
	}
	if !strings.Contains(body, `"case_id":"c1"`) || !strings.Contains(body, `"connector":"github","outcome":"failed"`) || strings.Contains(body, string(secret)) {
		t.Errorf("body = %s", body)
	}
	for status, want := range map[int]bool{400: false, 401: false, 408: true, 503: true} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) }))
		err := postWebhook(t.Context(), newNotifyClient(5*time.Second), srv.URL, secret, testMessage)
		srv.Close()
		if err == nil || retryable(err) != want {
			t.Errorf("%d: err %v, want retryable %v", status, err, want)
		}
	}
}

func TestSlackTextEscapesWhatPeopleControl(t *testing.T) {
	m := testMessage
	m.Email = "<!channel>&x@example.com"
	if got := slackText(m); strings.Contains(got, "<!channel>") || !strings.Contains(got, "&lt;!channel&gt;&amp;x@example.com") {
		t.Errorf("slackText = %s", got)
	}
}
