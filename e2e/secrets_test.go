package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestNoSecretInAnswersLogsOrDashboard runs a case that fails on rejected
// credentials (so errors are recorded everywhere) with recognizable secret
// values, then reads every place a secret could leak: the admin API, the
// dashboard's API (task payloads and errors), metrics, and the log.
func TestNoSecretInAnswersLogsOrDashboard(t *testing.T) {
	const revoked = "REVOKED-okta-TOKEN-canary-0123"
	e := start(t, "sqlite:"+t.TempDir()+"/o.db", envOptions{oktaToken: revoked})
	code, res := e.post("hr", body("evt-secrets", "alice@example.com"), "")
	if code != http.StatusAccepted {
		t.Fatalf("%d %v", code, res)
	}
	c := e.waitCase(res["case_id"].(string))
	if c.Entries[0].Outcome != "failed" {
		t.Fatalf("want a failed entry to carry errors everywhere, got %+v", c.Entries[0])
	}
	secrets := []string{revoked, oktaToken, hrSecret, adminToken}
	get := func(path string, basic bool) string {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, e.URL+path, nil)
		if basic {
			req.SetBasicAuth("ops", adminToken)
		} else {
			req.Header.Set("Authorization", "Bearer "+adminToken)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	places := map[string]string{
		"GET /v1/cases/{id}":       get("/v1/cases/"+c.ID, false),
		"GET /v1/cases":            get("/v1/cases", false),
		"dashboard archived tasks": get("/monitoring/api/queues/revoke/archived_tasks", true),
		"dashboard queues":         get("/monitoring/api/queues", true),
		"metrics":                  get("/metrics", false),
		"log":                      e.Log.String(),
	}
	if !strings.Contains(places["dashboard archived tasks"], "credentials rejected") {
		t.Fatalf("the dashboard does not show the archived task's reason: %s", places["dashboard archived tasks"])
	}
	for where, text := range places {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s holds the secret %q", where, s)
			}
		}
	}
}
