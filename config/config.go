// Package config reads offboarder's YAML file: the sources that send webhooks,
// the connectors whose sessions are revoked, the worker settings and the policy.
//
// It owns the file format, ${ENV} expansion, `x_file` secrets and the
// structural checks (names, uniqueness, bounds). It imports no other offboarder
// package: each source and connector type decodes and checks its own keys from
// Entry.Settings in the sources and connectors packages.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the resolved configuration: environment variables expanded,
// `x_file` secrets read, defaults applied.
type Config struct {
	// Sources are the webhook senders (yaml "sources"), in file order.
	Sources []Entry
	// Connectors are the systems whose sessions are revoked (yaml
	// "connectors"), in file order.
	Connectors []Entry
	// Worker tunes the task worker (yaml "worker"); a missing or empty key
	// keeps its default.
	Worker Worker
	// Policy decides what is done with a case (yaml "policy").
	Policy Policy
	// Notifications say whom to tell when a case needs a person (yaml
	// "notifications").
	Notifications Notifications
	// Server tunes the HTTP server that takes deliveries (yaml "server").
	Server Server
}

// Worker tunes the task worker. Parse fills every field left out of the file
// with its default; Validate rejects a value outside its bounds, so a zero
// Worker built by hand does not validate.
type Worker struct {
	// Concurrency is how many tasks run at once (yaml "concurrency");
	// default 100, allowed 1..1000. A revoke mostly waits on a vendor, so
	// many run at once cheaply; vendors' rate limits are honoured per call.
	Concurrency int
	// TaskCheckInterval is how often an idle worker looks for a task (yaml
	// "task_check_interval"); default 5ms, allowed 5ms..5s. Each hop from
	// one task to the next waits about this long when the queues were idle;
	// an idle worker asks Redis about this often.
	TaskCheckInterval time.Duration
	// RelayInterval is how often the relay re-enqueues pending entries that
	// have no live task (yaml "relay_interval"); default 10s, allowed 1s..1h.
	RelayInterval time.Duration
	// ShutdownTimeout is how long running tasks get to finish on shutdown
	// (yaml "shutdown_timeout"); default 25s, allowed 1s..10m.
	ShutdownTimeout time.Duration
	// MaxRetry is how often a failed task is retried before it is archived
	// (yaml "max_retry"); default none (a revoke is bounded by its
	// connector's retry_for, not a count), allowed 0..100.
	MaxRetry int
}

func defaultWorker() Worker {
	return Worker{
		Concurrency:       100,
		TaskCheckInterval: 5 * time.Millisecond,
		RelayInterval:     10 * time.Second,
		ShutdownTimeout:   25 * time.Second,
		MaxRetry:          20,
	}
}

// Load reads the file at path and returns Parse's result for it, with the
// process environment for ${VAR} and `x_file` paths taken relative to the
// directory of the config file when they are not absolute. A missing file is
// an error saying so.
func Load(path string) (*Config, error) { return LoadChecked(path, nil) }

// LoadChecked is Load with one more check: check sees the config as far as it
// could be read (even when it has structural problems) and its error — the
// type-specific problems of sources and connectors — is joined with the
// others, so that every problem of a file is reported in one go.
func LoadChecked(path string, check func(*Config) error) (*Config, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("config file %s does not exist", path)
	}
	if err != nil {
		return nil, fmt.Errorf("config file %s: cannot read: %w", path, pathless(err))
	}
	dir := filepath.Dir(path)
	return parse(data, nil, func(name string) ([]byte, error) {
		if !filepath.IsAbs(name) {
			name = filepath.Join(dir, name)
		}
		return os.ReadFile(name)
	}, check)
}

// Parse parses data as a config file: it expands ${VAR} through env (nil:
// os.LookupEnv), reads `x_file` secrets through readFile (nil: os.ReadFile,
// relative paths from the working directory), applies defaults and runs
// Validate. On any problem it returns a nil Config and errors.Join of every
// problem found, each prefixed with its key path and, where known, followed
// by its line. Empty data is a config with no sources and no connectors, so it
// fails validation. No error text ever holds a secret's value.
func Parse(data []byte, env func(string) (string, bool), readFile func(string) ([]byte, error)) (*Config, error) {
	return parse(data, env, readFile, nil)
}

func parse(data []byte, env func(string) (string, bool), readFile func(string) ([]byte, error), check func(*Config) error) (*Config, error) {
	if env == nil {
		env = os.LookupEnv
	}
	if readFile == nil {
		readFile = os.ReadFile
	}
	p := &parser{env: env, readFile: readFile, open: map[*yaml.Node]bool{}}
	cfg := p.parse(data)
	if cfg == nil {
		return nil, errors.Join(p.errs...)
	}
	errs := append(p.errs, cfg.problems()...)
	if check != nil {
		errs = append(errs, check(cfg))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return cfg, nil
}

// pathless drops the path from an fs.PathError, for messages that name the
// path themselves.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
