package worker

import (
	"context"
	"time"

	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/tasks"
)

// relayBatch bounds one relay pass; the next pass takes the rest.
const relayBatch = 500

// relaySettle is how long the relay leaves a row alone after it was
// written: the webhook that committed a case, or the offboard task that
// fanned it out, enqueues the task right after its commit (bounded by its
// enqueue timeout, about a second); a relay that raced it would count
// work as lost that was never lost.
const relaySettle = 5 * time.Second

// Relay makes sure every piece of work the database holds has its task in
// Redis: an offboard task for each scheduled or pending case, a revoke task
// for each pending entry. It returns how many tasks it had to create: work
// Redis had lost, or never got. Without faults that is 0, so
// offboarder_relay_tasks_total moving is worth an alert.
//
// Work is re-created only when Redis holds no live task for it and then,
// read after Redis, the database still says it is due and has said so for
// relaySettle. That order is what makes the check hold: a task records its
// outcome before it ends, so a task seen ended (or gone) has its outcome in
// the database by the time it is read. A due list read a moment ago is no
// proof (its tasks may have completed since), and is never acted on alone.
//
// A task id that exists only as an archived or completed task while the
// database still says pending (the store was down when the outcome was to be
// written) is deleted and enqueued again, so no entry stays stuck.
func (w *Worker) Relay(ctx context.Context) (int, error) {
	cases, entries, err := w.opts.Store.Due(ctx, relayBatch)
	if err != nil {
		return 0, err
	}
	// Redis first: work whose task is pending, scheduled, running or
	// retrying is in hand.
	var lostCases []store.DueCase
	for _, c := range cases {
		held, err := w.queue.HoldsOffboard(tasks.Offboard{CaseID: c.CaseID, EffectiveAt: c.EffectiveAt, Security: c.Security})
		if err != nil {
			return 0, err
		}
		if !held {
			lostCases = append(lostCases, c)
		}
	}
	var lostEntries []store.EntryRef
	for _, e := range entries {
		held, err := w.queue.HoldsRevoke(tasks.Revoke{CaseID: e.CaseID, Connector: e.Connector, Security: e.Security})
		if err != nil {
			return 0, err
		}
		if !held {
			lostEntries = append(lostEntries, e)
		}
	}
	if len(lostCases) == 0 && len(lostEntries) == 0 {
		return 0, nil
	}
	// Then the database, again: what ended since Due's read is no longer due.
	lostCases, lostEntries, err = w.opts.Store.StillDue(ctx, lostCases, lostEntries, time.Now().Add(-relaySettle))
	if err != nil {
		return 0, err
	}
	created, err := w.recreate(ctx, lostCases, lostEntries)
	if created > 0 {
		w.log.Warn().Int("tasks", created).Msg("relay re-created work missing from Redis")
		w.opts.Metrics.relayed(created)
	}
	return created, err
}

// recreate enqueues the tasks of work found lost, replacing an ended task
// that holds the id, and counts those it created.
func (w *Worker) recreate(ctx context.Context, cases []store.DueCase, entries []store.EntryRef) (int, error) {
	var created int
	for _, c := range cases {
		ok, err := w.queue.EnsureOffboard(ctx, tasks.Offboard{CaseID: c.CaseID, EffectiveAt: c.EffectiveAt, Security: c.Security})
		if err != nil {
			return created, err
		}
		if ok {
			created++
		}
	}
	for _, e := range entries {
		ok, err := w.queue.EnsureRevoke(ctx, tasks.Revoke{CaseID: e.CaseID, Connector: e.Connector, Security: e.Security})
		if err != nil {
			return created, err
		}
		if ok {
			created++
		}
	}
	return created, nil
}
