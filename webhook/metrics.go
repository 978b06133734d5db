package webhook

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	deliveries *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "offboarder_http_requests_total",
			Help: "HTTP requests by route (the route's template, or unmatched), method (a standard one, or other) and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "offboarder_http_request_seconds",
			Help:    "Time to answer an HTTP request, by route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"route"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "offboarder_webhook_deliveries_total",
			Help: "Webhook deliveries by source and result (accepted, duplicate, protected, ignored, subject_without_email, unauthorized, malformed, store_error, enqueue_error).",
		}, []string{"source", "result"}),
	}
	reg.MustRegister(m.requests, m.duration, m.deliveries)
	return m
}

func itoa(n int) string { return strconv.Itoa(n) }

// methodLabel is a request's method as a label: one of the methods HTTP
// defines, or "other". A client may send any token as a method, and each
// new label value would be a new series kept for the life of the process.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}
