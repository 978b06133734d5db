// Package intake takes an offboarding event in: it commits the event and its
// case to the store, then enqueues the case's offboard task. The webhook
// handler (pushed events, the manual trigger) and the worker's maintainers
// (events a reconciliation found) both take events in through it, so the
// order and the guarantees are the same for every event:
//
//   - the commit comes first; when it fails nothing is enqueued and the
//     caller hears the error (a webhook answers 503);
//   - the enqueue is best effort and bounded by the enqueue timeout: the
//     event is committed, and when Redis cannot take the task the relay
//     creates it from the database later;
//   - a duplicate of an event whose case is still open enqueues the case's
//     offboard task again (its task id makes that a no-op when it exists),
//     since the first delivery may have been committed without its enqueue;
//   - an event for a protected account (Policy.Protected) is recorded on a
//     case closed at once as dismissed, and nothing is enqueued;
//   - a case the store's blast-radius guard held (awaiting_approval) gets no
//     task: operators are told (a warning, offboarder_cases_held_total, the
//     Notifier) and Approve releases it.
package intake

import (
	"context"
	"time"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/tasks"
)

// DefaultEnqueueTimeout bounds an enqueue when New is given none.
const DefaultEnqueueTimeout = time.Second

// Intake commits events and enqueues their cases' work.
type Intake struct {
	store   *store.Store
	queue   *tasks.Queue
	timeout time.Duration
	policy  Policy
}

// New returns an Intake that records in st and enqueues on q, giving each
// enqueue at most enqueueTimeout (0 or less: DefaultEnqueueTimeout), so that a
// Redis outage never holds a sender past its own timeout.
func New(st *store.Store, q *tasks.Queue, enqueueTimeout time.Duration) *Intake {
	if enqueueTimeout <= 0 {
		enqueueTimeout = DefaultEnqueueTimeout
	}
	return &Intake{store: st, queue: q, timeout: enqueueTimeout}
}

// Origin says where an event came from, for the record.
type Origin struct {
	Source     string    // the configured source's name
	Actor      string    // who the audit log names: "source:<name>" or "admin"
	RequestID  string    // the HTTP request's id; "" for none
	ReceivedAt time.Time // zero: now
}

// Result is what Take did with one event.
type Result struct {
	store.IngestResult
	// Enqueued tells whether an offboard task was created now (false: it
	// existed, none was needed, or the enqueue failed).
	Enqueued bool
	// EnqueueErr is why the enqueue failed, if it did. The event is
	// committed all the same, and the relay queues its case's work.
	EnqueueErr error
	// Protected tells that the event's subject is a protected account
	// (policy.protected): the event is recorded on a case closed at once
	// as dismissed, and nothing is enqueued.
	Protected bool
}

// Take commits ev and then enqueues its case's offboard task: for a new
// event always, for a duplicate when its case is still open. The error is
// the store's only (nothing was recorded); an enqueue failure is in the
// Result.
func (in *Intake) Take(ctx context.Context, o Origin, ev sources.Event) (Result, error) {
	if o.ReceivedAt.IsZero() {
		o.ReceivedAt = time.Now().UTC()
	}
	protected := ev.Email != "" && in.policy.Protected[ev.Email]
	res, err := in.store.Ingest(ctx, store.Event{
		Source: o.Source, EventID: ev.ID, Type: ev.Type, Email: ev.Email, SubjectIDs: ev.IDs,
		Reason: ev.Reason, EffectiveAt: ev.EffectiveAt, Systems: ev.Systems, DryRun: ev.DryRun,
		ReceivedAt: o.ReceivedAt, RequestID: o.RequestID, Actor: o.Actor, Protected: protected,
	})
	if err != nil {
		return Result{}, err
	}
	out := Result{IngestResult: res, Protected: protected}
	if res.NewCase && res.State == offboard.StateAwaitingApproval {
		in.held(ctx, o, ev, res.CaseID)
	}
	if res.Duplicate && !store.IsOpen(res.State) || res.State == offboard.StateAwaitingApproval || protected {
		return out, nil
	}
	// Detached from the caller's cancellation: a sender that hangs up after
	// the commit still gets its work queued, within the timeout.
	ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), in.timeout)
	defer cancel()
	out.Enqueued, out.EnqueueErr = in.queue.Offboard(ectx, tasks.Offboard{CaseID: res.CaseID, EffectiveAt: res.EffectiveAt, Security: res.Security})
	return out, nil
}
