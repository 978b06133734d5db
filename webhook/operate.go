package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/tasks"
)

// What a person does to a case through the admin API besides attesting:
// retry a failed entry (POST /v1/cases/{id}/entries/{connector}/retry),
// which reopens it and queues its revoke again, and cancel a case before
// revocation starts (POST /v1/cases/{id}/cancel), which closes it and
// removes its offboard task. Both take JSON {"who": "…", "note": "…"},
// who required, and are audited with both.

// operatorQueue is the Queue a retry and a cancellation use: with an
// inspector of the server's Redis, so that a retry's revoke replaces the
// archived task that holds its id (tasks.Queue.EnsureRevoke) and a
// cancellation deletes the case's scheduled task.
func (s *Server) operatorQueue() *tasks.Queue {
	set := tasks.Settings{RevokeMaxRetry: s.opts.RevokeMaxRetry}
	if s.opts.Redis != nil {
		set.Inspector = asynq.NewInspector(s.opts.Redis)
		s.closers = append(s.closers, set.Inspector.Close)
	}
	return tasks.NewQueue(s.opts.Queue, set)
}

// operatorRequest is the body of a retry or a cancellation.
type operatorRequest struct {
	Who  string `json:"who"`  // the person who asks; required
	Note string `json:"note"` // why, optional
}

// readOperator reads and checks an operatorRequest, answering 400 (or 413)
// itself when it is not one; what names the request in the message.
func readOperator(c *gin.Context, what string) (operatorRequest, bool) {
	var req operatorRequest
	body, status := readBody(c)
	if status != 0 {
		abort(c, status, http.StatusText(status))
		return req, false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || dec.More() {
		abort(c, http.StatusBadRequest, `body: want JSON {"who": "…", "note": "…"}`)
		return req, false
	}
	switch who := strings.TrimSpace(req.Who); {
	case who == "":
		abort(c, http.StatusBadRequest, "who: required: the person who asks for the "+what)
		return req, false
	case utf8.RuneCountInString(who) > store.MaxAttestWho:
		abort(c, http.StatusBadRequest, "who: at most "+strconv.Itoa(store.MaxAttestWho)+" characters")
		return req, false
	case utf8.RuneCountInString(strings.TrimSpace(req.Note)) > store.MaxAttestNote:
		abort(c, http.StatusBadRequest, "note: at most "+strconv.Itoa(store.MaxAttestNote)+" characters")
		return req, false
	}
	return req, true
}

// refused answers the store's refusals of a retry or a cancellation (404,
// 409 naming the outcome or the state, 503) and reports whether it did.
func refused(c *gin.Context, err error, what string) bool {
	var (
		nr *store.NotRetryableError
		se *store.CaseStateError
		oc *store.OpenCaseError
	)
	switch {
	case err == nil:
		return false
	case errors.As(err, &nr):
		abort(c, http.StatusConflict, nr.Error())
	case errors.As(err, &se):
		abort(c, http.StatusConflict, se.Error())
	case errors.As(err, &oc):
		c.AbortWithStatusJSON(http.StatusConflict, gin.H{"error": oc.Error(), "open_case_id": oc.CaseID})
	case errors.Is(err, store.ErrNotFound):
		abort(c, http.StatusNotFound, "no such case")
	default:
		zerolog.Ctx(c.Request.Context()).Error().Err(err).Msg(what)
		abort(c, http.StatusServiceUnavailable, "store unavailable")
	}
	return true
}

// handleRetry reopens a failed entry and queues its revoke again: 200 with
// the entry, the case's state and whether the task was queued (if Redis
// did not take it, the relay queues it, the entry being pending); 400 for
// a malformed body or a missing who; 404 for an unknown case or a case
// without an entry for the connector; 409 for an entry that is not failed
// (naming its outcome), a case closed for another reason (naming its
// state) or a subject with another case open (naming it).
func (s *Server) handleRetry(c *gin.Context) {
	ctx := c.Request.Context()
	req, ok := readOperator(c, "retry")
	if !ok {
		return
	}
	caseID, connector := c.Param("id"), c.Param("connector")
	if _, err := s.opts.Store.CaseRow(ctx, caseID); refused(c, err, "retry: get case") {
		return
	}
	e, row, queued, err := s.retryEntry(ctx, caseID, connector, req.Who, req.Note)
	if errors.Is(err, store.ErrNotFound) {
		abort(c, http.StatusNotFound, "the case has no entry for connector "+strconv.Quote(connector))
		return
	}
	if refused(c, err, "retry") {
		return
	}
	c.JSON(http.StatusOK, gin.H{"case_id": row.ID, "case_state": row.State, "entry": e, "queued": queued})
}

// retryEntry reopens a failed entry and queues its revoke again, within
// the enqueue timeout (if Redis does not take it, the relay queues it, the
// entry being pending): what POST …/retry and the page's retry button share.
func (s *Server) retryEntry(ctx context.Context, caseID, connector, who, note string) (store.Entry, *store.Case, bool, error) {
	e, row, err := s.opts.Store.RetryEntry(ctx, caseID, connector, who, note)
	if err != nil {
		return e, row, false, err
	}
	log := zerolog.Ctx(ctx).With().Str("case_id", caseID).Str("connector", connector).Logger()
	queued := false
	if s.opts.Queue != nil {
		qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.EnqueueTimeout)
		queued, err = s.ops.EnsureRevoke(qctx, tasks.Revoke{CaseID: caseID, Connector: connector, Security: row.Security})
		cancel()
		if err != nil {
			log.Warn().Err(err).Msg("retry: enqueue revoke failed; the relay will queue it")
		}
	}
	log.Info().Str("case_state", string(row.State)).Bool("queued", queued).Msg("entry retried")
	return e, row, queued, nil
}

// handleCancel calls off a scheduled or pending case and removes its
// offboard tasks from Redis: 200 with the case's state, closed_at and
// closed_reason, and how many tasks were removed (a task left behind, as
// when Redis is away, finds the case cancelled and does nothing); 400 for
// a malformed body or a missing who; 404 for an unknown case; 409 once
// revocation started or the case closed, naming its state.
func (s *Server) handleCancel(c *gin.Context) {
	ctx := c.Request.Context()
	req, ok := readOperator(c, "cancellation")
	if !ok {
		return
	}
	caseID := c.Param("id")
	row, removed, err := s.cancelCase(ctx, caseID, req.Who, req.Note)
	if refused(c, err, "cancel") {
		return
	}
	c.JSON(http.StatusOK, gin.H{"case_id": row.ID, "case_state": row.State, "closed_at": row.ClosedAt,
		"closed_reason": row.ClosedReason, "tasks_removed": removed})
}

// cancelCase calls off a scheduled or pending case and removes its
// offboard tasks (a task left behind, as when Redis is away, finds the
// case cancelled and does nothing): what POST …/cancel and the page's
// cancel button share.
func (s *Server) cancelCase(ctx context.Context, caseID, who, note string) (*store.Case, int, error) {
	row, times, err := s.opts.Store.CancelCase(ctx, caseID, who, note)
	if err != nil {
		return row, 0, err
	}
	log := zerolog.Ctx(ctx).With().Str("case_id", caseID).Logger()
	removed, err := s.ops.RemoveOffboard(caseID, times)
	if err != nil {
		log.Warn().Err(err).Msg("cancel: removing the offboard task failed; it will find the case cancelled")
	}
	log.Info().Int("tasks_removed", removed).Msg("case cancelled")
	return row, removed, nil
}
