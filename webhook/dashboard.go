package webhook

import (
	"encoding/json"
	"fmt"

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
	g := s.engine.Group(DashboardPath, refuseCrossSite(s.cop), s.requireAdmin(true))
	g.Any("", gin.WrapH(h))
	g.Any("/*path", gin.WrapH(h))
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
