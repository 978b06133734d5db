package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/bamboohr"
)

const (
	bambooSecret = "e2e-bamboohr-webhook-secret-0123"
	bambooKey    = "e2e-bamboohr-API-KEY"
)

// fakeBambooHR is BambooHR's Get Employee as its docs describe it:
// GET /api/v1/employees/{id}?fields=…, Basic auth of the API key and "x".
// https://documentation.bamboohr.com/reference/get-employee
func fakeBambooHR(t *testing.T, employees map[string]map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != bambooKey || pass != "x" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		id, _ := strings.CutPrefix(r.URL.Path, "/api/v1/employees/")
		emp, known := employees[id]
		if r.Method != http.MethodGet || !known {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		out := map[string]string{"id": id}
		for _, f := range strings.Split(r.URL.Query().Get("fields"), ",") {
			if v, ok := emp[f]; ok {
				out[f] = v
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestBambooHRTerminationIsResolvedAndRevoked(t *testing.T) {
	dialects(t, func(t *testing.T, dbURL func(*testing.T) string) {
		api := fakeBambooHR(t, map[string]map[string]string{
			"67890": {"workEmail": "Alice@Example.com", "status": "Inactive", "employmentHistoryStatus": "Terminated", "terminationDate": "2026-01-31"},
			"11111": {"workEmail": "bob@example.com", "status": "Active", "employmentHistoryStatus": "Full-Time"},
		})
		e := start(t, dbURL(t), envOptions{extraSpecs: []sources.Spec{{Name: "people", Type: "bamboohr", Settings: map[string]any{
			"secret": bambooSecret, "company_domain": "example", "api_key": bambooKey, "base_url": api.URL,
		}}}})
		post := func(employee string, ts time.Time, secret string) (int, map[string]any) {
			// An event-based delivery, signed as BambooHR documents: hex
			// HMAC-SHA256 of the body followed by the timestamp header.
			// https://documentation.bamboohr.com/docs/webhooks
			body := `{"type":"employee.updated","timestamp":"2026-01-31T18:42:00+0000","data":{"companyId":"12345","employeeId":"` + employee + `","changedFields":["employmentHistoryStatus","terminationDate"]}}`
			stamp := strconv.FormatInt(ts.Unix(), 10)
			m := hmac.New(sha256.New, []byte(secret))
			_, _ = io.WriteString(m, body+stamp)
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.URL+"/webhooks/people", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(bamboohr.SignatureHeader, hex.EncodeToString(m.Sum(nil)))
			req.Header.Set(bamboohr.TimestampHeader, stamp)
			return e.do(req)
		}

		for name, tt := range map[string]struct {
			ts     time.Time
			secret string
		}{
			"a wrong secret": {time.Now(), "another-bamboohr-secret-0123456"},
			"a stale stamp":  {time.Now().Add(-time.Hour), bambooSecret},
		} {
			if code, res := post("67890", tt.ts, tt.secret); code != http.StatusUnauthorized {
				t.Fatalf("%s: want 401, got %d %v", name, code, res)
			}
		}
		if n := len(e.cases()); n != 0 {
			t.Fatalf("refused deliveries stored %d cases", n)
		}

		code, res := post("67890", time.Now(), bambooSecret)
		if code != http.StatusAccepted {
			t.Fatalf("want 202, got %d %v", code, res)
		}
		c := e.waitCase(res["case_id"].(string))
		if c.State != offboard.StateCompleted || c.Email != "alice@example.com" || c.Entries[0].Outcome != "acknowledged" {
			t.Fatalf("case: %+v", c)
		}
		if n := e.Sim.Sessions("okta", "alice@example.com"); n != 0 {
			t.Fatalf("sessions left: %d", n)
		}

		// A change to someone who is not leaving is dismissed; nothing is revoked.
		code, res = post("11111", time.Now(), bambooSecret)
		if code != http.StatusAccepted {
			t.Fatalf("want 202, got %d %v", code, res)
		}
		if c := e.waitClosed(res["case_id"].(string)); c.State != offboard.StateDismissed {
			t.Fatalf("case for an active employee: %+v", c)
		}
		if n := e.Sim.Sessions("okta", "bob@example.com"); n != 1 {
			t.Fatalf("an active employee's sessions were revoked: %d left", n)
		}
	})
}
