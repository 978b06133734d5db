// Package tasks is the contract between webhook and worker: the asynq task type
// names, their payloads, their ids, and the Queue that builds and enqueues
// them with their options. Nothing else builds or enqueues an asynq task.
//
// Task ids are derived from the case (and connector), so enqueueing the same
// work twice is refused by asynq with ErrTaskIDConflict, which the Queue
// reports as "already there": the relay and a duplicate delivery can never
// double the work.
package tasks

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
)

// Task type names.
const (
	TypeOffboard = "offboard"
	TypeRevoke   = "revoke"
	// TypeMaintain runs one source's maintenance (subscription renewal,
	// reconciliation poll).
	TypeMaintain = "maintain"
)

// Queue names, by priority: a security case's work first (its fan-out and
// its revocations), then revocations, then fan-out (and maintenance,
// notifications). A case's tasks are always on the same queue, named by its
// Security flag (store.Case.Security) carried in the payload: asynq's task
// ids are unique per queue, so a task looked for on another queue would be
// missed or doubled.
const (
	QueueSecurity = "security"
	QueueRevoke   = "revoke"
	QueueOffboard = "offboard"
)

// Queues lists offboarder's queues, by priority.
var Queues = []string{QueueSecurity, QueueRevoke, QueueOffboard}

// The options the Queue sets on each task type.
const (
	OffboardMaxRetry = 25
	OffboardTimeout  = 30 * time.Second
	// RevokeMaxRetry is the default of Settings.RevokeMaxRetry: high
	// enough never to be reached, since a revoke is bounded by time (the
	// worker fails the entry when its connector's retry_for is spent), not
	// by a count.
	RevokeMaxRetry   = 100000
	RevokeTimeout    = 60 * time.Second
	MaintainMaxRetry = 3
	MaintainTimeout  = 2 * time.Minute
	// Retention keeps a finished task (and so its id) for a while, so that a
	// late duplicate enqueue is refused rather than run again.
	Retention = 24 * time.Hour
)

// Offboard asks the worker to fan a case out into one revoke task per connector.
type Offboard struct {
	CaseID string `json:"case_id"`
	// EffectiveAt is when the case becomes due (the task is scheduled for it).
	EffectiveAt time.Time `json:"effective_at"`
	// Security is the case's Security flag: the task is on QueueSecurity,
	// else on QueueOffboard.
	Security bool `json:"security,omitempty"`
}

// Revoke asks the worker to run one connector for one case.
type Revoke struct {
	CaseID    string `json:"case_id"`
	Connector string `json:"connector"`
	// Security is the case's Security flag: the task is on QueueSecurity,
	// else on QueueRevoke.
	Security bool `json:"security,omitempty"`
}

// Maintain asks one worker to run a source's maintenance.
type Maintain struct {
	Source string `json:"source"`
}

// OffboardID is the task id of a case's offboard task for one effective
// time: a case brought forward gets a task that runs now.
func OffboardID(caseID string, effectiveAt time.Time) string {
	return "offboard:" + caseID + ":" + strconv.FormatInt(effectiveAt.Unix(), 10)
}

// RevokeID is the task id of one connector's revoke task for a case.
func RevokeID(caseID, connector string) string {
	return "revoke:" + caseID + ":" + connector
}

// MaintainID is the task id of a source's maintenance for the interval
// window that starts at window: every worker that enqueues it for the same
// window enqueues one task, so one worker runs it.
func MaintainID(source string, window time.Time) string {
	return "maintain:" + source + ":" + strconv.FormatInt(window.Unix(), 10)
}

// Decode unmarshals a task payload into p, naming the task type on error.
func Decode(t *asynq.Task, p any) error {
	if err := json.Unmarshal(t.Payload(), p); err != nil {
		return fmt.Errorf("%s task: bad payload: %w", t.Type(), err)
	}
	return nil
}
