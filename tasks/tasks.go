// Package tasks is the contract between webhook and worker: the asynq task type
// names, their payloads, and one constructor per type with its options.
//
// Task ids are derived from the case (and connector), so enqueueing the same
// work twice is refused by asynq with ErrTaskIDConflict: the relay and a
// duplicate delivery can never double the work.
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
)

// Queue names, by priority: revocations first, fan-out next.
const (
	QueueRevoke   = "revoke"
	QueueOffboard = "offboard"
)

// Defaults for the options the constructors set.
const (
	OffboardMaxRetry = 25
	OffboardTimeout  = 30 * time.Second
	RevokeMaxRetry   = 20
	RevokeTimeout    = 60 * time.Second
	// Retention keeps a finished task (and so its id) for a while, so that a
	// late duplicate enqueue is refused rather than run again.
	Retention = 24 * time.Hour
)

// Offboard asks the worker to fan a case out into one revoke task per connector.
type Offboard struct {
	CaseID string `json:"case_id"`
	// EffectiveAt is when the case becomes due (the task is scheduled for it).
	EffectiveAt time.Time `json:"effective_at"`
}

// Revoke asks the worker to run one connector for one case.
type Revoke struct {
	CaseID    string `json:"case_id"`
	Connector string `json:"connector"`
}

// NewOffboard returns the offboard task for a case. Its id includes the
// effective time, so that a case brought forward gets a task that runs now.
func NewOffboard(p Offboard) *asynq.Task {
	b, _ := json.Marshal(p) // a struct of strings and a time cannot fail
	opts := []asynq.Option{
		asynq.TaskID(OffboardID(p.CaseID, p.EffectiveAt)),
		asynq.Queue(QueueOffboard),
		asynq.MaxRetry(OffboardMaxRetry),
		asynq.Timeout(OffboardTimeout),
		asynq.Retention(Retention),
	}
	if p.EffectiveAt.After(time.Now()) {
		opts = append(opts, asynq.ProcessAt(p.EffectiveAt))
	}
	return asynq.NewTask(TypeOffboard, b, opts...)
}

// OffboardID is the task id of a case's offboard task for one effective time.
func OffboardID(caseID string, effectiveAt time.Time) string {
	return "offboard:" + caseID + ":" + strconv.FormatInt(effectiveAt.Unix(), 10)
}

// NewRevoke returns the revoke task for one connector of one case.
func NewRevoke(p Revoke) *asynq.Task {
	b, _ := json.Marshal(p)
	return asynq.NewTask(TypeRevoke, b,
		asynq.TaskID(RevokeID(p.CaseID, p.Connector)),
		asynq.Queue(QueueRevoke),
		asynq.MaxRetry(RevokeMaxRetry),
		asynq.Timeout(RevokeTimeout),
		asynq.Retention(Retention),
	)
}

// RevokeID is the task id of one connector's revoke task for a case.
func RevokeID(caseID, connector string) string {
	return "revoke:" + caseID + ":" + connector
}

// Decode unmarshals a task payload into p, naming the task type on error.
func Decode(t *asynq.Task, p any) error {
	if err := json.Unmarshal(t.Payload(), p); err != nil {
		return fmt.Errorf("%s task: bad payload: %w", t.Type(), err)
	}
	return nil
}

// TypeMaintain runs one source's maintenance (subscription renewal,
// reconciliation poll).
const TypeMaintain = "maintain"

// Maintain asks one worker to run a source's maintenance.
type Maintain struct {
	Source string `json:"source"`
}

// NewMaintain returns the maintenance task of a source for the window that
// starts at window: its id makes every worker that enqueues it for the same
// window enqueue one task, so one worker runs it.
func NewMaintain(p Maintain, window time.Time) *asynq.Task {
	b, _ := json.Marshal(p)
	return asynq.NewTask(TypeMaintain, b,
		asynq.TaskID("maintain:"+p.Source+":"+strconv.FormatInt(window.Unix(), 10)),
		asynq.Queue(QueueOffboard),
		asynq.MaxRetry(3),
		asynq.Timeout(2*time.Minute),
		asynq.Retention(Retention),
	)
}
