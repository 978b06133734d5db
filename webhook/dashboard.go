package webhook

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/hibiken/asynqmon"

	"github.com/offboarder/offboarder/tasks"
)

// DashboardPath is where the asynq dashboard is mounted.
const DashboardPath = "/monitoring"

// mountDashboard serves asynqmon at /monitoring/ — every method and sub-path —
// behind the admin token (Bearer, or HTTP Basic with the token as password
// so that a browser can log in). A browser's cached Basic credentials are
// what a foreign page would ride on, so a cross-site write is refused
// before the token is looked at. Payloads and results are shown redacted.
func (s *Server) mountDashboard() {
	h := asynqmon.New(asynqmon.Options{
		RootPath:         DashboardPath,
		RedisConnOpt:     s.opts.Redis,
		PayloadFormatter: asynqmon.PayloadFormatterFunc(redactPayload),
		ResultFormatter:  asynqmon.ResultFormatterFunc(func(string, []byte) string { return "<redacted>" }),
	})
	s.closers = append(s.closers, h.Close)
	var dash http.Handler = h
	if s.opts.EmbeddedRedis {
		dash = embeddedRedisInfo(h)
	}
	g := s.engine.Group(DashboardPath, refuseCrossSite(s.cop), s.requireAdmin(true))
	g.Any("", gin.WrapH(dash))
	g.Any("/*path", gin.WrapH(dash))
}

// redisInfoPath is the dashboard's API route that its Redis page reads
// (the server's INFO, parsed).
const redisInfoPath = DashboardPath + "/api/redis_info"

// embeddedRedisNote is what the dashboard's Redis page shows for the
// embedded Redis.
const embeddedRedisNote = "# offboarder: embedded in-memory Redis\n" +
	"# It has no INFO (version, uptime, memory): there is nothing to show here.\n" +
	"# Work in flight is lost with the process and rebuilt from the database by the relay.\n" +
	"# Set REDIS_URL to use a Redis server.\n"

// embeddedRedisInfo answers the dashboard's Redis page for the embedded
// Redis, which has no INFO: asynqmon would show "undefined days" and NaN
// cards. The answer has no info (the page then shows no cards) and a note
// in place of INFO's output; every other route goes to next.
func embeddedRedisInfo(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != redisInfoPath || r.Method != http.MethodGet {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"address":  "embedded in-memory Redis (no REDIS_URL)",
			"info":     nil,
			"raw_info": embeddedRedisNote,
			"cluster":  false,
		})
	})
}

// redactPayload shows only the ids offboarder's own payloads carry; anything
// else is summarised by size.
func redactPayload(taskType string, payload []byte) string {
	switch taskType {
	case tasks.TypeOffboard:
		var p tasks.Offboard
		if json.Unmarshal(payload, &p) == nil {
			return fmt.Sprintf("case %s due %s", p.CaseID, p.EffectiveAt.UTC().Format("2006-01-02T15:04:05Z"))
		}
	case tasks.TypeRevoke:
		var p tasks.Revoke
		if json.Unmarshal(payload, &p) == nil {
			return fmt.Sprintf("case %s connector %s", p.CaseID, p.Connector)
		}
	}
	return fmt.Sprintf("<redacted, %d bytes>", len(payload))
}
