package tasks

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/offboarder/offboarder/offboard"
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

// NotifySettings say which notifications a Queue sends (Settings.Notify).
type NotifySettings struct {
	// Destinations are the ids of the configured destinations (DestinationID).
	Destinations []string
	// On are the case states that are notified.
	On []offboard.State
}

// DestinationID names a destination without revealing it: its kind
// ("slack", "webhook") and the first 12 hex digits of the SHA-256 of its
// URL. The same URL keeps its id across restarts and config reorders.
func DestinationID(kind, url string) string {
	h := sha256.Sum256([]byte(url))
	return kind + "-" + hex.EncodeToString(h[:6])
}

// NotifyCase enqueues one notify task per destination when state is one of
// Settings.Notify.On, and reports how many it created; otherwise it does
// nothing. Every place that moves a case into a notified state calls it once
// the change is committed; a second call for the same case and state is a
// no-op (the task ids are kept for Retention).
func (q *Queue) NotifyCase(ctx context.Context, caseID string, state offboard.State) (int, error) {
	if !slices.Contains(q.notify.On, state) {
		return 0, nil
	}
	var n int
	for _, d := range q.notify.Destinations {
		ok, err := q.Notify(ctx, Notify{CaseID: caseID, State: string(state), Destination: d})
		if err != nil {
			return n, fmt.Errorf("notify %s: %w", caseID, err)
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// Notifies reports whether state is notified to at least one destination.
func (q *Queue) Notifies(state offboard.State) bool {
	return len(q.notify.Destinations) > 0 && slices.Contains(q.notify.On, state)
}
