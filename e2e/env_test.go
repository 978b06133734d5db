// Package e2e runs offboarder end to end in one test process: real HTTP over
// loopback, a private redis-server, SQLite and PostgreSQL, the okta connector
// against the built-in simulator.
package e2e

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/intake"
	"github.com/offboarder/offboarder/internal/testenv"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/registry"
	"github.com/offboarder/offboarder/simulator"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/vendorapi/ratelimit"
	"github.com/offboarder/offboarder/webhook"
	"github.com/offboarder/offboarder/worker"
)

const (
	hrSecret   = "e2e-hr-secret-0123456789abcdef"
	oktaToken  = "e2e-okta-token-SECRETVALUE"
	adminToken = "e2e-admin-token-0123456789"
)

// env is one running offboarder: server, worker, store, Redis and simulator.
type env struct {
	t      testing.TB
	URL    string
	Store  *store.Store
	Redis  *testenv.Redis
	Sim    *simulator.Simulator
	SimURL string
	Worker *worker.Worker
	// WorkerOptions are the options Worker was built with, for tests that
	// start another worker (after a shutdown, say).
	WorkerOptions worker.Options
	Insp          *asynq.Inspector
	Log           *logBuffer
}

type envOptions struct {
	noWorker   bool
	adminToken *string
	relay      time.Duration
	auditLog   time.Duration   // the worker's AuditLogInterval; 0 means its default
	metrics    *worker.Metrics // the worker's metrics; nil records none
	oktaToken  string          // the token the connector sends; "" means the one the simulator accepts
	// allConnectors configures the six identity-provider connectors
	// (okta, entra, google, auth0, keycloak, onelogin) against the simulator.
	allConnectors bool
	concurrency   int // worker concurrency; 0 means 4
	// taskCheck is the worker's TaskCheckInterval; 0 means 10ms.
	taskCheck time.Duration
	// quiet logs warnings and errors only (for measurements).
	quiet bool
	// extraSpecs are sources built beside the generic "hr" source.
	extraSpecs []sources.Spec
	// simSpecs, when set, are more sources built beside them, given the
	// simulator's URL (a source that reads its sender's API there).
	simSpecs func(simURL string) []sources.Spec
	// extra are ready-made sources served beside them.
	extra []sources.Source
	// extraConnectors are connectors configured beside okta.
	extraConnectors []connectors.Spec
	// notify are the notifications the worker sends and the server enqueues.
	notify worker.Notifications
	// guard is the store's blast-radius guard; nil: none.
	guard *store.Guard
	// policy is what the server and the worker take events in with.
	policy intake.Policy
	// reasons is the worker's policy.reasons.
	reasons map[offboard.Reason][]string
	// oktaRetryFor is the okta connector's retry_for; "" leaves it unset.
	oktaRetryFor string
	// oktaRateLimit is the okta connector's rate_limit; nil leaves it
	// unset. rateLimits enforces the connectors' rate_limit through the
	// test's Redis, as a process that revokes does.
	oktaRateLimit map[string]any
	rateLimits    bool
	// maxBackoff is the worker's MaxBackoff; 0 means its default.
	maxBackoff time.Duration
	// wrapSim wraps the simulator's handler (a fault in front of a vendor); nil: none.
	wrapSim func(http.Handler) http.Handler
}

// dialects runs fn once on SQLite and once on PostgreSQL (skipped, with a
// message, where no PostgreSQL answers).
func dialects(t *testing.T, fn func(t *testing.T, dbURL func(t *testing.T) string)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, func(t *testing.T) string { return "sqlite:" + t.TempDir() + "/offboarder.db" })
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, func(t *testing.T) string { return testenv.Postgres(t) })
	})
}

func start(t testing.TB, dbURL string, o envOptions) *env {
	t.Helper()
	ctx := t.Context()
	e := &env{t: t, Log: &logBuffer{}}
	log := zerolog.New(e.Log).Level(zerolog.DebugLevel)
	if o.quiet {
		log = log.Level(zerolog.WarnLevel)
	}

	e.Redis = testenv.StartRedis(t)
	redisOpt := asynq.RedisClientOpt{Addr: e.Redis.Addr, DialTimeout: 500 * time.Millisecond}

	st, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.Store = st
	st.SetGuard(o.guard)

	e.Sim = simulator.New(simulator.Options{OktaToken: oktaToken, GoogleKey: &googleSAKey().PublicKey})
	e.Sim.AddUser("alice@example.com", 2)
	e.Sim.AddUser("bob@example.com", 1)
	simHandler := e.Sim.Handler()
	if o.wrapSim != nil {
		simHandler = o.wrapSim(simHandler)
	}
	simSrv := httptest.NewServer(simHandler)
	t.Cleanup(simSrv.Close)
	e.SimURL = simSrv.URL

	token := oktaToken
	if o.oktaToken != "" {
		token = o.oktaToken
	}
	specs := []connectors.Spec{{
		Name: "okta", Type: "okta",
		Settings: map[string]any{"base_url": simSrv.URL + "/okta", "token": token},
	}}
	if o.oktaRetryFor != "" {
		specs[0].Settings["retry_for"] = o.oktaRetryFor
	}
	if o.oktaRateLimit != nil {
		specs[0].Settings["rate_limit"] = o.oktaRateLimit
	}
	if o.allConnectors {
		specs = append(specs, simConnectors(t, simSrv.URL)...)
	}
	specs = append(specs, o.extraConnectors...)
	names := []string{"okta"}
	for _, s := range o.extraConnectors {
		names = append(names, s.Name)
	}
	deps := connectors.Deps{Logger: log}
	if o.rateLimits {
		rc := redis.NewClient(&redis.Options{Addr: e.Redis.Addr})
		t.Cleanup(func() { _ = rc.Close() })
		deps.RateLimits = ratelimit.Options{Redis: rc, Logger: log}
	}
	conns, err := connectors.Build(specs, registry.Connectors(), deps)
	if err != nil {
		t.Fatal(err)
	}
	windows, err := connectors.RetryWindows(specs)
	if err != nil {
		t.Fatal(err)
	}
	srcSpecs := append([]sources.Spec{{Name: "hr", Type: "generic", Settings: map[string]any{"secret": hrSecret}}}, o.extraSpecs...)
	if o.simSpecs != nil {
		srcSpecs = append(srcSpecs, o.simSpecs(simSrv.URL)...)
	}
	srcs, err := sources.Build(srcSpecs, registry.Sources(), sources.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	srcs = append(srcs, o.extra...)

	if !o.noWorker {
		relay := o.relay
		if relay == 0 {
			relay = time.Hour
		}
		e.WorkerOptions = worker.Options{
			Redis: redisOpt, Store: st, Connectors: conns, Sources: srcs, Logger: log,
			Concurrency: cmp.Or(o.concurrency, 4), TaskCheckInterval: cmp.Or(o.taskCheck, 10*time.Millisecond), RelayInterval: relay,
			ShutdownTimeout: 2 * time.Second, AuditLogInterval: o.auditLog, Metrics: o.metrics,
			Notify:  o.notify,
			Reasons: o.reasons, Intake: o.policy,
			RetryFor: windows, MaxBackoff: o.maxBackoff,
		}
		e.Worker = e.startWorker()
	}

	client := asynq.NewClient(redisOpt)
	t.Cleanup(func() { client.Close() })
	e.Insp = asynq.NewInspector(redisOpt)
	t.Cleanup(func() { e.Insp.Close() })
	admin := adminToken
	if o.adminToken != nil {
		admin = *o.adminToken
	}
	h := webhook.New(webhook.Options{
		Store: st, Queue: client, Redis: redisOpt, Sources: srcs, Connectors: names, After: connectors.After(conns),
		AdminToken: admin, Logger: log, Dashboard: true, EnqueueTimeout: 500 * time.Millisecond,
		Notify: o.notify.Settings(),
		Intake: o.policy,
	})
	t.Cleanup(func() { h.Close() })
	srv := httptest.NewUnstartedServer(h)
	srv.Config = webhook.NewHTTPServer(h)
	srv.Start()
	t.Cleanup(srv.Close)
	e.URL = srv.URL
	t.Cleanup(func() {
		if t.Failed() || testing.Verbose() {
			t.Logf("offboarder log:\n%s", e.Log.String())
		}
	})
	return e
}

// startWorker starts a worker with e.WorkerOptions, shut down at cleanup.
func (e *env) startWorker() *worker.Worker {
	e.t.Helper()
	w := worker.New(e.WorkerOptions)
	if err := w.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(w.Shutdown)
	return w
}

// body returns a generic webhook body.
func body(id, email string, extra ...string) []byte {
	s := fmt.Sprintf(`{"id":%q,"email":%q,"reason":"terminated"`, id, email)
	for _, x := range extra {
		s += "," + x
	}
	return []byte(s + "}")
}

// post sends a webhook signed with the hr secret (sig "" signs it now).
func (e *env) post(source string, b []byte, sig string) (int, map[string]any) {
	e.t.Helper()
	if sig == "" {
		sig = sources.SignatureValue(time.Now(), b, []byte(hrSecret))
	}
	req, _ := http.NewRequestWithContext(e.t.Context(), http.MethodPost, e.URL+"/webhooks/"+source, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if sig != "-" {
		req.Header.Set(sources.SignatureHeader, sig)
	}
	return e.do(req)
}

func (e *env) admin(method, path, token string, b []byte) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequestWithContext(e.t.Context(), method, e.URL+path, bytes.NewReader(b))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.do(req)
}

func (e *env) do(req *http.Request) (int, map[string]any) {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	if out == nil {
		out = map[string]any{"_raw": string(raw)}
	}
	return resp.StatusCode, out
}

// waitCase polls the store until the case is closed, or fails after 20s.
func (e *env) waitCase(id string) *store.Case {
	e.t.Helper()
	return e.waitClosed(id)
}

// queued counts tasks of a queue in every state but completed.
func (e *env) queued(queue string) int {
	e.t.Helper()
	info, err := e.Insp.GetQueueInfo(queue)
	if err != nil {
		return 0 // the queue does not exist yet: nothing was ever enqueued
	}
	return info.Pending + info.Active + info.Scheduled + info.Retry + info.Archived + info.Completed
}

func (e *env) cases() []store.Case {
	e.t.Helper()
	cs, err := e.Store.ListCases(context.Background(), store.CaseFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	return cs
}

// logBuffer collects the log of one env; safe for concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
