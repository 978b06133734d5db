package worker

import (
	"context"
	"errors"
	"time"

	"github.com/hibiken/asynq"

	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/tasks"
)

// relayBatch bounds one relay pass; the next pass takes the rest.
const relayBatch = 500

func (w *Worker) relayLoop(ctx context.Context) {
	defer close(w.done)
	t := time.NewTicker(w.opts.RelayInterval)
	defer t.Stop()
	var logged time.Time // when the audit chain was last checked
	for {
		if _, err := w.Relay(ctx); err != nil && ctx.Err() == nil {
			w.log.Warn().Err(err).Msg("relay pass failed; will try again")
		}
		w.enqueueMaintenance(ctx)
		if time.Since(logged) >= w.opts.AuditLogInterval && w.checkAudit(ctx) {
			logged = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// checkAudit recomputes the whole audit chain, checks that the head this
// process verified last still holds, and logs the new head (seq and hash;
// neither is a secret). A log shipped out of the machine then holds
// anchors: a chain rewritten in the database, hashes recomputed, no longer
// reaches them (GET /v1/audit/verify?seq=&hash= checks one), and a rewrite
// of rows this process verified is found here; an edited row is found by
// the recomputation. A chain that does not verify is logged as an error at
// every check until a person looks. The cost grows with the log: one read
// of every audit row an hour. It reports whether it checked.
func (w *Worker) checkAudit(ctx context.Context) bool {
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

// Relay makes sure every piece of work the database holds has its task in
// Redis: an offboard task for each scheduled or pending case, a revoke task
// for each pending entry. Task ids make this idempotent; it returns how many
// tasks it had to create (work Redis had lost, or never got).
//
// A task id that exists only as an archived or completed task while the
// database still says pending (the store was down when the outcome was to be
// written) is deleted and enqueued again, so no entry stays stuck.
func (w *Worker) Relay(ctx context.Context) (int, error) {
	cases, entries, err := w.opts.Store.Due(ctx, relayBatch)
	if err != nil {
		return 0, err
	}
	var created int
	for _, c := range cases {
		ok, err := w.ensure(ctx, tasks.QueueOffboard, tasks.NewOffboard(tasks.Offboard{CaseID: c.CaseID, EffectiveAt: c.EffectiveAt}), tasks.OffboardID(c.CaseID, c.EffectiveAt))
		if err != nil {
			return created, err
		}
		if ok {
			created++
		}
	}
	for _, e := range entries {
		ok, err := w.ensure(ctx, tasks.QueueRevoke, tasks.NewRevoke(tasks.Revoke{CaseID: e.CaseID, Connector: e.Connector}), tasks.RevokeID(e.CaseID, e.Connector), asynq.MaxRetry(w.opts.MaxRetry))
		if err != nil {
			return created, err
		}
		if ok {
			created++
		}
	}
	if created > 0 {
		w.log.Warn().Int("tasks", created).Msg("relay re-created work missing from Redis")
		w.opts.Metrics.relayed(created)
	}
	return created, nil
}

func (w *Worker) ensure(ctx context.Context, queue string, t *asynq.Task, id string, opts ...asynq.Option) (bool, error) {
	ok, err := enqueue(ctx, w.client, t, opts...)
	if err != nil || ok {
		return ok, err
	}
	info, err := w.insp.GetTaskInfo(queue, id)
	if err != nil {
		return false, nil // gone between the two calls, or not readable: the next pass sees
	}
	switch info.State {
	case asynq.TaskStateArchived, asynq.TaskStateCompleted:
		if err := w.insp.DeleteTask(queue, id); err != nil {
			return false, nil
		}
		return enqueue(ctx, w.client, t, opts...)
	}
	return false, nil
}
