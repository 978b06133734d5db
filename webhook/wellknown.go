package webhook

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// WellKnownPrefix is where public documents are served: the root of the
// public base URL, as RFC 8615 places them.
const WellKnownPrefix = "/.well-known/"

// Document is a fixed public document, e.g. the CAEP transmitter's key set
// at /.well-known/jwks.json: served to anyone (no admin token) at GET Path,
// its bytes as given, with Cache-Control "public, max-age=…". The server
// knows nothing of what it holds; the wiring passes it in.
type Document struct {
	Path        string // below WellKnownPrefix, e.g. "/.well-known/ssf-configuration"
	ContentType string // "" means application/json
	Body        []byte
	MaxAge      time.Duration // how long a reader may cache it; 0 means no-cache
}

// mountWellKnown serves each document at GET its path; any other method
// is answered 405 as everywhere. A document outside WellKnownPrefix, or a
// second one at a path, is left out and logged: it is a wiring mistake.
func (s *Server) mountWellKnown(docs []Document) {
	seen := map[string]bool{}
	for _, d := range docs {
		if !strings.HasPrefix(d.Path, WellKnownPrefix) || len(d.Path) == len(WellKnownPrefix) || seen[d.Path] {
			s.log.Error().Str("path", d.Path).Msg("public document not served: not below /.well-known/ or served twice")
			continue
		}
		seen[d.Path] = true
		ct := d.ContentType
		if ct == "" {
			ct = "application/json"
		}
		cache := "no-cache"
		if d.MaxAge > 0 {
			cache = "public, max-age=" + strconv.Itoa(int(d.MaxAge/time.Second))
		}
		body := d.Body
		s.engine.GET(d.Path, func(c *gin.Context) {
			c.Header("Cache-Control", cache)
			c.Header("X-Content-Type-Options", "nosniff")
			c.Data(http.StatusOK, ct, body)
		})
	}
}
