package webhook

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/intake"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
)

// accepted is the 202 body: the case the event went to and whether it was a
// repeat of an event already recorded.
type accepted struct {
	CaseID    string         `json:"case_id"`
	Duplicate bool           `json:"duplicate"`
	State     offboard.State `json:"state"`
	// Protected is set for an account policy.protected lists: the event
	// is recorded on a case closed at once as dismissed, nothing revoked.
	Protected bool `json:"protected,omitempty"`
}

// refuseProtected answers 422 for a delivery with an event for a protected
// account (policy.protected): every event of it is recorded, the
// protected ones on a case closed at once as dismissed, and nothing is
// revoked for them; the body lists the cases.
func refuseProtected(c *gin.Context, results []accepted) {
	c.AbortWithStatusJSON(http.StatusUnprocessableEntity, gin.H{
		"error": "protected account (policy.protected): recorded, not offboarded", "cases": results,
	})
}

func (s *Server) handleWebhook(c *gin.Context) {
	src, ok := s.sources[c.Param("source")]
	if !ok {
		abort(c, http.StatusNotFound, "unknown source")
		return
	}
	log := zerolog.Ctx(c.Request.Context()).With().Str("source", src.Name()).Logger()
	count := func(result string) { s.metrics.deliveries.WithLabelValues(src.Name(), result).Inc() }

	body, status := readBody(c)
	if status != 0 {
		count("malformed")
		abort(c, status, http.StatusText(status))
		return
	}
	req := &sources.Request{Context: c.Request.Context(), Method: c.Request.Method, Header: c.Request.Header, Query: c.Request.URL.Query(), Body: body}
	if resp, ok := src.Handshake(req); ok {
		c.Data(resp.Status, resp.ContentType, resp.Body)
		return
	}
	if c.Request.Method != http.MethodPost {
		abort(c, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	if err := src.Verify(req); err != nil {
		count("unauthorized")
		log.Warn().Err(err).Msg("webhook refused")
		if !answerError(c, err) {
			abort(c, http.StatusUnauthorized, "invalid or missing signature")
		}
		return
	}
	d, err := src.Parse(req)
	if err != nil {
		count("malformed")
		log.Info().Err(err).Msg("webhook malformed")
		if !answerError(c, err) {
			abort(c, http.StatusBadRequest, err.Error())
		}
		return
	}
	if len(d.Events) == 0 {
		if d.WithoutEmail {
			count("subject_without_email")
			log.Warn().Str("why", d.Ignored).Msg("subject without email")
		} else {
			count("ignored")
		}
		status := http.StatusOK
		if i, ok := src.(sources.IgnoreStatuser); ok {
			status = i.IgnoreStatus()
		}
		c.JSON(status, gin.H{"status": "ignored", "reason": d.Ignored})
		return
	}
	results, status, msg := s.ingest(c.Request.Context(), log, src.Name(), d.Events, requestIDOf(c))
	if status != 0 {
		count(map[int]string{http.StatusBadRequest: "malformed", http.StatusServiceUnavailable: "store_error"}[status])
		abort(c, status, msg)
		return
	}
	protected := false
	for _, r := range results {
		switch {
		case r.Protected:
			protected = true
			count("protected")
		case r.Duplicate:
			count("duplicate")
		default:
			count("accepted")
		}
	}
	if protected {
		refuseProtected(c, results)
		return
	}
	status = http.StatusAccepted
	if a, ok := src.(sources.AcceptStatuser); ok {
		status = a.AcceptStatus()
	}
	if status == http.StatusNoContent {
		c.Status(status)
		return
	}
	if len(results) == 1 {
		c.JSON(status, results[0])
		return
	}
	c.JSON(status, gin.H{"cases": results})
}

// answerError writes the answer a source's protocol prescribes for err, if
// it carries one.
func answerError(c *gin.Context, err error) bool {
	var re *sources.ResponseError
	if !errors.As(err, &re) {
		return false
	}
	c.Data(re.Response.Status, re.Response.ContentType, re.Response.Body)
	c.Abort()
	return true
}

// readBody reads the whole body under the cap, once. It answers a status
// (413, 400) instead of a body when it cannot.
func readBody(c *gin.Context) ([]byte, int) {
	if c.Request.ContentLength > MaxBody {
		return nil, http.StatusRequestEntityTooLarge
	}
	b, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, http.StatusRequestEntityTooLarge
	case err != nil:
		return nil, http.StatusBadRequest
	}
	return b, 0
}

// ingest checks the events' systems and takes each event in (commit, then
// enqueue the offboard task of each new or brought-forward case). A commit
// failure is a 503 (the sender retries; events already committed are
// deduplicated then), and so is a commit that does not end within
// IngestTimeout, counted from the first event's commit. An enqueue failure
// is not: the event is committed and the relay creates the task once Redis
// is back.
func (s *Server) ingest(ctx context.Context, log zerolog.Logger, source string, events []sources.Event, requestID string) ([]accepted, int, string) {
	for _, ev := range events {
		if unknown := s.unknownSystems(ev.Systems); len(unknown) > 0 {
			return nil, http.StatusBadRequest, "systems: not configured: " + strings.Join(unknown, ", ")
		}
	}
	origin := intake.Origin{Source: source, Actor: "source:" + source, RequestID: requestID, ReceivedAt: time.Now().UTC()}
	if source == adminSource {
		origin.Actor = "admin"
	}
	out := make([]accepted, 0, len(events))
	commitBy := time.Now().Add(s.opts.IngestTimeout)
	for _, ev := range events {
		res, err := s.take(ctx, commitBy, origin, ev)
		if err != nil {
			log.Error().Err(err).Msg("store: could not record the event")
			return nil, http.StatusServiceUnavailable, "store unavailable; retry later"
		}
		l := log.With().Str("case_id", res.CaseID).Str("event_id", ev.ID).Logger()
		if res.EnqueueErr != nil {
			s.metrics.deliveries.WithLabelValues("-", "enqueue_error").Inc()
			l.Warn().Err(res.EnqueueErr).Msg("enqueue failed; the event is committed and the relay will queue it")
		}
		if res.Duplicate {
			l.Info().Msg("duplicate delivery")
		} else {
			l.Info().Bool("new_case", res.NewCase).Str("reason", string(ev.Reason)).Str("state", string(res.State)).Msg("event accepted")
		}
		if res.Protected {
			l.Warn().Msg("event for a protected account (policy.protected): recorded, not offboarded")
		}
		out = append(out, accepted{CaseID: res.CaseID, Duplicate: res.Duplicate, State: res.State, Protected: res.Protected})
	}
	return out, 0, ""
}

func (s *Server) unknownSystems(systems []string) []string {
	var out []string
	for _, name := range systems {
		if !s.conns[name] {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// take takes ev in with its commit bounded by commitBy. The deadline is
// the commit's alone: the enqueue after it has its own timeout
// (EnqueueTimeout), detached from the caller's.
func (s *Server) take(ctx context.Context, commitBy time.Time, origin intake.Origin, ev sources.Event) (intake.Result, error) {
	ctx, cancel := context.WithDeadline(ctx, commitBy)
	defer cancel()
	return s.intake.Take(ctx, origin, ev)
}
