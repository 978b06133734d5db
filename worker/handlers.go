package worker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
	"github.com/offboarder/offboarder/vendorapi/ratelimit"
)

const actor = "worker"

// recordPatience bounds how long a revoke waits for the database to record
// an outcome the vendor has already given; after it the task is retried,
// and the re-run records the answer kept in Redis (settle) without calling
// the vendor again.
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
		_, err := w.queue.Offboard(ctx, tasks.Offboard{CaseID: c.ID, EffectiveAt: c.EffectiveAt, Security: c.Security})
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
		ok, err := w.queue.Revoke(ctx, tasks.Revoke{CaseID: c.ID, Connector: e.Connector, Security: c.Security})
		if err != nil {
			return fmt.Errorf("offboard: enqueue revoke %s: %w", e.Connector, err)
		}
		if ok {
			queued++
		}
	}
	log.Info().Int("entries", len(c.Entries)).Int("queued", queued).Str("state", string(c.State)).Msg("case fanned out")
	if !store.IsOpen(c.State) {
		// Every entry final at once (a dry run, no connector): closed here.
		return w.notifyState(ctx, c.ID, c.State)
	}
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
	if entry.Outcome == offboard.Failed {
		// The dashboard's Run on the archived task (or a re-run after a
		// lost lease): running it would not record who asked, so it is
		// archived again, saying how to retry.
		return permanent(fmt.Errorf("revoke: the entry is already failed; %s", retryHint(p.CaseID, p.Connector)))
	}
	if entry.Outcome != offboard.Pending {
		// Done before: a re-run after a lost lease, or a relay duplicate. A
		// closed case's notifications are enqueued again in case the run
		// that closed it could not (task ids keep this from sending twice).
		if !store.IsOpen(c.State) && w.queue.Notifies(c.State) {
			return w.notifyState(ctx, c.ID, c.State)
		}
		return nil
	}
	conn, ok := w.conns[p.Connector]
	if !ok {
		return w.finish(ctx, log, c, p.Connector, offboard.Failed, "connector is not configured in this worker", true, nil)
	}
	if k, ok, err := w.kept(ctx, c.ID, p.Connector); err != nil {
		return err // Redis is away: so is the task's retry; nothing is called
	} else if ok {
		// The vendor answered an earlier run, and the database could not
		// record it then: record that answer, without calling again.
		log.Info().Str("outcome", string(k.Outcome)).Msg("recording the vendor's kept answer; the vendor is not called again")
		return w.settle(ctx, log, c, p.Connector, k.Outcome, k.Detail, k.Failed, k.attempt(c.ID, p.Connector))
	}

	start := time.Now()
	rctx, detail := connectors.WithReport(ctx)
	rctx = ratelimit.WithCaller(rctx) // once under way, not turned away for a full line
	if c.Security || c.Reason == offboard.ReasonSecurity {
		// A security case (its own reason, or a security event before its
		// fan-out) is not behind a layoff's backlog (rate_limit).
		rctx = ratelimit.WithPriority(rctx)
	}
	outcome, rerr := conn.Revoke(rctx, offboard.Subject{Email: c.Email, IDs: c.SubjectIDs, Reason: c.Reason, Case: c.ID})
	took := time.Since(start)
	w.opts.Metrics.observeCall(p.Connector, took, rerr)
	attempt := store.Attempt{CaseID: c.ID, Connector: p.Connector, N: entry.Attempts, StartedAt: start, Duration: took}
	if rerr == nil {
		if !outcome.Final() {
			rerr = fmt.Errorf("%s: connector answered no outcome", p.Connector)
		} else {
			return w.settle(ctx, log, c, p.Connector, outcome, detail(), false, attempted(attempt, string(outcome), nil))
		}
	}
	if ctx.Err() != nil {
		// Shutdown or task timeout: asynq puts the task back; nothing is final.
		a := attempted(attempt, "interrupted", rerr)
		if err := w.opts.Store.RecordAttempt(context.WithoutCancel(ctx), *a); err != nil {
			log.Warn().Err(err).Msg("attempt not kept for the evidence")
		}
		return rerr
	}
	if te, ok := vendorapi.Turn(rerr); ok {
		// The connector's rate_limit gave no turn before the deadline:
		// waiting is not a failure. No attempt is recorded, the retry
		// window is not looked at, and asynq's retry count is kept
		// (IsFailure); the task runs again when its turn is about due.
		_, after := nextAttempt(time.Now(), turnDelay(te.After))
		log.Info().Dur("retry_after", after).Msg("waiting for a turn under rate_limit; rescheduled")
		return &scheduled{err: rerr, after: after}
	}
	retry, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	if vendorapi.Retryable(rerr) && (retry < maxRetry || !IsFailure(rerr)) {
		// Bounded by time: retried until the connector's retry window,
		// from the entry's first attempt, is spent.
		window, since := w.retryFor(p.Connector), start
		if entry.StartedAt != nil {
			since = *entry.StartedAt
		}
		if time.Since(since) < window {
			next, after := nextAttempt(time.Now(), w.retryDelay(retry, rerr, t))
			if err := w.opts.Store.RecordAttemptRetry(ctx, *attempted(attempt, "retry", rerr), rerr.Error(), next); err != nil {
				log.Error().Err(err).Msg("record retry")
			}
			log.Warn().Err(rerr).Dur("retry_after", vendorapi.RetryAfter(rerr)).Time("next_attempt_at", next).Msg("revoke failed; will retry")
			return &scheduled{err: rerr, after: after}
		}
		rerr = windowSpent(window, since, rerr)
	}
	return w.settle(ctx, log, c, p.Connector, offboard.Failed, rerr.Error(), true, attempted(attempt, string(offboard.Failed), rerr))
}

// settle records what the vendor answered, as finish does, keeping the
// answer in Redis until the database has recorded it: if the database
// stays away longer than recordPatience, the task's re-run records the
// kept answer instead of calling the vendor a second time.
func (w *Worker) settle(ctx context.Context, log zerolog.Logger, c *store.Case, connector string, outcome offboard.Outcome, detail string, failed bool, a *store.Attempt) error {
	w.keep(ctx, log, outcome, detail, failed, a)
	err := w.finish(ctx, log, c, connector, outcome, detail, failed, a)
	if err == nil || errors.Is(err, asynq.SkipRetry) {
		w.forget(ctx, log, c.ID, connector)
	}
	return err
}

// attempted completes a for the case's evidence: its result, the vendor's
// status (200 for an outcome, the error's status, 0 without an answer) and
// the error's text.
func attempted(a store.Attempt, result string, err error) *store.Attempt {
	a.Result = result
	if err == nil {
		a.StatusCode = http.StatusOK
		return &a
	}
	if ve, ok := errors.AsType[*vendorapi.Error](err); ok {
		a.StatusCode = ve.Status
	}
	a.Error = err.Error()
	return &a
}

// finish records a final outcome. A failure is returned wrapped in SkipRetry
// so that asynq archives the task with the reason; if the store cannot record
// the outcome, the error is returned plainly so that the task is retried.
//
// The vendor has already acted when finish runs, so a database that is
// briefly away (a restart, a failover) is waited for, within
// recordPatience, rather than answered with a retry of the whole task that
// would call the vendor again. a, when not nil, is the attempt that gave
// the outcome, kept with it in one transaction.
func (w *Worker) finish(ctx context.Context, log zerolog.Logger, c *store.Case, connector string, outcome offboard.Outcome, detail string, failed bool, a *store.Attempt) error {
	b := retry.WithMaxDuration(recordPatience, retry.WithCappedDuration(2*time.Second, retry.NewExponential(100*time.Millisecond)))
	err := retry.Do(ctx, b, func(ctx context.Context) error {
		var err error
		if a != nil {
			_, err = w.opts.Store.RecordAttemptOutcome(ctx, *a, outcome, detail)
		} else {
			_, err = w.opts.Store.RecordOutcome(ctx, c.ID, connector, outcome, detail)
		}
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
	w.notifyClosed(ctx, log, c.ID)
	ev := log.Info()
	if failed {
		ev = log.Error().Str("error", detail)
	}
	ev.Str("outcome", string(outcome)).Msg("revoke finished")
	if failed {
		return permanent(fmt.Errorf("%s; %s", detail, retryHint(c.ID, connector)))
	}
	return nil
}

// retryHint is what the error of an archived revoke task tells the person
// who reads it in the dashboard: the dashboard's Run does not retry a
// failed entry (it has no one to audit); the admin API and the CLI do.
func retryHint(caseID, connector string) string {
	return fmt.Sprintf("to try again, retry the entry: offboarder cases retry %s --connector %s --who NAME (POST /v1/cases/%s/entries/%s/retry)",
		caseID, connector, caseID, connector)
}

// notifyClosed enqueues the notifications of a case that an outcome may
// have closed. Only when some closed state is notified is the case read
// again. Best effort: a Redis that cannot take the task now is logged, and
// a re-run of the revoke (which sees the entry final) enqueues it again.
func (w *Worker) notifyClosed(ctx context.Context, log zerolog.Logger, caseID string) {
	if !w.queue.Notifies(offboard.StateNeedsAttention) && !w.queue.Notifies(offboard.StateCompleted) {
		return
	}
	row, err := w.opts.Store.CaseRow(ctx, caseID)
	if err == nil && !store.IsOpen(row.State) {
		err = w.notifyState(ctx, caseID, row.State)
	}
	if err != nil {
		log.Error().Err(err).Msg("notifications of the closed case not enqueued")
	}
}
