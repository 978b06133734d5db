package webhook

import (
	"encoding/json"
	"net/http"
	"net/http/pprof"
	"strings"

	"github.com/gin-gonic/gin"
)

// ProfilePath is where the Go runtime's profiles (net/http/pprof) are
// served, behind the admin token, for an operator chasing CPU or memory:
//
//	curl -H "Authorization: Bearer $OFFBOARDER_ADMIN_TOKEN" \
//	  -o cpu.pprof "http://host:8080/debug/pprof/profile?seconds=30"
//	go tool pprof -top cpu.pprof
//
// A profile holds stack traces and counts, never the process's memory; the
// command line is not served (it may name files an operator keeps private).
const ProfilePath = "/debug/pprof"

// ProfileHandler serves ProfilePath/… to holders of adminToken (Bearer, or
// HTTP Basic with the token as password); with no token it refuses every
// request, like the rest of the admin surface, and refuses a cross-site
// write before the token is looked at. A worker-only process, which
// has no admin API, mounts it next to its metrics.
func ProfileHandler(adminToken string) http.Handler {
	want := []byte(adminToken)
	cop := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status, msg := crossSiteRefusal(cop, r); status != 0 {
			writeError(w, status, msg)
			return
		}
		if status, msg := adminRefusal(w.Header(), r, want, true); status != 0 {
			writeError(w, status, msg)
			return
		}
		switch name := strings.TrimPrefix(r.URL.Path, ProfilePath+"/"); name {
		case "profile":
			pprof.Profile(w, r)
		case "trace":
			pprof.Trace(w, r)
		case "symbol":
			pprof.Symbol(w, r)
		case "cmdline":
			writeError(w, http.StatusNotFound, "not found")
		default: // the index, or a named profile: heap, goroutine, allocs, block, mutex, threadcreate
			pprof.Index(w, r)
		}
	})
}

func (s *Server) mountProfiles() {
	h := gin.WrapH(ProfileHandler(s.opts.AdminToken))
	s.engine.Any(ProfilePath+"/*name", h)
}

// writeError answers like abort, outside gin.
func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
