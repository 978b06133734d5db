package worker

import (
	"context"
	"time"

	"github.com/hibiken/asynq"

	"github.com/offboarder/offboarder/tasks"
)

// relayBatch bounds one relay pass; the next pass takes the rest.
const relayBatch = 500

func (w *Worker) relayLoop(ctx context.Context) {
	defer close(w.done)
	t := time.NewTicker(w.opts.RelayInterval)
	defer t.Stop()
	var logged time.Time // when the audit head was last logged
	for {
		if _, err := w.Relay(ctx); err != nil && ctx.Err() == nil {
			w.log.Warn().Err(err).Msg("relay pass failed; will try again")
		}
		w.enqueueMaintenance(ctx)
		if time.Since(logged) >= w.opts.AuditLogInterval && w.logAuditHead(ctx) {
			logged = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// logAuditHead logs where the audit chain ends (seq and hash; neither is a
// secret). A log shipped out of the machine then holds anchors: a chain
// rewritten in the database, hashes recomputed, no longer reaches them
// (GET /v1/audit/verify?seq=&hash= checks one). It reports whether it
// logged.
func (w *Worker) logAuditHead(ctx context.Context) bool {
	h, err := w.opts.Store.CurrentAuditHead(ctx)
	if err != nil {
		if ctx.Err() == nil {
			w.log.Warn().Err(err).Msg("cannot read the audit head; will try again")
		}
		return false
	}
	w.log.Info().Int64("audit_seq", h.Seq).Str("audit_hash", h.Hash).Msg("audit head")
	w.opts.Metrics.auditHead(h.Seq)
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
