package webhook

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/internal/testenv"
)

// redisInfo asks the dashboard's Redis page's API route of a server on
// redisOpt and decodes the answer.
func redisInfo(t *testing.T, redisOpt asynq.RedisConnOpt, embedded bool, token string) (int, map[string]any) {
	t.Helper()
	return dashboardGet(t, redisOpt, embedded, token, "/monitoring/api/redis_info")
}

// dashboardGet asks path of a server on redisOpt with the dashboard and
// decodes the answer.
func dashboardGet(t *testing.T, redisOpt asynq.RedisConnOpt, embedded bool, token, path string) (int, map[string]any) {
	t.Helper()
	h := New(Options{Redis: redisOpt, AdminToken: testAdminToken, Logger: zerolog.Nop(), Dashboard: true, EmbeddedRedis: embedded})
	t.Cleanup(func() { h.Close() })
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestDashboardRedisPage: on the embedded Redis (miniredis, which has no
// INFO) the dashboard's Redis page gets no info — so it shows no cards of
// "undefined days" and NaN — and a note saying why, behind the admin token
// like every dashboard route; on a Redis server it shows INFO as before.
func TestDashboardRedisPage(t *testing.T) {
	t.Run("the embedded Redis is named, with no info to render", func(t *testing.T) {
		m := miniredis.NewMiniRedis()
		if err := m.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.Close)
		opt := asynq.RedisClientOpt{Addr: m.Addr()}
		if code, _ := redisInfo(t, opt, true, ""); code != http.StatusUnauthorized {
			t.Fatalf("without the token: want 401, got %d", code)
		}
		code, res := redisInfo(t, opt, true, testAdminToken)
		raw, _ := res["raw_info"].(string)
		addr, _ := res["address"].(string)
		if code != http.StatusOK || res["info"] != nil || res["cluster"] != false || !strings.Contains(raw, "embedded in-memory Redis") || !strings.Contains(addr, "embedded") {
			t.Fatalf("redis_info on the embedded Redis: %d %v", code, res)
		}
		if code, res := dashboardGet(t, opt, true, testAdminToken, "/monitoring/api/queues"); code != http.StatusOK || res["queues"] == nil {
			t.Fatalf("the other routes still go to the dashboard: %d %v", code, res)
		}
	})
	t.Run("miniredis answers INFO without the fields the page shows", func(t *testing.T) {
		// Why the route is answered: asynqmon's own answer on it.
		m := miniredis.NewMiniRedis()
		if err := m.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.Close)
		code, res := redisInfo(t, asynq.RedisClientOpt{Addr: m.Addr()}, false, testAdminToken)
		info, _ := res["info"].(map[string]any)
		if code == http.StatusOK && info["uptime_in_days"] != nil {
			t.Fatalf("miniredis now answers INFO (%v): the embedded answer may no longer be needed", info)
		}
	})
	t.Run("a Redis server's INFO is shown as before", func(t *testing.T) {
		code, res := redisInfo(t, asynq.RedisClientOpt{Addr: testenv.StartRedis(t).Addr}, false, testAdminToken)
		info, _ := res["info"].(map[string]any)
		if code != http.StatusOK || info["redis_version"] == nil || info["uptime_in_days"] == nil {
			t.Fatalf("redis_info on redis-server: %d %v", code, res)
		}
	})
}
