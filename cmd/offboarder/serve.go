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
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/mattn/go-isatty"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/config"
	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/registry"
	"github.com/offboarder/offboarder/simulator"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/webhook"
	"github.com/offboarder/offboarder/worker"
)

// cmdServe runs the HTTP server, the worker, or both.
func cmdServe(ctx context.Context, args []string, stderr io.Writer, serveHTTP, work bool) error {
	fs := flag.NewFlagSet("offboarder", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", env("OFFBOARDER_CONFIG", "config.yaml"), "config file")
	addr := fs.String("addr", env("OFFBOARDER_ADDR", ":8080"), "listen address")
	simAddr := fs.String("simulator", "", "also serve the built-in SaaS simulator on this address, seeded with demo users (for demos)")
	logLevel := fs.String("log-level", env("OFFBOARDER_LOG_LEVEL", "info"), "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := newLogger(stderr, *logLevel)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}

	var googleKey *rsa.PublicKey
	if *simAddr != "" {
		if googleKey, err = demoGoogleCredentials(*simAddr, log); err != nil {
			return err
		}
	}

	cfg, srcs, conns, err := load(*configPath, log)
	if err != nil {
		return err
	}

	redisOpt, closeRedis, err := openRedis(log, serveHTTP && work)
	if err != nil {
		return err
	}
	defer closeRedis()

	st, err := openStore(ctx, log)
	if err != nil {
		return err
	}
	defer st.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	if *simAddr != "" {
		stopSim, err := startSimulator(*simAddr, googleKey, log)
		if err != nil {
			return err
		}
		defer stopSim()
	}

	var w *worker.Worker
	if work {
		w = worker.New(worker.Options{
			Redis: redisOpt, Store: st, Connectors: conns, Sources: srcs, Logger: log, Metrics: worker.NewMetrics(reg),
			Concurrency: cfg.Worker.Concurrency, TaskCheckInterval: cfg.Worker.TaskCheckInterval,
			RelayInterval: cfg.Worker.RelayInterval, ShutdownTimeout: cfg.Worker.ShutdownTimeout,
			MaxRetry: cfg.Worker.MaxRetry, DryRun: cfg.Policy.DryRun,
		})
		if err := w.Start(); err != nil {
			return err
		}
		log.Info().Int("connectors", len(conns)).Int("concurrency", cfg.Worker.Concurrency).Msg("worker started")
	}

	var (
		srv      *http.Server
		handler  http.Handler
		serveErr = make(chan error, 1)
	)
	if serveHTTP {
		token := os.Getenv("OFFBOARDER_ADMIN_TOKEN")
		if token == "" {
			log.Warn().Msg("OFFBOARDER_ADMIN_TOKEN is not set: the admin API and the dashboard refuse every request")
		}
		names := make([]string, len(conns))
		for i, c := range conns {
			names[i] = c.Name()
		}
		client := asynq.NewClient(redisOpt)
		defer client.Close()
		h := webhook.New(webhook.Options{
			Store: st, Queue: client, Redis: redisOpt, Sources: srcs, Connectors: names,
			AdminToken: token, Logger: log, Registry: reg, Dashboard: true,
		})
		defer h.Close()
		handler = h
	} else {
		// A worker alone still answers health checks and serves its metrics
		// (with offboarder_queue_paused: a paused queue stops this worker
		// too) and, to the admin token's holder, its profiles.
		queues := webhook.WatchQueues(redisOpt, reg, log, 0)
		defer queues.Close()
		mux := http.NewServeMux()
		mux.Handle(webhook.ProfilePath+"/", webhook.ProfileHandler(os.Getenv("OFFBOARDER_ADMIN_TOKEN")))
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"status":"ok"}`) })
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		handler = mux
	}
	{
		ln, err := net.Listen("tcp", *addr)
		if err != nil {
			if w != nil {
				w.Shutdown()
			}
			return fmt.Errorf("listen %s: %w", *addr, err)
		}
		srv = webhook.NewHTTPServer(handler)
		go func() { serveErr <- srv.Serve(ln) }()
		log.Info().Str("addr", ln.Addr().String()).Bool("webhooks", serveHTTP).Msg("listening")
	}

	select {
	case <-ctx.Done():
		log.Info().Msg("shutting down")
	case err = <-serveErr:
	}
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if e := srv.Shutdown(sctx); e != nil {
			log.Warn().Err(e).Msg("http shutdown")
		}
		cancel()
	}
	if w != nil {
		w.Shutdown()
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	log.Info().Msg("stopped")
	return err
}

// load reads the config and builds every source and connector, reporting all
// problems at once.
func load(path string, log zerolog.Logger) (*config.Config, []sources.Source, []connectors.Connector, error) {
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
		conns, err2 = connectors.Build(connSpecs, connectors.Deps{Logger: log})
		return errors.Join(err1, err2)
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

// openRedis connects to REDIS_URL or, for "run" only, starts an embedded
// in-memory Redis: work in flight is lost with the process and rebuilt from
// the database by the relay at the next start.
func openRedis(log zerolog.Logger, embeddedOK bool) (asynq.RedisConnOpt, func(), error) {
	if url := os.Getenv("REDIS_URL"); url != "" {
		opt, err := asynq.ParseRedisURI(url)
		if err != nil {
			return nil, nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		if o, ok := opt.(asynq.RedisClientOpt); ok {
			o.DialTimeout, o.ReadTimeout, o.WriteTimeout = time.Second, 2*time.Second, 2*time.Second
			opt = o
		}
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
// accept, or nil when GOOGLE_CREDENTIALS was given.
func demoGoogleCredentials(simAddr string, log zerolog.Logger) (*rsa.PublicKey, error) {
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

func newLogger(w io.Writer, level string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(strings.ToLower(level))
	if err != nil || level == "" {
		return zerolog.Logger{}, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}
