package ratelimit

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the rate limits' Prometheus series. A nil *Metrics records
// nothing.
type Metrics struct {
	wait *prometheus.HistogramVec
}

// NewMetrics registers offboarder_rate_limit_wait_seconds{connector} with
// reg. Its connector label is a configured connector's name.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "offboarder_rate_limit_wait_seconds",
		Help:    "How long a connector's request waited for its turn under the connector's rate_limit.",
		Buckets: prometheus.ExponentialBuckets(0.001, 4, 9), // 1 ms … 65 s
	}, []string{"connector"})}
	reg.MustRegister(m.wait)
	return m
}

func (m *Metrics) observe(connector string, d time.Duration) {
	if m == nil {
		return
	}
	m.wait.WithLabelValues(connector).Observe(d.Seconds())
}
