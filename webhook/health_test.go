package webhook

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/internal/testenv"
	"github.com/offboarder/offboarder/store"
)

// TestAWorkerAloneServesHealthWithTheServersCode: `offboarder work` serves
// health, readiness, metrics and profiles through NewHealth — the same
// routes, middleware and answers as the server — and nothing else.
func TestAWorkerAloneServesHealthWithTheServersCode(t *testing.T) {
	st, err := store.Open(t.Context(), "sqlite:"+t.TempDir()+"/offboarder.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	redisOpt := asynq.RedisClientOpt{Addr: testenv.StartRedis(t).Addr, DialTimeout: 500 * time.Millisecond}
	reg := prometheus.NewRegistry()
	h := NewHealth(Options{Store: st, Redis: redisOpt, AdminToken: testAdminToken, Logger: zerolog.Nop(), Registry: reg,
		QueuePollInterval: 20 * time.Millisecond})
	t.Cleanup(func() { h.Close() })
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	get := func(path, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		name, path, token string
		status            int
		body              string
	}{
		{"health answers", "/healthz", "", http.StatusOK, `"status":"ok"`},
		{"readiness checks the store and Redis", "/readyz", "", http.StatusOK, `"redis":"ok"`},
		{"metrics hold the paused-queue gauge", "/metrics", "", http.StatusOK, "offboarder_queue_paused"},
		{"metrics hold the cases by state", "/metrics", "", http.StatusOK, `offboarder_cases{state="pending"} 0`},
		{"profiles want the admin token", "/debug/pprof/heap", "", http.StatusUnauthorized, ""},
		{"profiles answer the admin token", "/debug/pprof/", testAdminToken, http.StatusOK, "heap"},
		{"no webhooks here", "/webhooks/hr", "", http.StatusNotFound, "not found"},
		{"no admin API here", "/v1/cases", testAdminToken, http.StatusNotFound, "not found"},
		{"no dashboard here", "/monitoring/", testAdminToken, http.StatusNotFound, "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := get(tt.path, tt.token)
			if status != tt.status || !strings.Contains(body, tt.body) {
				t.Errorf("GET %s = %d %.200q, want %d containing %q", tt.path, status, body, tt.status, tt.body)
			}
		})
	}
	// The access metrics count the worker's own requests, by route template.
	if _, body := get("/metrics", ""); !strings.Contains(body, `offboarder_http_requests_total{code="200",method="GET",route="/healthz"}`) {
		t.Errorf("metrics lack the request counter of /healthz:\n%.2000s", body)
	}
}
