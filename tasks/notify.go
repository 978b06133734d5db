package tasks

import (
	"context"
	"time"
)

// TypeNotify tells one destination (a Slack hook, a generic webhook) that a
// case reached a state a person must see.
const TypeNotify = "notify"

// The options of a notify task: a receiver that is down is tried again with
// the worker's backoff (1s doubling, capped at 5 minutes) for about two hours.
const (
	NotifyMaxRetry = 30
	NotifyTimeout  = 30 * time.Second
)

// Notify asks the worker to tell one destination about a case's state. It
// names the destination by its id and never carries a secret: the worker
// reads the case and the destination's URL and key at send time.
type Notify struct {
	CaseID string `json:"case_id"`
	// State is the state the case reached (needs_attention, awaiting_approval, completed).
	State string `json:"state"`
	// Destination is the destination's id ("slack-<hash>", "webhook-<hash>").
	Destination string `json:"destination"`
}

// NotifyID is the task id of one notification: one per case, state and
// destination, so that each is sent once.
func NotifyID(caseID, state, destination string) string {
	return "notify:" + caseID + ":" + state + ":" + destination
}

// Notify enqueues one notification (task id NotifyID, queue QueueOffboard,
// NotifyMaxRetry, NotifyTimeout). It reports whether it created the task.
func (q *Queue) Notify(ctx context.Context, p Notify) (bool, error) {
	return q.enqueue(ctx, job{typ: TypeNotify, queue: QueueOffboard, id: NotifyID(p.CaseID, p.State, p.Destination),
		payload: p, retry: NotifyMaxRetry, timeout: NotifyTimeout})
}
