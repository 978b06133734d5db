// Package webhook is offboarder's HTTP face: the Gin engine that routes each
// source's deliveries, the admin API, health, metrics and the asynq dashboard.
//
// A delivery is handled in one fixed order: cap the body, read it once,
// answer a handshake, verify (401), parse (400, or 200 when the event is not
// an offboarding), commit to the store (503 if it cannot), enqueue (a Redis
// failure is logged; the relay re-creates the work), 202. No vendor API is
// called from a handler.
package webhook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/intake"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/tasks"
)

// MaxBody is the largest webhook or admin request body accepted (1 MiB).
const MaxBody = 1 << 20

// DefaultIngestTimeout is Options.IngestTimeout's default.
const DefaultIngestTimeout = 2 * time.Second

// Options configure the server.
type Options struct {
	Store      *store.Store
	Queue      tasks.Enqueuer     // an asynq client
	Redis      asynq.RedisConnOpt // for readiness and the dashboard
	Sources    []sources.Source
	Connectors []string // configured connector names, to check an event's systems
	// After maps each connector whose manual step follows another's to
	// that one (connectors.After): such a step is listed as waiting, and
	// cannot be attested, until the other entry is done.
	After      map[string]string
	AdminToken string // "" refuses every admin and dashboard request
	Logger     zerolog.Logger
	Registry   *prometheus.Registry // nil: a new one
	// EnqueueTimeout bounds the Redis enqueue after a commit, so a Redis
	// outage never holds a sender past its own timeout. Default 1s.
	EnqueueTimeout time.Duration
	// IngestTimeout bounds the commit of a delivery's events (config
	// server.ingest_timeout): a store that cannot commit within it — a
	// write lock held elsewhere — answers 503 then, before the sender
	// gives up, and records nothing of the event. Default 2s.
	IngestTimeout time.Duration
	// Dashboard serves /monitoring/ when true.
	Dashboard bool
	// EmbeddedRedis says Redis is the embedded in-memory one (run without
	// REDIS_URL), which has no INFO: the dashboard's Redis page then says
	// so rather than show "undefined days" and NaN.
	EmbeddedRedis bool
	// QueuePollInterval is how often the server looks for a paused queue
	// (offboarder_queue_paused, the log, /readyz). Default 5s.
	QueuePollInterval time.Duration
	// WellKnown are fixed public documents served under /.well-known/ (the
	// CAEP transmitter's key set and metadata), built by the wiring.
	WellKnown []Document
	// RevokeMaxRetry is the retry count of a revoke task queued again by a
	// retry (the worker's max_retry; 0: tasks.RevokeMaxRetry).
	RevokeMaxRetry int
	// Notify says which case states are notified, and to whom (the ids
	// only; the worker sends). Zero: none.
	Notify tasks.NotifySettings
	// Intake is the policy every event is taken in with: protected
	// accounts (answered 422) and who hears of held cases.
	Intake intake.Policy
}

// Server is the HTTP handler of offboarder.
type Server struct {
	opts    Options
	engine  *gin.Engine
	sources map[string]sources.Source
	conns   map[string]bool
	log     zerolog.Logger
	metrics *metrics
	intake  *intake.Intake
	ping    func(ctx context.Context) error
	cop     *http.CrossOriginProtection
	queues  *QueueWatch
	closers []func() error
	ops     *tasks.Queue // a retry's revoke, a cancellation's removals (with an inspector)

	// notifyQueue enqueues the notifications of a case an admin request moved.
	notifyQueue *tasks.Queue
}

// New builds the server and its routes: the webhooks, the admin API, the
// public documents, the dashboard, and what NewHealth serves.
func New(o Options) *Server {
	s := newServer(o)
	o = s.opts
	s.intake = intake.New(o.Store, tasks.NewQueue(o.Queue, tasks.Settings{}), o.EnqueueTimeout).WithPolicy(o.Intake)
	s.ops = s.operatorQueue()
	s.notifyQueue = tasks.NewQueue(o.Queue, tasks.Settings{Notify: o.Notify})
	for _, src := range o.Sources {
		s.sources[src.Name()] = src
	}
	for _, c := range o.Connectors {
		s.conns[c] = true
	}

	e := s.engine
	e.POST("/webhooks/:source", s.handleWebhook)
	e.GET("/webhooks/:source", s.handleWebhook) // handshakes some senders make with GET
	s.mountWellKnown(o.WellKnown)

	v1 := e.Group("/v1", refuseCrossSite(s.cop), s.requireAdmin(false))
	v1.GET("/cases", s.handleListCases)
	v1.GET("/cases/:id", s.handleGetCase)
	v1.POST("/offboard", s.handleOffboard)
	v1.GET("/audit/verify", s.handleVerifyAudit)
	v1.GET("/manual", s.handleManual)
	v1.POST("/cases/:id/entries/:connector/attest", s.handleAttest)
	v1.POST("/cases/:id/entries/:connector/retry", s.handleRetry)
	v1.POST("/cases/:id/cancel", s.handleCancel)
	s.mountUI() // the operators' page, /ui/
	v1.GET("/cases/:id/evidence", s.handleEvidence)
	v1.GET("/evidence", s.handleEvidenceList)
	v1.GET("/approvals", s.handleListApprovals)
	v1.POST("/approvals", s.handleApprove)

	if o.Dashboard {
		s.mountDashboard()
	}
	return s
}

// NewHealth builds what a worker alone serves over HTTP, with the same
// code as the server's: /healthz, /readyz (the store, Redis, paused
// queues), /metrics (with offboarder_queue_paused: a paused queue stops
// this worker too) and, to the admin token's holder, /debug/pprof/…. It
// takes Store, Redis, AdminToken, Logger, Registry and QueuePollInterval
// from o.
func NewHealth(o Options) *Server { return newServer(o) }

// newServer builds the engine with its middleware, the health, readiness
// and metrics routes, the profiles and the queue watch.
func newServer(o Options) *Server {
	if o.EnqueueTimeout <= 0 {
		o.EnqueueTimeout = time.Second
	}
	if o.IngestTimeout <= 0 {
		o.IngestTimeout = DefaultIngestTimeout
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	gin.SetMode(gin.ReleaseMode)
	s := &Server{
		opts:    o,
		engine:  gin.New(),
		sources: make(map[string]sources.Source, len(o.Sources)),
		conns:   make(map[string]bool, len(o.Connectors)),
		log:     o.Logger.With().Str("component", "http").Logger(),
		metrics: newMetrics(o.Registry),
		cop:     http.NewCrossOriginProtection(),
	}
	s.ping = s.redisPinger()
	s.queues = WatchQueues(o.Redis, o.Registry, o.Logger, o.QueuePollInterval)
	s.closers = append(s.closers, s.queues.Close)
	s.closers = append(s.closers, registerStateMetrics(o.Registry, o.Store, o.Redis, o.Logger))

	e := s.engine
	e.ContextWithFallback = true
	e.HandleMethodNotAllowed = true
	e.Use(s.recoverer, s.requestID, s.accessLog)
	e.NoRoute(func(c *gin.Context) { abort(c, http.StatusNotFound, "not found") })
	e.NoMethod(func(c *gin.Context) { abort(c, http.StatusMethodNotAllowed, "method not allowed") })
	e.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	e.GET("/readyz", s.handleReady)
	e.GET("/metrics", gin.WrapH(promhttp.HandlerFor(o.Registry, promhttp.HandlerOpts{})))
	s.mountProfiles()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// Close stops the queue watch and releases the dashboard's, the queue
// watch's and the readiness check's Redis connections.
func (s *Server) Close() error {
	for _, c := range s.closers {
		_ = c()
	}
	return nil
}

// limitParam reads a list's ?limit (1 to 1000; 100 when absent), and
// answers 400 itself and reports false when it is not one.
func limitParam(c *gin.Context) (int, bool) {
	l := c.Query("limit")
	if l == "" {
		return 100, true
	}
	n, err := strconv.Atoi(l)
	if err != nil || n < 1 || n > 1000 {
		abort(c, http.StatusBadRequest, "limit: want 1 to 1000")
		return 0, false
	}
	return n, true
}

// abort answers a short JSON error; details belong in the log.
func abort(c *gin.Context, status int, msg string) {
	c.AbortWithStatusJSON(status, gin.H{"error": msg})
}

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestID takes a sane X-Request-Id from the caller or makes one, and
// puts it on the response and the request's logger.
func (s *Server) requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-Id")
	if !requestIDRE.MatchString(id) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Set("request_id", id)
	c.Header("X-Request-Id", id)
	l := s.log.With().Str("request_id", id).Logger()
	c.Request = c.Request.WithContext(l.WithContext(c.Request.Context()))
	c.Next()
}

func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	d := time.Since(start)
	s.metrics.requests.WithLabelValues(route, methodLabel(c.Request.Method), itoa(c.Writer.Status())).Inc()
	s.metrics.duration.WithLabelValues(route).Observe(d.Seconds())
	// The path, never the query (it may carry a sender's token).
	zerolog.Ctx(c.Request.Context()).Debug().Str("method", c.Request.Method).Str("path", c.Request.URL.Path).
		Int("status_code", c.Writer.Status()).Dur("duration", d).Msg("request")
}

// recoverer turns a panic into a 500 and a log line; a panic is a bug.
func (s *Server) recoverer(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			zerolog.Ctx(c.Request.Context()).Error().Interface("panic", v).Str("path", c.Request.URL.Path).Msg("handler panicked")
			abort(c, http.StatusInternalServerError, "internal error")
		}
	}()
	c.Next()
}

func requestIDOf(c *gin.Context) string { return c.GetString("request_id") }

// NewHTTPServer wraps h in the http.Server offboarder listens with: bounded
// header, read, write and idle times, and headers capped at 64 KiB (a
// larger request is answered 431 by net/http).
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}
