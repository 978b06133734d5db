// Package worker runs the asynq server: the offboard handler (fan a case out
// into one revoke task per connector), the revoke handler (run one connector
// and record its outcome), the retry policy, and the relay that re-enqueues
// work the database holds but Redis lost.
package worker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/intake"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/tasks"
)

// Options configure a Worker. Zero values take the defaults in brackets.
type Options struct {
	Redis      asynq.RedisConnOpt
	Store      *store.Store
	Connectors []connectors.Connector
	// Sources are the configured sources: those that resolve an id to an
	// email, or keep a subscription alive, need the worker.
	Sources []sources.Source
	Logger  zerolog.Logger
	Metrics *Metrics // nil: none

	Concurrency       int           // [100]
	TaskCheckInterval time.Duration // [5ms] how often an idle worker looks for new tasks
	RelayInterval     time.Duration // [10s]
	AuditLogInterval  time.Duration // [1h] how often the audit chain is verified and its head logged
	ShutdownTimeout   time.Duration // [25s] after it, active tasks are cancelled and re-queued
	MaxRetry          int           // [tasks.RevokeMaxRetry] attempts after the first for one revoke (see tasks.Settings); time bounds it first (RetryFor)
	MaxBackoff        time.Duration // [DefaultMaxBackoff] the longest wait between two attempts of a task, a vendor's Retry-After aside
	// RetryFor is each connector's retry window by name (its retry_for,
	// connectors.RetryWindows): a retryable error keeps the entry retrying
	// until this long after its first attempt. A connector not in it has
	// connectors.DefaultRetryFor.
	RetryFor map[string]time.Duration
	DryRun   bool // every entry is recorded as skipped
	// Notify says who is told when a case reaches a notified state. Zero: nobody.
	Notify Notifications
	// Reasons maps a reason to the connectors that run for it
	// (policy.reasons); the other connectors' entries are skipped with
	// the detail "policy: not run for reason R". A reason not listed runs
	// every connector.
	Reasons map[offboard.Reason][]string
	// Intake is the policy events found by maintenance are taken in with;
	// its Protected accounts are also never fanned out (an id-only
	// subject resolved to one is dismissed).
	Intake intake.Policy
}

// Worker is one asynq server with offboarder's handlers and the relay.
type Worker struct {
	opts   Options
	srv    *asynq.Server
	client *asynq.Client
	insp   *asynq.Inspector
	redis  redis.UniversalClient // vendor answers kept until recorded (kept.go); nil: none
	queue  *tasks.Queue
	intake *intake.Intake // events found by maintenance
	conns  map[string]connectors.Connector
	names  []string

	dests        map[string]destination // notification destinations by id
	notifyClient *http.Client

	resolvers   map[string]sources.Resolver
	maintainers map[string]sources.Maintainer
	log         zerolog.Logger
	verified    store.AuditHead // the audit head this process verified last (Start, then runPeriodic only)
	stop        context.CancelFunc
	done        chan struct{}
	shutdown    sync.Once
}

// New builds a Worker; Start runs it.
func New(o Options) *Worker {
	if o.Concurrency <= 0 {
		o.Concurrency = 100
	}
	if o.TaskCheckInterval <= 0 {
		o.TaskCheckInterval = 5 * time.Millisecond
	}
	if o.RelayInterval <= 0 {
		o.RelayInterval = 10 * time.Second
	}
	if o.AuditLogInterval <= 0 {
		o.AuditLogInterval = time.Hour
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 25 * time.Second
	}
	w := &Worker{
		opts:   o,
		client: asynq.NewClient(o.Redis),
		insp:   asynq.NewInspector(o.Redis),
		conns:  make(map[string]connectors.Connector, len(o.Connectors)),
		log:    o.Logger.With().Str("component", "worker").Logger(),
	}
	if o.Notify.Timeout <= 0 {
		o.Notify.Timeout = 10 * time.Second
	}
	w.opts.Notify = o.Notify
	if o.Redis != nil {
		w.redis, _ = o.Redis.MakeRedisClient().(redis.UniversalClient)
	}
	w.dests = o.Notify.destinations()
	w.notifyClient = newNotifyClient(o.Notify.Timeout)
	w.queue = tasks.NewQueue(w.client, tasks.Settings{RevokeMaxRetry: o.MaxRetry, Inspector: w.insp, Notify: o.Notify.Settings()})
	w.intake = intake.New(o.Store, w.queue, 0).WithPolicy(o.Intake)
	for _, c := range o.Connectors {
		w.conns[c.Name()] = c
		w.names = append(w.names, c.Name())
	}
	w.resolvers = make(map[string]sources.Resolver)
	w.maintainers = make(map[string]sources.Maintainer)
	for _, src := range o.Sources {
		if r, ok := src.(sources.Resolver); ok {
			w.resolvers[src.Name()] = r
		}
		if r, ok := src.(sources.ConnectorResolved); ok && r.ResolveWith() != "" {
			// CheckResolveWith refused, at start, a connector that cannot.
			if f, ok := w.conns[r.ResolveWith()].(connectors.Finder); ok {
				w.resolvers[src.Name()] = finderResolver{connector: r.ResolveWith(), finder: f}
			}
		}
		if m, ok := src.(sources.Maintainer); ok {
			w.maintainers[src.Name()] = m
		}
	}
	w.srv = asynq.NewServer(o.Redis, asynq.Config{
		Concurrency:              o.Concurrency,
		Queues:                   QueuePriority,
		TaskCheckInterval:        o.TaskCheckInterval,
		DelayedTaskCheckInterval: time.Second,
		RetryDelayFunc:           w.retryDelay,
		IsFailure:                IsFailure,
		ShutdownTimeout:          o.ShutdownTimeout,
		Logger:                   asynqLogger{w.log},
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			w.log.Warn().Str("task_type", t.Type()).Err(err).Msg("task failed")
		}),
	})
	return w
}

// QueuePriority are the asynq server's queue weights. asynq's weighted
// priority (https://github.com/hibiken/asynq/wiki/Queue-Priority) draws,
// for every task a free worker fetches, an order of the queues at random
// by weight, and takes the first task of the first non-empty queue in it:
// a queue of weight w is tried first with probability w / (sum of the
// weights). StrictPriority would always try security first, and a flood of
// security cases would then stop every other fan-out and revocation.
//
// With security at 90 against 9 for the rest, a waiting security task is
// taken by a fetch ahead of a full revoke and offboard backlog with
// probability 90/99 (≈ 0.91), and within two fetches with 0.99: a worker
// that frees up nearly always takes it. An empty security queue costs the
// others nothing (the fetch goes on to the next queue in the order), and a
// flood of security work still leaves them one fetch in eleven: they
// slow down, never stop. Revocations keep twice the fan-out's weight; the
// fan-out is cheap and never starves.
var QueuePriority = map[string]int{tasks.QueueSecurity: 90, tasks.QueueRevoke: 6, tasks.QueueOffboard: 3}

// Mux returns the handlers keyed by task type, wrapped in the logging
// middleware.
func (w *Worker) Mux() *asynq.ServeMux {
	mux := asynq.NewServeMux()
	mux.Use(w.logMiddleware)
	mux.HandleFunc(tasks.TypeOffboard, w.handleOffboard)
	mux.HandleFunc(tasks.TypeRevoke, w.handleRevoke)
	mux.HandleFunc(tasks.TypeMaintain, w.handleMaintain)
	mux.HandleFunc(tasks.TypeNotify, w.handleNotify)
	return mux
}

// Start runs the asynq server and the relay in the background. The audit
// chain is verified once before it returns (within auditAtStart; a check
// that does not finish by then is left to the periodic loop), so that
// offboarder_audit_head_seq holds the head from the start.
func (w *Worker) Start() error {
	if err := w.srv.Start(w.Mux()); err != nil {
		return fmt.Errorf("worker: start: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.stop = cancel
	w.done = make(chan struct{})
	go w.runPeriodic(ctx, w.verifyAtStart(ctx))
	return nil
}

// Shutdown stops the relay, stops taking tasks, and waits up to the shutdown
// timeout for active ones; those still running are cancelled and go back to
// the queue (every revoke is idempotent).
//
// Shutdown may be called more than once; later calls do nothing.
func (w *Worker) Shutdown() {
	w.shutdown.Do(func() {
		if w.stop != nil {
			w.stop()
			<-w.done
		}
		w.srv.Shutdown()
		_ = w.client.Close()
		_ = w.insp.Close()
		if w.redis != nil {
			_ = w.redis.Close()
		}
	})
}

func (w *Worker) logMiddleware(h asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		id, _ := asynq.GetTaskID(ctx)
		retry, _ := asynq.GetRetryCount(ctx)
		l := w.log.With().Str("task_id", id).Str("task_type", t.Type()).Int("retry", retry).Logger()
		return h.ProcessTask(l.WithContext(ctx), t)
	})
}

// permanent marks err so that asynq archives the task without retrying.
func permanent(err error) error { return errors.Join(err, asynq.SkipRetry) }

type asynqLogger struct{ l zerolog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug().Msg(fmt.Sprint(args...)) }
func (a asynqLogger) Info(args ...any)  { a.l.Info().Msg(fmt.Sprint(args...)) }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn().Msg(fmt.Sprint(args...)) }
func (a asynqLogger) Error(args ...any) { a.l.Error().Msg(fmt.Sprint(args...)) }
func (a asynqLogger) Fatal(args ...any) { a.l.Fatal().Msg(fmt.Sprint(args...)) }
