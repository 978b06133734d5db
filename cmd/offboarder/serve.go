package main

import (
	"context"
	"crypto/rsa"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/mattn/go-isatty"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/config"
	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/intake"
	"github.com/offboarder/offboarder/internal/redisurl"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/registry"
	"github.com/offboarder/offboarder/simulator"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/tasks"
	"github.com/offboarder/offboarder/vendorapi/ratelimit"
	"github.com/offboarder/offboarder/webhook"
	"github.com/offboarder/offboarder/worker"
)

// serveFlags are the flags of run, serve and work.
type serveFlags struct {
	config, addr, simulator, logLevel string
	// googleOut is where --simulator writes its demo Google key ("": nowhere).
	googleOut string
}

func parseServeFlags(args []string, stderr io.Writer) (serveFlags, error) {
	var f serveFlags
	fs := flag.NewFlagSet("offboarder", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.config, "config", env("OFFBOARDER_CONFIG", "config.yaml"), "config file")
	fs.StringVar(&f.addr, "addr", env("OFFBOARDER_ADDR", ":8080"), "listen address")
	fs.StringVar(&f.simulator, "simulator", "", "also serve the built-in SaaS simulator on this address, seeded with demo users (for demos)")
	fs.StringVar(&f.logLevel, "log-level", env("OFFBOARDER_LOG_LEVEL", "info"), "debug, info, warn or error")
	fs.StringVar(&f.googleOut, "google-credentials", "", "with --simulator and GOOGLE_CREDENTIALS unset: also write the demo Google service account's JSON key to this file (0600), for `offboarder check --probe` in another shell")
	return f, fs.Parse(args)
}

// cmdServe runs the HTTP server, the worker, or both, until ctx ends.
func cmdServe(ctx context.Context, args []string, stderr io.Writer, serveHTTP, work bool) error {
	f, err := parseServeFlags(args, stderr)
	if err != nil {
		return err
	}
	log, closeLog, err := newLogger(stderr, f.logLevel)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	defer closeLog()
	p, err := openProcess(ctx, f, log, serveHTTP && work)
	defer p.close()
	if err != nil {
		return err
	}
	var w *worker.Worker
	if work {
		if w, err = p.startWorker(); err != nil {
			return err
		}
	}
	var handler http.Handler
	if serveHTTP {
		handler = p.webhookHandler()
	} else {
		handler = p.workerHandler()
	}
	err = listenAndServe(ctx, log, f.addr, handler, serveHTTP, w)
	log.Info().Msg("stopped")
	return err
}

// process is what the HTTP side and the worker side of one process share.
type process struct {
	cfg     *config.Config
	srcs    []sources.Source
	conns   []connectors.Connector
	docs    []webhook.Document // public /.well-known/ documents
	redis   asynq.RedisConnOpt
	store   *store.Store
	policy  policy
	intake  intake.Policy // protected accounts, held-case metrics
	reg     *prometheus.Registry
	log     zerolog.Logger
	closers []func() // run last first by close
	// embedded says Redis is the embedded in-memory one.
	embedded bool
}

// openProcess reads the config, connects Redis and the store, and starts
// the demo simulator when asked. Its process is closed by close, also when
// it fails half-way.
func openProcess(ctx context.Context, f serveFlags, log zerolog.Logger, embeddedRedis bool) (*process, error) {
	p := &process{log: log}
	var googleKey *rsa.PublicKey
	var err error
	if f.googleOut != "" && f.simulator == "" {
		return p, fmt.Errorf("%w: --google-credentials writes the simulator's demo key: it needs --simulator", errUsage)
	}
	if f.simulator != "" {
		if googleKey, err = demoGoogleCredentials(f.simulator, f.googleOut, log); err != nil {
			return p, err
		}
	}
	redisOpt, closeRedis, err := openRedis(log, embeddedRedis)
	if err != nil {
		return p, err
	}
	p.redis = redisOpt
	p.embedded = os.Getenv("REDIS_URL") == "" // openRedis started one
	p.closers = append(p.closers, closeRedis)
	p.reg = prometheus.NewRegistry()
	p.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Each connector's rate_limit is shared through this Redis by every
	// process (connectors.Deps.RateLimits).
	limits := ratelimit.Options{Logger: log, Metrics: ratelimit.NewMetrics(p.reg)}
	if rc, ok := redisOpt.MakeRedisClient().(redis.UniversalClient); ok {
		limits.Redis = rc
		p.closers = append(p.closers, func() { _ = rc.Close() })
	}
	if p.cfg, p.srcs, p.conns, err = loadWith(f.config, connectors.Deps{Logger: log, RateLimits: limits}); err != nil {
		return p, err
	}
	if p.docs, err = wellKnown(p.conns); err != nil {
		return p, err
	}
	if p.store, err = openStore(ctx, log); err != nil {
		return p, err
	}
	p.closers = append(p.closers, func() { _ = p.store.Close() })
	if p.policy, err = policyOf(p.cfg); err != nil {
		return p, err
	}
	p.store.SetGuard(p.policy.guard)
	p.intake = p.policy.intakePolicy(p.reg)
	if n := notifications(p.cfg.Notifications).Settings(); slices.Contains(n.On, offboard.StateAwaitingApproval) && len(n.Destinations) > 0 {
		client := asynq.NewClient(p.redis)
		p.closers = append(p.closers, func() { _ = client.Close() })
		p.intake.Notifier = heldNotifier{q: tasks.NewQueue(client, tasks.Settings{Notify: n}), log: log}
	}
	if f.simulator != "" {
		stopSim, err := startSimulator(f.simulator, googleKey, log)
		if err != nil {
			return p, err
		}
		p.closers = append(p.closers, stopSim)
	}
	return p, nil
}

// close releases what the process opened, last first.
func (p *process) close() {
	for i := len(p.closers) - 1; i >= 0; i-- {
		p.closers[i]()
	}
}

// startWorker starts the worker side: the asynq server and the relay.
func (p *process) startWorker() (*worker.Worker, error) {
	cfg := p.cfg
	windows, err := retryWindows(cfg)
	if err != nil {
		return nil, err
	}
	w := worker.New(worker.Options{
		RetryFor: windows,
		Redis:    p.redis, Store: p.store, Connectors: p.conns, Sources: p.srcs, Logger: p.log, Metrics: worker.NewMetrics(p.reg),
		Concurrency: cfg.Worker.Concurrency, TaskCheckInterval: cfg.Worker.TaskCheckInterval,
		RelayInterval: cfg.Worker.RelayInterval, ShutdownTimeout: cfg.Worker.ShutdownTimeout,
		MaxRetry: cfg.Worker.MaxRetry, DryRun: cfg.Policy.DryRun,
		Notify:  notifications(cfg.Notifications),
		Reasons: p.policy.reasons, Intake: p.intake,
	})
	if err := w.Start(); err != nil {
		return nil, err
	}
	p.log.Info().Int("connectors", len(p.conns)).Int("concurrency", cfg.Worker.Concurrency).Msg("worker started")
	return w, nil
}

// webhookHandler is the HTTP side: webhooks, the admin API, the dashboard,
// health and metrics. It is closed with the process.
func (p *process) webhookHandler() http.Handler {
	token := os.Getenv("OFFBOARDER_ADMIN_TOKEN")
	if token == "" {
		p.log.Warn().Msg("OFFBOARDER_ADMIN_TOKEN is not set: the admin API and the dashboard refuse every request")
	}
	names := make([]string, len(p.conns))
	for i, c := range p.conns {
		names[i] = c.Name()
	}
	client := asynq.NewClient(p.redis)
	h := webhook.New(webhook.Options{
		Store: p.store, Queue: client, Redis: p.redis, Sources: p.srcs, Connectors: names, After: connectors.After(p.conns),
		AdminToken: token, Logger: p.log, Registry: p.reg, Dashboard: true, EmbeddedRedis: p.embedded, WellKnown: p.docs,
		RevokeMaxRetry: p.cfg.Worker.MaxRetry,
		IngestTimeout:  p.cfg.Server.IngestTimeout,
		Notify:         notifications(p.cfg.Notifications).Settings(),
		Intake:         p.intake,
	})
	p.closers = append(p.closers, func() { _ = client.Close() }, func() { _ = h.Close() })
	return h
}

// workerHandler is what a worker alone serves over HTTP, with the
// server's own code: health, readiness, its metrics (with
// offboarder_queue_paused: a paused queue stops this worker too) and, to
// the admin token's holder, its profiles. It is closed with the process.
func (p *process) workerHandler() http.Handler {
	h := webhook.NewHealth(webhook.Options{
		Store: p.store, Redis: p.redis, AdminToken: os.Getenv("OFFBOARDER_ADMIN_TOKEN"), Logger: p.log, Registry: p.reg,
	})
	p.closers = append(p.closers, func() { _ = h.Close() })
	return h
}

// listenAndServe serves handler on addr until ctx ends or the server
// fails, then shuts the server down (10 s for requests in flight) and the
// worker w, if any.
func listenAndServe(ctx context.Context, log zerolog.Logger, addr string, handler http.Handler, webhooks bool, w *worker.Worker) error {
	if w != nil {
		defer w.Shutdown()
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	srv := webhook.NewHTTPServer(handler)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info().Str("addr", ln.Addr().String()).Bool("webhooks", webhooks).Msg("listening")

	select {
	case <-ctx.Done():
		log.Info().Msg("shutting down")
	case err = <-serveErr:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if e := srv.Shutdown(sctx); e != nil {
		log.Warn().Err(e).Msg("http shutdown")
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// retryWindows is each connector's retry_for (checked by load already).
func retryWindows(cfg *config.Config) (map[string]time.Duration, error) {
	specs := make([]connectors.Spec, len(cfg.Connectors))
	for i, e := range cfg.Connectors {
		specs[i] = connectors.Spec{Name: e.Name, Type: e.Type, Settings: e.Settings()}
	}
	return connectors.RetryWindows(specs)
}

// load reads the config and builds every source and connector, reporting all
// problems at once. Its connectors are not rate limited (loadWith).
func load(path string, log zerolog.Logger) (*config.Config, []sources.Source, []connectors.Connector, error) {
	return loadWith(path, connectors.Deps{Logger: log})
}

// loadWith is load with the connectors' deps: a process that revokes
// passes its Redis for the connectors' rate_limit.
func loadWith(path string, deps connectors.Deps) (*config.Config, []sources.Source, []connectors.Connector, error) {
	var (
		srcs  []sources.Source
		conns []connectors.Connector
	)
	cfg, err := config.LoadChecked(path, func(cfg *config.Config) error {
		srcSpecs := make([]sources.Spec, len(cfg.Sources))
		for i, e := range cfg.Sources {
			srcSpecs[i] = sources.Spec{Name: e.Name, Type: e.Type, Settings: e.Settings()}
		}
		connSpecs := make([]connectors.Spec, len(cfg.Connectors))
		for i, e := range cfg.Connectors {
			connSpecs[i] = connectors.Spec{Name: e.Name, Type: e.Type, Settings: e.Settings()}
		}
		var err1, err2 error
		srcs, err1 = sources.Build(srcSpecs, registry.Sources(), sources.Deps{})
		conns, err2 = connectors.Build(connSpecs, registry.Connectors(), deps)
		var err3 error
		if err2 == nil {
			_, err3 = wellKnown(conns)
		}
		if err1 == nil && err2 == nil {
			err3 = errors.Join(err3, worker.CheckResolveWith(srcs, conns))
		}
		_, err4 := policyOf(cfg)
		return errors.Join(err1, err2, err3, err4)
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("config %s:\n%w", path, err)
	}
	return cfg, srcs, conns, nil
}

func openStore(ctx context.Context, log zerolog.Logger) (*store.Store, error) {
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		log.Warn().Str("file", "offboarder.db").Msg("STORE: embedded SQLite file (set DATABASE_URL=postgres://… in production)")
	}
	st, err := store.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	log.Info().Str("dialect", st.Dialect()).Msg("store ready")
	return st, nil
}

// redisLog writes go-redis's log lines to a zerolog.Logger, at info.
type redisLog struct{ log zerolog.Logger }

// Printf implements go-redis's internal.Logging.
func (l redisLog) Printf(_ context.Context, format string, v ...any) {
	l.log.Info().Msg(fmt.Sprintf(format, v...))
}

// topology says in a word how the Redis of opt is reached.
func topology(opt asynq.RedisConnOpt) string {
	if _, ok := opt.(asynq.RedisFailoverClientOpt); ok {
		return "through Sentinel (the master is followed across failovers)"
	}
	return "one server"
}

// openRedis connects to REDIS_URL (internal/redisurl: redis://, rediss://,
// redis-socket:// or redis+sentinel://) or, for "run" only, starts an embedded
// in-memory Redis: work in flight is lost with the process and rebuilt from
// the database by the relay at the next start.
func openRedis(log zerolog.Logger, embeddedOK bool) (asynq.RedisConnOpt, func(), error) {
	if url := os.Getenv("REDIS_URL"); url != "" {
		opt, err := redisurl.Parse(url)
		if err != nil {
			return nil, nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		log.Info().Str("redis", redisurl.Describe(opt)).Msg("REDIS: " + topology(opt))
		// go-redis's own lines (a sentinel naming a new master, a dial that
		// failed during a failover) go to this log, not to stderr unformatted.
		redis.SetLogger(redisLog{log.With().Str("component", "redis").Logger()})
		return opt, func() {}, nil
	}
	if !embeddedOK {
		return nil, nil, errors.New("REDIS_URL is required: serve and work run as separate processes and must share a Redis")
	}
	m := miniredis.NewMiniRedis()
	if err := m.Start(); err != nil {
		return nil, nil, fmt.Errorf("embedded redis: %w", err)
	}
	log.Warn().Str("addr", m.Addr()).Msg("REDIS: embedded in-memory Redis — work in flight is rebuilt from the database after a restart; set REDIS_URL in production")
	return asynq.RedisClientOpt{Addr: m.Addr(), DialTimeout: time.Second}, m.Close, nil
}

// demoGoogleCredentials gives the demo a Google service account the
// simulator on simAddr accepts: when GOOGLE_CREDENTIALS is unset, it is set
// (in this process only, before the config is read) to a fresh key whose
// token_uri is the simulator's. It returns the key the simulator must
// accept, or nil when GOOGLE_CREDENTIALS was given. With out set, the key
// is also written there (0600, a fresh key at every start: its token_uri
// names this simulator), for `offboarder check --probe` in another shell.
func demoGoogleCredentials(simAddr, out string, log zerolog.Logger) (*rsa.PublicKey, error) {
	if os.Getenv("GOOGLE_CREDENTIALS") != "" {
		return nil, nil
	}
	hostport, err := dialable(simAddr)
	if err != nil {
		return nil, fmt.Errorf("%w: --simulator %q: %w", errUsage, simAddr, err)
	}
	creds, pub, err := simulator.DemoGoogleCredentials("http://" + hostport + "/google/token")
	if err != nil {
		return nil, err
	}
	if out != "" {
		if err := os.WriteFile(out, creds, 0o600); err != nil {
			return nil, fmt.Errorf("--google-credentials: %w", err)
		}
	}
	if err := os.Setenv("GOOGLE_CREDENTIALS", string(creds)); err != nil {
		return nil, err
	}
	log.Warn().Str("client_email", simulator.DemoGoogleServiceAccount).
		Msg("SIMULATOR: GOOGLE_CREDENTIALS set to a demo service account the simulator accepts")
	return pub, nil
}

func startSimulator(addr string, googleKey *rsa.PublicKey, log zerolog.Logger) (func(), error) {
	sim := simulator.New(simulator.Options{GoogleKey: googleKey})
	sim.Seed(20)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("simulator: listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	log.Warn().Str("addr", ln.Addr().String()).Msg("SIMULATOR: serving fake vendor APIs for the demo; not for production")
	return func() { _ = srv.Close() }, nil
}

// newLogger logs at level to w: to a terminal for people to read, to
// anything else as JSON lines; to a file that is not a terminal (a pipe to
// a container runtime or journald, a log file) through a bufferedLog, so
// that a delivery's line is not a write system call of its own. close
// writes out what is gathered; call it before the process exits.
func newLogger(w io.Writer, level string) (log zerolog.Logger, close func(), err error) {
	lvl, err := zerolog.ParseLevel(strings.ToLower(level))
	if err != nil || level == "" {
		return zerolog.Logger{}, nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	close = func() {}
	if f, ok := w.(*os.File); ok {
		if isatty.IsTerminal(f.Fd()) {
			w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
		} else {
			b := newBufferedLog(f, logFlushEvery)
			w, close = b, func() { _ = b.Close() }
		}
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), close, nil
}
