package webhook

import (
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/tasks"
)

// Queue states as /readyz reports them.
const (
	queueRunning = "running"
	queuePaused  = "paused"
	queueUnknown = "unknown" // not looked at yet, or Redis did not answer
)

// watchedQueues are the queues a QueueWatch reports on: offboarder's own,
// a fixed set (the gauge's only label values).
var watchedQueues = tasks.Queues

// pausedWarnEvery is how often a queue that stays paused is logged again.
const pausedWarnEvery = time.Minute

// QueueWatch looks for a paused asynq queue every few seconds. A paused
// queue (the dashboard's pause button) runs none of its tasks and is kept
// in Redis across restarts, so that every new case would wait silently: the
// watch exports offboarder_queue_paused{queue} (1 or 0), logs a warning when
// a queue is found paused and once a minute while it stays so, and keeps the
// latest states for /readyz. A queue asynq does not know yet (no task was
// ever enqueued to it) counts as running: nothing waits in it, and a pause
// set on it shows at the first look after its first task. Redis errors
// leave the gauge as it was and the state unknown. A nil *QueueWatch
// reports nothing.
type QueueWatch struct {
	insp  *asynq.Inspector
	rc    redis.UniversalClient
	gauge *prometheus.GaugeVec
	log   zerolog.Logger
	every time.Duration

	mu       sync.Mutex
	state    map[string]string
	since    map[string]time.Time // when each paused queue was first seen paused
	lastWarn map[string]time.Time

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// WatchQueues registers offboarder_queue_paused with reg and starts looking
// at the queues in the Redis of opt every interval (default 5s) until Close.
// With no Redis (or one asynq cannot make a client of) it returns nil.
func WatchQueues(opt asynq.RedisConnOpt, reg prometheus.Registerer, log zerolog.Logger, every time.Duration) *QueueWatch {
	if opt == nil {
		return nil
	}
	rc, ok := opt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return nil
	}
	if every <= 0 {
		every = 5 * time.Second
	}
	w := &QueueWatch{
		insp: asynq.NewInspectorFromRedisClient(rc),
		rc:   rc,
		gauge: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "offboarder_queue_paused",
			Help: "1 while the queue is paused (none of its tasks run), else 0; by queue (security, revoke, offboard).",
		}, []string{"queue"}),
		log:      log.With().Str("component", "queues").Logger(),
		every:    every,
		state:    make(map[string]string, len(watchedQueues)),
		since:    make(map[string]time.Time),
		lastWarn: make(map[string]time.Time),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	for _, q := range watchedQueues {
		w.state[q] = queueUnknown
		w.gauge.WithLabelValues(q).Set(0)
	}
	reg.MustRegister(w.gauge)
	go w.run()
	return w
}

func (w *QueueWatch) run() {
	defer close(w.done)
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		w.poll(time.Now())
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
	}
}

// poll looks at every watched queue, then updates the states together so
// that readers see one look, not half of one.
func (w *QueueWatch) poll(now time.Time) {
	paused := make([]bool, len(watchedQueues))
	errs := make([]error, len(watchedQueues))
	// GetQueueInfo answers an error of asynq's own (not ErrQueueNotFound)
	// for a queue it does not know, so ask which queues it knows first.
	known, err := w.insp.Queues()
	for i, q := range watchedQueues {
		switch {
		case err != nil:
			errs[i] = err
		case slices.Contains(known, q):
			paused[i], errs[i] = w.paused(q)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, q := range watchedQueues {
		switch {
		case errs[i] != nil:
			w.state[q] = queueUnknown
			w.log.Debug().Err(errs[i]).Str("queue", q).Msg("could not read the queue's state")
		case paused[i]:
			w.state[q] = queuePaused
			w.gauge.WithLabelValues(q).Set(1)
			if w.since[q].IsZero() {
				w.since[q] = now
			}
			if now.Sub(w.lastWarn[q]) >= pausedWarnEvery {
				w.lastWarn[q] = now
				w.log.Warn().Str("queue", q).Dur("paused_for", now.Sub(w.since[q])).
					Msg("queue is paused: none of its tasks run until it is resumed in the dashboard")
			}
		default:
			if !w.since[q].IsZero() {
				w.log.Info().Str("queue", q).Dur("paused_for", now.Sub(w.since[q])).Msg("queue resumed")
			}
			delete(w.since, q)
			delete(w.lastWarn, q)
			w.state[q] = queueRunning
			w.gauge.WithLabelValues(q).Set(0)
		}
	}
}

// paused reads one known queue's state.
func (w *QueueWatch) paused(q string) (bool, error) {
	info, err := w.insp.GetQueueInfo(q)
	if errors.Is(err, asynq.ErrQueueNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return info.Paused, nil
}

// States returns each watched queue's state at the latest look: running,
// paused or unknown.
func (w *QueueWatch) States() map[string]string {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(w.state)
}

// Close stops the watch and closes its Redis connection; it is safe to call
// more than once.
func (w *QueueWatch) Close() error {
	if w == nil {
		return nil
	}
	var err error
	w.once.Do(func() {
		close(w.stop)
		<-w.done
		err = w.rc.Close()
	})
	return err
}
