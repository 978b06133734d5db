package worker

import (
	"context"

	"github.com/offboarder/offboarder/tasks"
)

// relayBatch bounds one relay pass; the next pass takes the rest.
const relayBatch = 500

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
		ok, err := w.queue.EnsureOffboard(ctx, tasks.Offboard{CaseID: c.CaseID, EffectiveAt: c.EffectiveAt})
		if err != nil {
			return created, err
		}
		if ok {
			created++
		}
	}
	for _, e := range entries {
		ok, err := w.queue.EnsureRevoke(ctx, tasks.Revoke{CaseID: e.CaseID, Connector: e.Connector})
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
