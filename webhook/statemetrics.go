package webhook

import (
	"context"
	"slices"
	"time"

	"github.com/hibiken/asynq"
	asynqmetrics "github.com/hibiken/asynq/x/metrics"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/store"
)

// storeScrapeTimeout bounds the store's reads at one scrape of /metrics.
const storeScrapeTimeout = 2 * time.Second

var (
	casesDesc = prometheus.NewDesc("offboarder_cases",
		"Cases by state (scheduled, pending, in_progress, completed, needs_attention, dismissed, merged, and the states offboard adds), counted in the store at each scrape.",
		[]string{"state"}, nil)
	manualOldestDesc = prometheus.NewDesc("offboarder_manual_oldest_seconds",
		"Age of the oldest open manual step (an entry waiting for a person's attestation), 0 when there is none; read from the store at each scrape.",
		nil, nil)
)

// registerStateMetrics registers with reg what the store and Redis say at
// each scrape: offboarder_cases{state}, offboarder_manual_oldest_seconds
// and asynq's queue metrics (asynq_queue_size, asynq_queue_latency_seconds,
// asynq_tasks_processed_total, asynq_tasks_failed_total, …) for
// offboarder's own queues. It returns what closes its Redis connection.
func registerStateMetrics(reg prometheus.Registerer, st *store.Store, opt asynq.RedisConnOpt, log zerolog.Logger) func() error {
	if st != nil {
		reg.MustRegister(caseCollector{store: st, log: log})
	}
	if opt == nil {
		return func() error { return nil }
	}
	insp := asynq.NewInspector(opt)
	reg.MustRegister(queueCollector{asynqmetrics.NewQueueMetricsCollector(insp)})
	return insp.Close
}

// caseCollector reads the case counts and the oldest manual step at each
// scrape: two index-only queries. When the store does not answer, the
// scrape goes on without these series (and the log says why), so that the
// rest of /metrics still tells what is wrong.
type caseCollector struct {
	store *store.Store
	log   zerolog.Logger
}

// Describe implements prometheus.Collector.
func (c caseCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- casesDesc
	ch <- manualOldestDesc
}

// Collect implements prometheus.Collector. The state label takes only the
// words of offboard.States.
func (c caseCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), storeScrapeTimeout)
	defer cancel()
	counts, err := c.store.CountCases(ctx)
	if err != nil {
		c.log.Warn().Err(err).Msg("metrics: cannot count cases")
	} else {
		for _, s := range offboard.States {
			ch <- prometheus.MustNewConstMetric(casesDesc, prometheus.GaugeValue, float64(counts[s]), string(s))
		}
	}
	oldest, ok, err := c.store.OldestManual(ctx)
	switch {
	case err != nil:
		c.log.Warn().Err(err).Msg("metrics: cannot read the oldest manual step")
	case ok:
		ch <- prometheus.MustNewConstMetric(manualOldestDesc, prometheus.GaugeValue, max(time.Since(oldest).Seconds(), 0))
	default:
		ch <- prometheus.MustNewConstMetric(manualOldestDesc, prometheus.GaugeValue, 0)
	}
}

// queueCollector passes on asynq's own queue metrics for the watched
// queues only: asynq reports every queue its Redis knows, and another
// application's queues in a shared Redis would add label values from
// outside offboarder's fixed set. It describes nothing (an unchecked
// collector), so that registering it costs no Redis round trip.
type queueCollector struct{ inner prometheus.Collector }

// Describe implements prometheus.Collector.
func (queueCollector) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (q queueCollector) Collect(ch chan<- prometheus.Metric) {
	in := make(chan prometheus.Metric)
	go func() {
		q.inner.Collect(in)
		close(in)
	}()
	for m := range in {
		if slices.Contains(watchedQueues, queueLabel(m)) {
			ch <- m
		}
	}
}

// queueLabel is the value of m's queue label, or "" without one.
func queueLabel(m prometheus.Metric) string {
	var d dto.Metric
	if m.Write(&d) != nil {
		return ""
	}
	for _, l := range d.GetLabel() {
		if l.GetName() == "queue" {
			return l.GetValue()
		}
	}
	return ""
}
