package e2e

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
)

const (
	bobSecret = "e2e-hibob-webhook-secret-0123456789"
	bobUser   = "SERVICE-USER-ID"
	bobToken  = "e2e-hibob-service-TOKEN"
)

// fakeBob is Bob's People API as its docs describe the read of one employee:
// POST /v1/people/{id} with the fields wanted, Basic auth of the service
// user. https://apidocs.hibob.com/reference/post_people-identifier
func fakeBob(t *testing.T, people map[string]string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		user, pass, ok := r.BasicAuth()
		if !ok || user != bobUser || pass != bobToken {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"key":"unauthorized","error":"Unauthorized"}`)
			return
		}
		id, ok := strings.CutPrefix(r.URL.Path, "/v1/people/")
		email, known := people[id]
		if r.Method != http.MethodPost || !ok || !known {
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"key":"not.found","error":"Employee not found"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": id, "email": email})
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func bobSign(body []byte) string {
	m := hmac.New(sha512.New, []byte(bobSecret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestHiBobLeaverIsResolvedAndRevoked(t *testing.T) {
	dialects(t, func(t *testing.T, dbURL func(*testing.T) string) {
		bob, calls := fakeBob(t, map[string]string{"3332883854254932743": "Alice@Example.com"})
		e := start(t, dbURL(t), envOptions{extraSpecs: []sources.Spec{{Name: "bob", Type: "hibob", Settings: map[string]any{
			"secret": bobSecret, "service_user_id": bobUser, "service_user_token": bobToken, "base_url": bob.URL,
		}}}})
		// A delivery as Bob sends it (webhooks v2).
		// https://apidocs.hibob.com/reference/webhook-events-v2
		body := []byte(`{"companyId":636192,"type":"employee.left","triggeredBy":"system","triggeredAt":"2025-01-08T00:00:02.104231","version":"v2","data":{"employeeId":"3332883854254932743"}}`)

		post := func(sig string) (int, map[string]any) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.URL+"/webhooks/bob", strings.NewReader(string(body)))
			req.Header.Set("Content-Type", "application/json")
			if sig != "" {
				req.Header.Set("Bob-Signature", sig)
			}
			return e.do(req)
		}
		for _, bad := range []string{"", bobSign([]byte("another body")), "not base64!"} {
			if code, res := post(bad); code != http.StatusUnauthorized {
				t.Fatalf("signature %q: want 401, got %d %v", bad, code, res)
			}
		}
		if n := len(e.cases()); n != 0 || calls.Load() != 0 {
			t.Fatalf("refused deliveries stored %d cases and called Bob %d times", n, calls.Load())
		}

		code, res := post(bobSign(body))
		if code != http.StatusAccepted {
			t.Fatalf("want 202, got %d %v", code, res)
		}
		c := e.waitCase(res["case_id"].(string))
		if c.State != offboard.StateCompleted || c.Email != "alice@example.com" || c.Reason != "terminated" ||
			c.SubjectIDs["hibob"] != "3332883854254932743" || c.Entries[0].Outcome != "acknowledged" {
			t.Fatalf("case: %+v", c)
		}
		if n := e.Sim.Sessions("okta", "alice@example.com"); n != 0 {
			t.Fatalf("sessions left: %d", n)
		}
		// Bob retries for days: the same delivery again is the same case.
		if code, again := post(bobSign(body)); code != http.StatusAccepted || again["duplicate"] != true || again["case_id"] != c.ID {
			t.Fatalf("redelivery: %d %v", code, again)
		}
	})
}
