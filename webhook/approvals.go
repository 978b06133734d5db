package webhook

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/store"
)

// Approvals: the blast-radius guard (policy.hold_after) holds new cases as
// awaiting_approval when more open than it allows within its window.
// GET /v1/approvals lists them, oldest first; POST /v1/approvals releases
// them, all or by id, naming who approved.

// approveRequest is the body of POST /v1/approvals.
type approveRequest struct {
	All     bool     `json:"all"`
	CaseIDs []string `json:"case_ids"`
	Who     string   `json:"who"`  // required
	Note    string   `json:"note"` // optional
}

// handleListApprovals lists the held cases, oldest first (?limit, 1 to
// 1000, default 100).
func (s *Server) handleListApprovals(c *gin.Context) {
	limit, ok := limitParam(c)
	if !ok {
		return
	}
	cases, err := s.opts.Store.HeldCases(c.Request.Context(), limit)
	if err != nil {
		zerolog.Ctx(c.Request.Context()).Error().Err(err).Msg("list held cases")
		abort(c, http.StatusServiceUnavailable, "store unavailable")
		return
	}
	c.JSON(http.StatusOK, gin.H{"cases": cases})
}

// handleApprove releases held cases: 200 with the released cases, the ids
// that name no case and the cases that were not held (with their state);
// 400 for a malformed body, a missing who, neither or both of all and
// case_ids, or too many ids. The released cases' offboard tasks are
// enqueued after the commit (the relay does it if Redis cannot).
func (s *Server) handleApprove(c *gin.Context) {
	ctx := c.Request.Context()
	body, status := readBody(c)
	if status != 0 {
		abort(c, status, http.StatusText(status))
		return
	}
	var req approveRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || dec.More() {
		abort(c, http.StatusBadRequest, `body: want JSON {"all": true} or {"case_ids": ["…"]}, with "who" and an optional "note"`)
		return
	}
	switch who := strings.TrimSpace(req.Who); {
	case who == "":
		abort(c, http.StatusBadRequest, "who: required: the person who approves")
		return
	case utf8.RuneCountInString(who) > store.MaxAttestWho:
		abort(c, http.StatusBadRequest, "who: at most "+strconv.Itoa(store.MaxAttestWho)+" characters")
		return
	case utf8.RuneCountInString(strings.TrimSpace(req.Note)) > store.MaxAttestNote:
		abort(c, http.StatusBadRequest, "note: at most "+strconv.Itoa(store.MaxAttestNote)+" characters")
		return
	case req.All == (len(req.CaseIDs) > 0):
		abort(c, http.StatusBadRequest, `give either "all": true or "case_ids", not both`)
		return
	case len(req.CaseIDs) > store.MaxApprovalIDs:
		abort(c, http.StatusBadRequest, "case_ids: at most "+strconv.Itoa(store.MaxApprovalIDs))
		return
	}
	res, err := s.intake.Approve(ctx, store.Approval{All: req.All, CaseIDs: req.CaseIDs, Who: req.Who, Note: req.Note})
	if err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("approve")
		abort(c, http.StatusServiceUnavailable, "store unavailable")
		return
	}
	zerolog.Ctx(ctx).Info().Int("released", len(res.Released)).Int("not_found", len(res.NotFound)).
		Int("not_held", len(res.NotHeld)).Msg("held cases approved")
	c.JSON(http.StatusOK, res)
}
