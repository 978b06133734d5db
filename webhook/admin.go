package webhook

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/config"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/store"
)

// adminSource is the source name events of POST /v1/offboard are recorded under.
const adminSource = config.AdminSource

// requireAdmin checks "Authorization: Bearer <OFFBOARDER_ADMIN_TOKEN>" in
// constant time; with basic true (the dashboard, for browsers) it also takes
// HTTP Basic with the token as the password. With no token configured every
// request is refused: the admin surface is never open by default.
func (s *Server) requireAdmin(basic bool) gin.HandlerFunc {
	want := []byte(s.opts.AdminToken)
	return func(c *gin.Context) {
		if status, msg := adminRefusal(c.Writer.Header(), c.Request, want, basic); status != 0 {
			abort(c, status, msg)
			return
		}
		c.Next()
	}
}

// adminRefusal is the admin surface's one token check: 0 when r presents
// want, else the status and message to answer (403 with no token
// configured; 401 with the challenge set on h, and a log line, for a
// missing or wrong one).
func adminRefusal(h http.Header, r *http.Request, want []byte, basic bool) (int, string) {
	if len(want) == 0 {
		return http.StatusForbidden, "admin API disabled: OFFBOARDER_ADMIN_TOKEN is not set"
	}
	got, ok := presentedToken(r, basic)
	if ok && len(got) > 0 && subtle.ConstantTimeCompare(got, want) == 1 {
		return 0, ""
	}
	if basic {
		h.Set("WWW-Authenticate", `Basic realm="offboarder", charset="UTF-8"`)
	} else {
		h.Set("WWW-Authenticate", `Bearer realm="offboarder"`)
	}
	zerolog.Ctx(r.Context()).Warn().Str("path", r.URL.Path).Msg("admin request refused")
	return http.StatusUnauthorized, "missing or invalid admin token"
}

func presentedToken(r *http.Request, basic bool) ([]byte, bool) {
	h := r.Header.Get("Authorization")
	scheme, value, ok := strings.Cut(h, " ")
	if !ok {
		return nil, false
	}
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		return []byte(strings.TrimSpace(value)), true
	case basic && strings.EqualFold(scheme, "Basic"):
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
		if err != nil {
			return nil, false
		}
		_, pass, ok := strings.Cut(string(raw), ":")
		return []byte(pass), ok
	}
	return nil, false
}

func (s *Server) handleListCases(c *gin.Context) {
	f := store.CaseFilter{State: offboard.State(c.Query("state"))}
	if e := c.Query("email"); e != "" {
		email, err := sources.NormalizeEmail(e)
		if err != nil {
			abort(c, http.StatusBadRequest, "email: "+err.Error())
			return
		}
		f.Email = email
	}
	switch f.State {
	case "", offboard.StateScheduled, offboard.StatePending, offboard.StateInProgress, offboard.StateCompleted,
		offboard.StateNeedsAttention, offboard.StateDismissed, offboard.StateMerged, offboard.StateAwaitingApproval, offboard.StateCancelled:
	default:
		abort(c, http.StatusBadRequest, "state: want one of scheduled, pending, awaiting_approval, in_progress, completed, needs_attention, dismissed, merged, cancelled")
		return
	}
	var ok bool
	if f.Limit, ok = limitParam(c); !ok {
		return
	}
	cases, err := s.opts.Store.ListCases(c.Request.Context(), f)
	if err != nil {
		zerolog.Ctx(c.Request.Context()).Error().Err(err).Msg("list cases")
		abort(c, http.StatusServiceUnavailable, "store unavailable")
		return
	}
	if cases == nil {
		cases = []store.Case{}
	}
	c.JSON(http.StatusOK, gin.H{"cases": cases})
}

func (s *Server) handleGetCase(c *gin.Context) {
	cs, err := s.opts.Store.GetCase(c.Request.Context(), c.Param("id"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		abort(c, http.StatusNotFound, "no such case")
		return
	case err != nil:
		zerolog.Ctx(c.Request.Context()).Error().Err(err).Msg("get case")
		abort(c, http.StatusServiceUnavailable, "store unavailable")
		return
	}
	c.JSON(http.StatusOK, cs)
}

var auditHashRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// handleVerifyAudit recomputes the audit log's whole hash chain from the
// database and answers 200 either way: {"verified": true, "head": {"seq",
// "hash"}} — the head commits to every row, so an auditor who keeps it can
// tell later that nothing up to it changed — or {"verified": false,
// "first_bad_seq", "reason"}. With ?seq=N&hash=H (a head noted earlier, an
// anchor) the chain verifies only if row N still has hash H. A malformed
// anchor is 400; a database that cannot be read is 503.
func (s *Server) handleVerifyAudit(c *gin.Context) {
	ctx := c.Request.Context()
	var anchor store.AuditHead // seq 0: none given
	if qs, qh := c.Query("seq"), c.Query("hash"); qs != "" || qh != "" {
		seq, err := strconv.ParseInt(qs, 10, 64)
		switch {
		case err != nil || seq < 1:
			abort(c, http.StatusBadRequest, "seq: want the positive seq of an audit row noted earlier, with its hash")
			return
		case !auditHashRE.MatchString(qh):
			abort(c, http.StatusBadRequest, "hash: want the 64 lower-case hex digits of that row's hash")
			return
		}
		anchor = store.AuditHead{Seq: seq, Hash: qh}
	}
	head, err := s.opts.Store.VerifyAuditAgainst(ctx, anchor)
	if bad, ok := errors.AsType[*store.AuditError](err); ok {
		zerolog.Ctx(ctx).Error().Int64("seq", bad.Seq).Str("reason", bad.Reason).Msg("audit chain does not verify")
		c.JSON(http.StatusOK, gin.H{"verified": false, "first_bad_seq": bad.Seq, "reason": bad.Reason})
		return
	}
	if err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("verify audit")
		abort(c, http.StatusServiceUnavailable, "store unavailable")
		return
	}
	body := gin.H{"verified": true, "head": head}
	if anchor.Seq > 0 {
		body["anchor"] = anchor
	}
	c.JSON(http.StatusOK, body)
}

// handleOffboard is the manual trigger: the generic body, id optional.
func (s *Server) handleOffboard(c *gin.Context) {
	body, status := readBody(c)
	if status != 0 {
		abort(c, status, http.StatusText(status))
		return
	}
	ev, err := sources.ParseGeneric(body, false)
	if err != nil {
		abort(c, http.StatusBadRequest, err.Error())
		return
	}
	if ev.ID == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		ev.ID = "manual-" + hex.EncodeToString(b[:])
	}
	log := zerolog.Ctx(c.Request.Context()).With().Str("source", adminSource).Logger()
	results, status, msg := s.ingest(c.Request.Context(), log, adminSource, []sources.Event{ev}, requestIDOf(c))
	if status != 0 {
		abort(c, status, msg)
		return
	}
	if results[0].Protected {
		refuseProtected(c, results)
		return
	}
	c.JSON(http.StatusAccepted, results[0])
}
