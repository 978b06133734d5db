package webhook

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/rs/zerolog"
)

// crossSiteRefusal is the admin surface's one check against cross-site
// writes (a foreign page making a logged-in browser pause a queue): net/http's
// CrossOriginProtection, which lets safe methods through, refuses a request
// whose Sec-Fetch-Site is neither same-origin nor none, and, with no
// Sec-Fetch-Site, one whose Origin is not the request's host. A request with
// neither header (a non-browser client, curl or a script with the Bearer
// token) passes. It answers 0, or 403 and the message, with a log line that
// names the request's path and where it came from (never its credentials).
func crossSiteRefusal(cop *http.CrossOriginProtection, r *http.Request) (int, string) {
	err := cop.Check(r)
	if err == nil {
		return 0, ""
	}
	zerolog.Ctx(r.Context()).Warn().Err(err).Str("method", r.Method).Str("path", r.URL.Path).
		Str("sec_fetch_site", clip(r.Header.Get("Sec-Fetch-Site"))).Str("origin", clip(r.Header.Get("Origin"))).
		Msg("cross-site request refused")
	return http.StatusForbidden, "cross-site request refused"
}

// refuseCrossSite is crossSiteRefusal as Gin middleware, placed before the
// token check so that a browser's cached credentials never reach it.
func refuseCrossSite(cop *http.CrossOriginProtection) gin.HandlerFunc {
	return func(c *gin.Context) {
		if status, msg := crossSiteRefusal(cop, c.Request); status != 0 {
			abort(c, status, msg)
			return
		}
		c.Next()
	}
}

// clip bounds a client-chosen header value before it goes into the log.
func clip(s string) string {
	const max = 200
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
