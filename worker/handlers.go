package worker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"
	"github.com/sethvargo/go-retry"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/tasks"
	"github.com/offboarder/offboarder/vendorapi"
)

const actor = "worker"

// recordPatience bounds how long a revoke waits for the database to record
// an outcome the vendor has already given.
const recordPatience = 15 * time.Second

// handleOffboard fans a due case out: one entry per connector (skipped on a
// dry run), then one revoke task per pending entry. Every step is idempotent,
// so a re-run after a lost lease or a relay re-enqueue does no harm.
func (w *Worker) handleOffboard(ctx context.Context, t *asynq.Task) error {
	var p tasks.Offboard
	if err := tasks.Decode(t, &p); err != nil {
		return permanent(err)
	}
	log := zerolog.Ctx(ctx).With().Str("case_id", p.CaseID).Logger()
	c, first, err := w.opts.Store.CaseWithFirstEvent(ctx, p.CaseID)
	if errors.Is(err, store.ErrNotFound) {
		return permanent(fmt.Errorf("offboard: case %s not found", p.CaseID))
	}
	if err != nil {
		return err
	}
	if !store.IsOpen(c.State) {
		return nil // closed
	}
	if c.State == offboard.StateAwaitingApproval {
		log.Info().Msg("case awaits approval; not fanned out") // an approval enqueues it again
		return nil
	}
	if c.Email == "" {
		// An id-only event: the sender's API says who it is, and whether
		// they leave.
		if c, err = w.resolve(ctx, log, c, first); c == nil || err != nil {
			return err
		}
	}
	if w.opts.Intake.Protected[c.Email] && c.State != offboard.StateInProgress {
		// Not fanned out yet (a case fanned out before the account was
		// protected runs its course).
		log.Warn().Msg("protected account (policy.protected): case dismissed, nothing revoked")
		return w.closeCase(ctx, c.ID, offboard.StateDismissed, protectedWhy)
	}
	if wait := time.Until(c.EffectiveAt); wait > time.Second {
		// Not due: make sure the task for its effective time exists, and stop.
		_, err := w.queue.Offboard(ctx, tasks.Offboard{CaseID: c.ID, EffectiveAt: c.EffectiveAt})
		return err
	}

	c, err = w.opts.Store.FanOutPlans(ctx, c.ID, w.plans(c), actor)
	if err != nil {
		return err
	}
	var queued int
	for _, e := range c.Entries {
		if e.Outcome != offboard.Pending {
			continue
		}
		ok, err := w.queue.Revoke(ctx, tasks.Revoke{CaseID: c.ID, Connector: e.Connector})
		if err != nil {
			return fmt.Errorf("offboard: enqueue revoke %s: %w", e.Connector, err)
		}
		if ok {
			queued++
		}
	}
	log.Info().Int("entries", len(c.Entries)).Int("queued", queued).Str("state", string(c.State)).Msg("case fanned out")
	return nil
}

// protectedWhy is the reason a protected account's case is dismissed with.
const protectedWhy = "policy: protected account (policy.protected), never offboarded"

// plans are the entries a due case fans out into: one per connector (the
// case's systems, or every one), pending — or skipped on a dry run, and
// skipped with a detail for a connector policy.reasons does not run for
// the case's reason.
func (w *Worker) plans(c *store.Case) map[string]store.Plan {
	names := c.Systems
	if names == nil {
		names = w.names
	}
	allowed, limited := w.opts.Reasons[c.Reason]
	out := make(map[string]store.Plan, len(names))
	for _, name := range names {
		p := store.Plan{Outcome: offboard.Pending}
		switch {
		case limited && !slices.Contains(allowed, name):
			p = store.Plan{Outcome: offboard.Skipped, Detail: "policy: not run for reason " + string(c.Reason)}
		case c.DryRun || w.opts.DryRun:
			p.Outcome = offboard.Skipped
		}
		out[name] = p
	}
	return out
}

// handleRevoke runs one connector for one case and records what happened:
// an outcome, a retry (returning the error so asynq retries, honouring the
// vendor's Retry-After), or a permanent failure (archived, never retried).
func (w *Worker) handleRevoke(ctx context.Context, t *asynq.Task) error {
	var p tasks.Revoke
	if err := tasks.Decode(t, &p); err != nil {
		return permanent(err)
	}
	log := zerolog.Ctx(ctx).With().Str("case_id", p.CaseID).Str("connector", p.Connector).Logger()
	entry, c, err := w.opts.Store.BeginAttempt(ctx, p.CaseID, p.Connector)
	if errors.Is(err, store.ErrNotFound) {
		return permanent(fmt.Errorf("revoke: %w", err)) // no such case, or no entry for the connector
	}
	if err != nil {
		return err
	}
	if entry.Outcome != offboard.Pending {
		return nil // done before: a re-run after a lost lease, or a relay duplicate
	}
	conn, ok := w.conns[p.Connector]
	if !ok {
		return w.finish(ctx, log, c, p.Connector, offboard.Failed, "connector is not configured in this worker", true)
	}

	start := time.Now()
	rctx, detail := connectors.WithReport(ctx)
	outcome, rerr := conn.Revoke(rctx, offboard.Subject{Email: c.Email, IDs: c.SubjectIDs, Reason: c.Reason, Case: c.ID})
	w.opts.Metrics.observeCall(p.Connector, time.Since(start), rerr)
	if rerr == nil {
		if !outcome.Final() {
			rerr = fmt.Errorf("%s: connector answered no outcome", p.Connector)
		} else {
			return w.finish(ctx, log, c, p.Connector, outcome, detail(), false)
		}
	}
	if ctx.Err() != nil {
		// Shutdown or task timeout: asynq puts the task back; nothing is final.
		return rerr
	}
	retry, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	if vendorapi.Retryable(rerr) && (retry < maxRetry || !IsFailure(rerr)) {
		if err := w.opts.Store.RecordRetry(ctx, p.CaseID, p.Connector, rerr.Error()); err != nil {
			log.Error().Err(err).Msg("record retry")
		}
		log.Warn().Err(rerr).Dur("retry_after", vendorapi.RetryAfter(rerr)).Msg("revoke failed; will retry")
		return rerr
	}
	return w.finish(ctx, log, c, p.Connector, offboard.Failed, rerr.Error(), true)
}

// finish records a final outcome. A failure is returned wrapped in SkipRetry
// so that asynq archives the task with the reason; if the store cannot record
// the outcome, the error is returned plainly so that the task is retried.
//
// The vendor has already acted when finish runs, so a database that is
// briefly away (a restart, a failover) is waited for, within
// recordPatience, rather than answered with a retry of the whole task that
// would call the vendor again.
func (w *Worker) finish(ctx context.Context, log zerolog.Logger, c *store.Case, connector string, outcome offboard.Outcome, detail string, failed bool) error {
	b := retry.WithMaxDuration(recordPatience, retry.WithCappedDuration(2*time.Second, retry.NewExponential(100*time.Millisecond)))
	err := retry.Do(ctx, b, func(ctx context.Context) error {
		_, err := w.opts.Store.RecordOutcome(ctx, c.ID, connector, outcome, detail)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			log.Warn().Err(err).Str("outcome", string(outcome)).Msg("record outcome failed; trying again")
			return retry.RetryableError(err)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("revoke: record outcome: %w", err)
	}
	w.opts.Metrics.observeOutcome(connector, outcome, c.CreatedAt)
	ev := log.Info()
	if failed {
		ev = log.Error().Str("error", detail)
	}
	ev.Str("outcome", string(outcome)).Msg("revoke finished")
	if failed {
		return permanent(errors.New(detail))
	}
	return nil
}
