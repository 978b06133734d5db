package config

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// AdminSource is the source name under which the admin API's manual
// trigger (POST /v1/offboard, offboarder offboard) records its events; no
// configured source may take it.
const AdminSource = "admin"

// Validate checks the structure of c and returns errors.Join of every
// problem, each prefixed with its key path: at least one source and one
// connector; every entry with a name and a type; names matching
// ^[a-z0-9][a-z0-9_-]{0,62}$ and unique among the sources and among the
// connectors (a source and a connector may share a name), no source named
// AdminSource; worker values within
// their bounds; the policy's bounds, reason words and connector names. The keys of each type are checked by the sources and
// connectors packages, not here.
func (c *Config) Validate() error { return errors.Join(c.problems()...) }

func (c *Config) problems() []error {
	errs := entryProblems("sources", c.Sources)
	errs = append(errs, entryProblems("connectors", c.Connectors)...)
	errs = append(errs, c.Notifications.problems()...)
	errs = append(errs, c.Worker.problems()...)
	errs = append(errs, c.Server.problems()...)
	return append(errs, c.Policy.problems(c.Connectors)...)
}

func entryProblems(list string, entries []Entry) []error {
	if len(entries) == 0 {
		return []error{fmt.Errorf("%s: no %s configured", list, list)}
	}
	var errs []error
	fail := func(path string, line int, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if line > 0 {
			msg += fmt.Sprintf(" (line %d)", line)
		}
		errs = append(errs, errors.New(path+": "+msg))
	}
	first := map[string]string{}
	for i, e := range entries {
		path := e.Path
		if path == "" {
			path = fmt.Sprintf("%s[%d]", list, i)
		}
		switch {
		case e.Name == "":
			fail(path, e.line, "name is required")
		case !nameRE.MatchString(e.Name):
			fail(path+".name", e.line, "invalid name %q: use 1 to 63 lower-case letters, digits, '-' or '_', starting with a letter or digit", e.Name)
		case list == "sources" && e.Name == AdminSource:
			fail(label(path, e.Name)+".name", e.line, "%q is reserved: the admin API records its manual offboardings under it", AdminSource)
		case first[e.Name] != "":
			fail(label(path, e.Name)+".name", e.line, "duplicate name %s, already used by %s", e.Name, first[e.Name])
		default:
			first[e.Name] = path
		}
		if e.Type == "" {
			fail(label(path, e.Name), e.line, "type is required")
		}
	}
	return errs
}

func (w Worker) problems() []error {
	var errs []error
	if w.Concurrency < 1 || w.Concurrency > 1000 {
		errs = append(errs, fmt.Errorf("worker.concurrency: %d is out of range 1..1000", w.Concurrency))
	}
	durations := []struct {
		key     string
		v, l, h time.Duration
	}{
		{"task_check_interval", w.TaskCheckInterval, 5 * time.Millisecond, 5 * time.Second},
		{"relay_interval", w.RelayInterval, time.Second, time.Hour},
		{"shutdown_timeout", w.ShutdownTimeout, time.Second, 10 * time.Minute},
	}
	for _, d := range durations {
		if d.v < d.l || d.v > d.h {
			errs = append(errs, fmt.Errorf("worker.%s: %s is out of range %s..%s", d.key, short(d.v), short(d.l), short(d.h)))
		}
	}
	if w.MaxRetry < 0 || w.MaxRetry > 100 {
		errs = append(errs, fmt.Errorf("worker.max_retry: %d is out of range 0..100", w.MaxRetry))
	}
	return errs
}

// short formats d without trailing zero units: 1h rather than 1h0m0s.
func short(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
