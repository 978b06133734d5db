package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/google"
)

const googleChannelToken = "e2e-google-channel-TOKEN-0123456789"

func TestGoogleAdminEventIsRevoked(t *testing.T) {
	dialects(t, func(t *testing.T, dbURL func(*testing.T) string) {
		e := start(t, dbURL(t), envOptions{extraSpecs: []sources.Spec{{Name: "google", Type: "google", Settings: map[string]any{
			"channel_token": googleChannelToken, "credentials": googleSAJSON(googleSAKey(), "https://oauth2.googleapis.com/token"), "admin_email": "admin@example.com",
			"notification_url": "https://offboarder.example.com/webhooks/google",
			// The maintenance's Reports API calls go nowhere here; push delivery is under test.
			"base_url": "http://127.0.0.1:9", "token_url": "http://127.0.0.1:9/token",
		}}}})
		channel := "offboarder-0123456789abcdef0123456789abcdef"
		// A push of an admin activity, as the Reports API sends it.
		// https://developers.google.com/workspace/admin/reports/v1/guides/push
		activity := `{"kind":"admin#reports#activity","id":{"time":"2026-03-10T18:23:35.808Z","uniqueQualifier":"-0987654321","applicationName":"admin","customerId":"ABCD012345"},` +
			`"actor":{"callerType":"USER","email":"admin@example.com","profileId":"0123456789987654321"},"ipAddress":"192.0.2.0",` +
			`"events":[{"type":"USER_SETTINGS","name":"SUSPEND_USER","parameters":[{"name":"USER_EMAIL","value":"Alice@Example.com"}]}]}`
		push := func(state, token, body string) (int, map[string]any) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.URL+"/webhooks/google", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(google.ChannelIDHeader, channel)
			req.Header.Set(google.ChannelTokenHeader, token)
			req.Header.Set(google.ResourceStateHeader, state)
			req.Header.Set("X-Goog-Message-Number", "2")
			return e.do(req)
		}
		if code, res := push("sync", googleChannelToken, ""); code != http.StatusOK {
			t.Fatalf("sync message: want 200, got %d %v", code, res)
		}
		if code, res := push("SUSPEND_USER", "a-wrong-channel-token-0000000", activity); code != http.StatusUnauthorized {
			t.Fatalf("wrong channel token: want 401, got %d %v", code, res)
		}
		if n := len(e.cases()); n != 0 {
			t.Fatalf("refused pushes stored %d cases", n)
		}
		code, res := push("SUSPEND_USER", googleChannelToken, activity)
		if code != http.StatusAccepted {
			t.Fatalf("want 202, got %d %v", code, res)
		}
		c := e.waitCase(res["case_id"].(string))
		if c.State != offboard.StateCompleted || c.Email != "alice@example.com" || c.Reason != "suspended" || c.Entries[0].Outcome != "acknowledged" {
			t.Fatalf("case: %+v", c)
		}
		if n := e.Sim.Sessions("okta", "alice@example.com"); n != 0 {
			t.Fatalf("sessions left: %d", n)
		}
	})
}
