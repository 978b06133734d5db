package webhook

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/store"
)

// handleEvidence answers GET /v1/cases/{id}/evidence: the case, its
// events, entries, every attempt (status code, duration), its audit rows
// with their hashes and the audit chain's head when it was made, as one
// JSON document with generated_at. 404 for an unknown case.
func (s *Server) handleEvidence(c *gin.Context) {
	ev, err := s.opts.Store.Evidence(c.Request.Context(), c.Param("id"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		abort(c, http.StatusNotFound, "no such case")
		return
	case err != nil:
		zerolog.Ctx(c.Request.Context()).Error().Err(err).Msg("evidence")
		abort(c, http.StatusServiceUnavailable, "store unavailable")
		return
	}
	c.JSON(http.StatusOK, ev)
}

// handleEvidenceList answers GET /v1/evidence?since=T&until=T[&after=ID]
// [&limit=N]: the evidence of every case created in [since, until) (RFC
// 3339 times), oldest first, a page at a time (limit 1 to 1000, default
// 100); "next", when present, is the after of the next page. 400 names a
// bad parameter.
func (s *Server) handleEvidenceList(c *gin.Context) {
	since, err := time.Parse(time.RFC3339, c.Query("since"))
	if err != nil {
		abort(c, http.StatusBadRequest, "since: want an RFC 3339 time such as 2026-01-01T00:00:00Z")
		return
	}
	until := time.Now()
	if u := c.Query("until"); u != "" {
		if until, err = time.Parse(time.RFC3339, u); err != nil {
			abort(c, http.StatusBadRequest, "until: want an RFC 3339 time such as 2026-02-01T00:00:00Z")
			return
		}
	}
	if !until.After(since) {
		abort(c, http.StatusBadRequest, "until: must be after since")
		return
	}
	limit, ok := limitParam(c)
	if !ok {
		return
	}
	evs, next, err := s.opts.Store.EvidenceCreated(c.Request.Context(), since, until, c.Query("after"), limit)
	switch {
	case errors.Is(err, store.ErrNotFound):
		abort(c, http.StatusBadRequest, "after: no such case")
		return
	case err != nil:
		zerolog.Ctx(c.Request.Context()).Error().Err(err).Msg("evidence list")
		abort(c, http.StatusServiceUnavailable, "store unavailable")
		return
	}
	body := gin.H{"generated_at": time.Now().UTC(), "since": since.UTC(), "until": until.UTC(), "cases": evs}
	if next != "" {
		body["next"] = next
	}
	c.JSON(http.StatusOK, body)
}
