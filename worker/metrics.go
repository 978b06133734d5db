package worker

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// Metrics are the worker's Prometheus series. A nil *Metrics records nothing.
type Metrics struct {
	calls    *prometheus.CounterVec
	callTime *prometheus.HistogramVec
	outcomes *prometheus.CounterVec
	toRevoke *prometheus.HistogramVec
	relay    prometheus.Counter
	auditSeq prometheus.Gauge
	auditOK  prometheus.Gauge
}

// NewMetrics registers the worker's series with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "offboarder_connector_calls_total",
			Help: "Revoke calls by connector and result (ok, or the error kind).",
		}, []string{"connector", "result"}),
		callTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "offboarder_connector_call_seconds",
			Help:    "Duration of one connector's Revoke call.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
		}, []string{"connector"}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "offboarder_entry_outcomes_total",
			Help: "Final outcomes of case entries by connector and outcome.",
		}, []string{"connector", "outcome"}),
		toRevoke: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "offboarder_time_to_outcome_seconds",
			Help:    "From the case's first event to each entry's final outcome.",
			Buckets: prometheus.ExponentialBuckets(0.025, 2, 14),
		}, []string{"connector"}),
		relay: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "offboarder_relay_tasks_total",
			Help: "Tasks the relay had to re-create because Redis did not hold them (0 without faults).",
		}),
		auditSeq: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "offboarder_audit_head_seq",
			Help: "The audit chain's last seq when the worker last verified it (at start, then hourly); it only grows, so a fall means rows were removed.",
		}),
		auditOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "offboarder_audit_chain_verified",
			Help: "1 when the worker's last check of the whole audit chain (at start, then hourly) verified, 0 when rows were changed or removed.",
		}),
	}
	reg.MustRegister(m.calls, m.callTime, m.outcomes, m.toRevoke, m.relay, m.auditSeq, m.auditOK)
	return m
}

func (m *Metrics) observeCall(connector string, d time.Duration, err error) {
	if m == nil {
		return
	}
	result := "ok"
	var e *vendorapi.Error
	switch {
	case errors.As(err, &e):
		result = e.Kind.String()
	case err != nil:
		result = "error"
	}
	m.calls.WithLabelValues(connector, result).Inc()
	m.callTime.WithLabelValues(connector).Observe(d.Seconds())
}

func (m *Metrics) observeOutcome(connector string, outcome offboard.Outcome, since time.Time) {
	if m == nil {
		return
	}
	m.outcomes.WithLabelValues(connector, string(outcome)).Inc()
	m.toRevoke.WithLabelValues(connector).Observe(time.Since(since).Seconds())
}

func (m *Metrics) relayed(n int) {
	if m == nil {
		return
	}
	m.relay.Add(float64(n))
}

func (m *Metrics) auditChecked(ok bool, seq int64) {
	if m == nil {
		return
	}
	if !ok {
		m.auditOK.Set(0)
		return
	}
	m.auditOK.Set(1)
	m.auditSeq.Set(float64(seq))
}
