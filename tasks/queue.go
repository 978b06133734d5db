package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// Enqueuer is what a Queue needs of an asynq client (*asynq.Client).
type Enqueuer interface {
	EnqueueContext(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// Settings are the options of a Queue that configuration decides. Zero
// values take the defaults in brackets.
type Settings struct {
	// RevokeMaxRetry is the number of attempts after the first for one
	// revoke [RevokeMaxRetry]. This is the one place that decides it.
	RevokeMaxRetry int
	// Inspector lets EnsureOffboard and EnsureRevoke find a task whose id
	// is held only by an archived or completed task. nil: they only enqueue.
	Inspector *asynq.Inspector
	// Notify says which case states are notified, and to whom. Zero: none.
	Notify NotifySettings
}

// Queue builds offboarder's tasks (id, queue, retries, timeout, retention)
// and enqueues them. A task whose id exists already (queued, scheduled,
// running, retrying, archived or retained after completion) is not an error:
// every method then reports false and a nil error.
type Queue struct {
	enq         Enqueuer
	insp        *asynq.Inspector
	revokeRetry int
	notify      NotifySettings
}

// NewQueue returns a Queue that enqueues through e.
func NewQueue(e Enqueuer, s Settings) *Queue {
	if s.RevokeMaxRetry <= 0 {
		s.RevokeMaxRetry = RevokeMaxRetry
	}
	return &Queue{enq: e, insp: s.Inspector, revokeRetry: s.RevokeMaxRetry, notify: s.Notify}
}

// job is one task with the options it is enqueued with.
type job struct {
	typ, queue, id string
	payload        any
	retry          int
	timeout        time.Duration
	at             time.Time // zero: now
}

func (q *Queue) offboard(p Offboard) job {
	j := job{typ: TypeOffboard, queue: offboardQueue(p.Security), id: OffboardID(p.CaseID, p.EffectiveAt),
		payload: p, retry: OffboardMaxRetry, timeout: OffboardTimeout}
	if p.EffectiveAt.After(time.Now()) {
		j.at = p.EffectiveAt
	}
	return j
}

func (q *Queue) revoke(p Revoke) job {
	queue := QueueRevoke
	if p.Security {
		queue = QueueSecurity
	}
	return job{typ: TypeRevoke, queue: queue, id: RevokeID(p.CaseID, p.Connector),
		payload: p, retry: q.revokeRetry, timeout: RevokeTimeout}
}

// offboardQueue is the queue of a case's offboard task.
func offboardQueue(security bool) string {
	if security {
		return QueueSecurity
	}
	return QueueOffboard
}

// Offboard enqueues a case's offboard task, scheduled for its effective time
// when that is ahead (task id OffboardID, queue QueueSecurity for a security
// case, else QueueOffboard, OffboardMaxRetry, OffboardTimeout). It reports
// whether it created the task.
func (q *Queue) Offboard(ctx context.Context, p Offboard) (bool, error) {
	return q.enqueue(ctx, q.offboard(p))
}

// Revoke enqueues one connector's revoke task for a case (task id RevokeID,
// queue QueueSecurity for a security case, else QueueRevoke,
// Settings.RevokeMaxRetry, RevokeTimeout). It reports whether it created
// the task.
func (q *Queue) Revoke(ctx context.Context, p Revoke) (bool, error) {
	return q.enqueue(ctx, q.revoke(p))
}

// Maintain enqueues a source's maintenance task for the interval window that
// starts at window (task id MaintainID, queue QueueOffboard, MaintainMaxRetry,
// MaintainTimeout). It reports whether it created the task.
func (q *Queue) Maintain(ctx context.Context, p Maintain, window time.Time) (bool, error) {
	return q.enqueue(ctx, job{typ: TypeMaintain, queue: QueueOffboard, id: MaintainID(p.Source, window),
		payload: p, retry: MaintainMaxRetry, timeout: MaintainTimeout})
}

// EnsureOffboard is Offboard for work the database says is still to do: a
// task id held only by an archived or completed task (the store was down
// when the task's end was to be recorded) is deleted and the task enqueued
// again. It needs Settings.Inspector.
func (q *Queue) EnsureOffboard(ctx context.Context, p Offboard) (bool, error) {
	return q.ensure(ctx, q.offboard(p))
}

// EnsureRevoke is Revoke as EnsureOffboard is Offboard.
func (q *Queue) EnsureRevoke(ctx context.Context, p Revoke) (bool, error) {
	return q.ensure(ctx, q.revoke(p))
}

// HoldsOffboard reports whether Redis holds a case's offboard task that is
// still to run or running (pending, scheduled, active, retrying): not one
// that ended (completed and retained, archived), nor none. It needs
// Settings.Inspector; an error means Redis could not say.
func (q *Queue) HoldsOffboard(p Offboard) (bool, error) {
	return q.holds(q.offboard(p))
}

// HoldsRevoke is HoldsOffboard for one connector's revoke task of a case.
func (q *Queue) HoldsRevoke(p Revoke) (bool, error) {
	return q.holds(q.revoke(p))
}

func (q *Queue) holds(j job) (bool, error) {
	if q.insp == nil {
		return false, errors.New("task lookup: no inspector")
	}
	info, err := q.insp.GetTaskInfo(j.queue, j.id)
	switch {
	case errors.Is(err, asynq.ErrTaskNotFound), errors.Is(err, asynq.ErrQueueNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("look up %s: %w", j.id, err)
	}
	return info.State != asynq.TaskStateCompleted && info.State != asynq.TaskStateArchived, nil
}

// enqueue adds j unless a task with its id already exists; that is not an
// error. This is the one place that reads asynq's conflict errors.
func (q *Queue) enqueue(ctx context.Context, j job) (bool, error) {
	b, err := json.Marshal(j.payload)
	if err != nil {
		return false, fmt.Errorf("enqueue %s: %w", j.id, err)
	}
	opts := []asynq.Option{
		asynq.TaskID(j.id),
		asynq.Queue(j.queue),
		asynq.MaxRetry(j.retry),
		asynq.Timeout(j.timeout),
		asynq.Retention(Retention),
	}
	if !j.at.IsZero() {
		opts = append(opts, asynq.ProcessAt(j.at))
	}
	_, err = q.enq.EnqueueContext(ctx, asynq.NewTask(j.typ, b, opts...))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, asynq.ErrTaskIDConflict), errors.Is(err, asynq.ErrDuplicateTask):
		return false, nil
	}
	return false, fmt.Errorf("enqueue %s: %w", j.id, err)
}

// ensure enqueues j, and when its id is held by an archived or completed
// task, deletes that task and enqueues j again. A task it cannot read or
// delete is left for the next call.
func (q *Queue) ensure(ctx context.Context, j job) (bool, error) {
	ok, err := q.enqueue(ctx, j)
	if err != nil || ok || q.insp == nil {
		return ok, err
	}
	info, err := q.insp.GetTaskInfo(j.queue, j.id)
	if err != nil {
		return false, nil // gone between the two calls, or not readable: the next pass sees
	}
	switch info.State {
	case asynq.TaskStateArchived, asynq.TaskStateCompleted:
		if err := q.insp.DeleteTask(j.queue, j.id); err != nil {
			return false, nil
		}
		return q.enqueue(ctx, j)
	}
	return false, nil
}

// RemoveOffboard deletes a case's offboard tasks scheduled for any of the
// effective times at (a case brought forward keeps the task of its first
// time), in whatever state asynq holds them but running, on both queues an
// offboard task can be on (a case that became a security case before its
// fan-out has its earlier tasks on QueueOffboard). It needs
// Settings.Inspector. It reports how many it deleted; a task that is not
// there is not an error, and one it cannot delete (running now, Redis
// away) is named in the joined error. The worker treats a closed case's
// offboard task as a no-op, so one left behind does no harm.
func (q *Queue) RemoveOffboard(caseID string, at []time.Time) (int, error) {
	if q.insp == nil {
		return 0, errors.New("remove offboard tasks: no inspector")
	}
	var (
		n    int
		errs []error
	)
	seen := map[string]bool{}
	for _, t := range at {
		id := OffboardID(caseID, t)
		if seen[id] {
			continue
		}
		seen[id] = true
		for _, queue := range []string{QueueOffboard, QueueSecurity} {
			err := q.insp.DeleteTask(queue, id)
			switch {
			case err == nil:
				n++
			case errors.Is(err, asynq.ErrTaskNotFound), errors.Is(err, asynq.ErrQueueNotFound):
			default:
				errs = append(errs, fmt.Errorf("remove %s from %s: %w", id, queue, err))
			}
		}
	}
	return n, errors.Join(errs...)
}
