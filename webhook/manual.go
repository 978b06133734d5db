package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/store"
)

// Manual steps: a system with no API to end sessions by has a manual
// connector, whose entry is manual_required with the steps a person
// follows as its detail. GET /v1/manual lists the open ones; a person who
// did one says so with POST /v1/cases/{id}/entries/{connector}/attest,
// which makes the entry attested and, when it was the last thing the case
// waited for, completes the case.
//
// A step that follows another (the manual connector's after, passed in as
// Options.After) waits until that other entry is done: its instructions
// are not shown and it cannot be attested before.

// waitsFor names the entry the step of connector still waits for, and
// that entry's outcome, or "" when the step is ready: it follows nothing,
// the case has no entry for the one it follows, or that entry is done
// (final, and not itself waiting for a person).
func waitsFor(after map[string]string, connector string, outcomes map[string]offboard.Outcome) (string, offboard.Outcome) {
	a, ok := after[connector]
	if !ok {
		return "", ""
	}
	o, ok := outcomes[a]
	if !ok || (o.Final() && o != offboard.ManualRequired) {
		return "", ""
	}
	return a, o
}

// manualStep is one open manual step as GET /v1/manual lists it.
type manualStep struct {
	CaseID    string          `json:"case_id"`
	Email     string          `json:"email"`
	Reason    offboard.Reason `json:"reason"`
	CaseState offboard.State  `json:"case_state"`
	Connector string          `json:"connector"`
	// Instructions are shown once the step is ready; WaitingFor names the
	// connector whose entry it waits for until then.
	Instructions string    `json:"instructions,omitempty"`
	WaitingFor   string    `json:"waiting_for,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// handleManual lists the open manual steps, oldest first (?limit, 1 to
// 1000, default 100).
func (s *Server) handleManual(c *gin.Context) {
	limit, ok := limitParam(c)
	if !ok {
		return
	}
	entries, err := s.opts.Store.ManualEntries(c.Request.Context(), limit)
	if err != nil {
		zerolog.Ctx(c.Request.Context()).Error().Err(err).Msg("list manual steps")
		abort(c, http.StatusServiceUnavailable, "store unavailable")
		return
	}
	out := make([]manualStep, len(entries))
	for i, e := range entries {
		out[i] = manualStep{CaseID: e.CaseID, Email: e.Email, Reason: e.Reason, CaseState: e.CaseState,
			Connector: e.Connector, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
		if w, _ := waitsFor(s.opts.After, e.Connector, e.Outcomes); w != "" {
			out[i].WaitingFor = w
		} else {
			out[i].Instructions = e.Instructions
		}
	}
	c.JSON(http.StatusOK, gin.H{"entries": out})
}

// attestRequest is the body of an attestation.
type attestRequest struct {
	Who  string `json:"who"`  // the person who did the step; required
	Note string `json:"note"` // what they did, optional
}

// handleAttest records that a person did a manual step: 200 with the entry
// and the case's state; 400 for a malformed body or a missing who; 404 for
// an unknown case or a case without an entry for the connector; 409 for an
// entry that is not manual_required (naming its outcome) or a step still
// waiting for the one it follows.
func (s *Server) handleAttest(c *gin.Context) {
	ctx := c.Request.Context()
	body, status := readBody(c)
	if status != 0 {
		abort(c, status, http.StatusText(status))
		return
	}
	var req attestRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || dec.More() {
		abort(c, http.StatusBadRequest, `body: want JSON {"who": "…", "note": "…"}`)
		return
	}
	switch who := strings.TrimSpace(req.Who); {
	case who == "":
		abort(c, http.StatusBadRequest, "who: required: the person who did the step")
		return
	case utf8.RuneCountInString(who) > store.MaxAttestWho:
		abort(c, http.StatusBadRequest, "who: at most "+strconv.Itoa(store.MaxAttestWho)+" characters")
		return
	case utf8.RuneCountInString(strings.TrimSpace(req.Note)) > store.MaxAttestNote:
		abort(c, http.StatusBadRequest, "note: at most "+strconv.Itoa(store.MaxAttestNote)+" characters")
		return
	}
	caseID, connector := c.Param("id"), c.Param("connector")
	cs, err := s.opts.Store.GetCase(ctx, caseID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		abort(c, http.StatusNotFound, "no such case")
		return
	case err != nil:
		zerolog.Ctx(ctx).Error().Err(err).Msg("attest: get case")
		abort(c, http.StatusServiceUnavailable, "store unavailable")
		return
	}
	outcomes := make(map[string]offboard.Outcome, len(cs.Entries))
	for _, e := range cs.Entries {
		outcomes[e.Connector] = e.Outcome
	}
	cur, ok := outcomes[connector]
	if !ok {
		abort(c, http.StatusNotFound, "the case has no entry for connector "+strconv.Quote(connector))
		return
	}
	if w, o := waitsFor(s.opts.After, connector, outcomes); w != "" && cur == offboard.ManualRequired {
		abort(c, http.StatusConflict, "entry waits for "+w+", which is "+string(o)+": attest it once that is done")
		return
	}
	e, row, err := s.opts.Store.AttestEntry(ctx, caseID, connector, req.Who, req.Note)
	var na *store.NotAttestableError
	switch {
	case errors.As(err, &na):
		abort(c, http.StatusConflict, na.Error())
		return
	case errors.Is(err, store.ErrNotFound):
		abort(c, http.StatusNotFound, "no such case or entry")
		return
	case err != nil:
		zerolog.Ctx(ctx).Error().Err(err).Msg("attest")
		abort(c, http.StatusServiceUnavailable, "store unavailable")
		return
	}
	zerolog.Ctx(ctx).Info().Str("case_id", caseID).Str("connector", connector).
		Str("case_state", string(row.State)).Msg("manual step attested")
	if !store.IsOpen(row.State) {
		s.notifyState(ctx, row.ID, row.State)
	}
	c.JSON(http.StatusOK, gin.H{"case_id": row.ID, "case_state": row.State, "closed_at": row.ClosedAt, "entry": e})
}
