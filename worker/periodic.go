package worker

import (
	"context"
	"errors"
	"time"

	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/tasks"
)

// auditAtStart bounds the audit chain check Start makes: a long chain is
// checked by the periodic loop instead, rather than hold the start.
const auditAtStart = 10 * time.Second

// verifyAtStart checks the audit chain once, within auditAtStart, and
// returns when it checked (zero: it did not).
func (w *Worker) verifyAtStart(ctx context.Context) time.Time {
	ctx, cancel := context.WithTimeout(ctx, auditAtStart)
	defer cancel()
	if w.verifyAuditChain(ctx) {
		return time.Now()
	}
	return time.Time{}
}

// runPeriodic runs the worker's periodic duties until ctx ends: every
// RelayInterval a relay pass and the maintenance schedule, and every
// AuditLogInterval the audit chain check (the last one at lastAuditCheck;
// zero: at once).
func (w *Worker) runPeriodic(ctx context.Context, lastAuditCheck time.Time) {
	defer close(w.done)
	t := time.NewTicker(w.opts.RelayInterval)
	defer t.Stop()
	for {
		if _, err := w.Relay(ctx); err != nil && ctx.Err() == nil {
			w.log.Warn().Err(err).Msg("relay pass failed; will try again")
		}
		w.scheduleMaintenance(ctx)
		if time.Since(lastAuditCheck) >= w.opts.AuditLogInterval && w.verifyAuditChain(ctx) {
			lastAuditCheck = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// scheduleMaintenance enqueues each maintaining source's task for the
// current window of its interval (at least a minute); the task id lets one
// worker in all run it.
func (w *Worker) scheduleMaintenance(ctx context.Context) {
	now := time.Now()
	for name, m := range w.maintainers {
		iv := max(m.Interval(), time.Minute)
		if _, err := w.queue.Maintain(ctx, tasks.Maintain{Source: name}, now.Truncate(iv)); err != nil {
			w.log.Warn().Err(err).Str("source", name).Msg("enqueue maintenance")
		}
	}
}

// verifyAuditChain recomputes the whole audit chain, checks that the head this
// process verified last still holds, and logs the new head (seq and hash;
// neither is a secret). A log shipped out of the machine then holds
// anchors: a chain rewritten in the database, hashes recomputed, no longer
// reaches them (GET /v1/audit/verify?seq=&hash= checks one), and a rewrite
// of rows this process verified is found here; an edited row is found by
// the recomputation. A chain that does not verify is logged as an error at
// every check until a person looks. The cost grows with the log: one read
// of every audit row an hour. It reports whether it checked.
func (w *Worker) verifyAuditChain(ctx context.Context) bool {
	head, err := w.opts.Store.VerifyAuditAgainst(ctx, w.verified)
	if bad, ok := errors.AsType[*store.AuditError](err); ok {
		w.log.Error().Int64("audit_seq", bad.Seq).Str("reason", bad.Reason).
			Msg("the audit chain does not verify: rows were changed or removed in the database")
		w.opts.Metrics.auditChecked(false, 0)
		return true
	}
	if err != nil {
		if ctx.Err() == nil {
			w.log.Warn().Err(err).Msg("cannot verify the audit chain; will try again")
		}
		return false
	}
	w.verified = head
	w.log.Info().Int64("audit_seq", head.Seq).Str("audit_hash", head.Hash).Msg("audit head")
	w.opts.Metrics.auditChecked(true, head.Seq)
	return true
}
