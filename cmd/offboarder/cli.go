package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/config"
	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/internal/redisurl"
	"github.com/offboarder/offboarder/registry"
)

// cmdCheck validates the config (and builds every source and connector) and
// prints it with every secret masked; with --probe it also calls each
// connector's cheapest authenticated read. Any problem exits non-zero.
func cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", env("OFFBOARDER_CONFIG", "config.yaml"), "config file")
	probe := fs.Bool("probe", false, "also call each connector's cheapest authenticated read and report whether its credentials and scopes work")
	timeout := fs.Duration("probe-timeout", 15*time.Second, "bound on each connector's probe")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, _, conns, err := load(*configPath, zerolog.Nop())
	if err != nil {
		return err
	}
	redis := "unset: the embedded in-memory Redis (run only; serve and work need one)"
	if url := os.Getenv("REDIS_URL"); url != "" {
		opt, err := redisurl.Parse(url)
		if err != nil {
			return fmt.Errorf("REDIS_URL: %w", err)
		}
		redis = redisurl.Describe(opt)
	}
	stdout.Write(cfg.Redacted())
	fmt.Fprintf(stdout, "# REDIS_URL: %s\n", redis)
	fmt.Fprintf(stdout, "# %s: OK (%d sources, %d connectors)\n", *configPath, len(cfg.Sources), len(cfg.Connectors))
	if err := printRateLimits(stdout, cfg); err != nil {
		return err
	}
	if !*probe {
		return nil
	}
	if failed := probeConnectors(ctx, stdout, conns, *timeout); failed > 0 {
		return fmt.Errorf("%d of %d connectors failed the probe", failed, len(conns))
	}
	return nil
}

// printRateLimits prints each connector's rate_limit in force, its own or
// its type's default, shared by every process on the same Redis.
func printRateLimits(w io.Writer, cfg *config.Config) error {
	specs := make([]connectors.Spec, len(cfg.Connectors))
	for i, e := range cfg.Connectors {
		specs[i] = connectors.Spec{Name: e.Name, Type: e.Type, Settings: e.Settings()}
	}
	limits, err := connectors.RateLimits(specs, registry.Connectors())
	if err != nil {
		return err
	}
	for _, s := range specs {
		fmt.Fprintf(w, "# %s: rate_limit %s\n", s.Name, limits[s.Name])
	}
	return nil
}

// probeConnectors runs every connector's Check concurrently and prints one
// line per connector, in config order. It returns how many failed.
func probeConnectors(ctx context.Context, w io.Writer, conns []connectors.Connector, timeout time.Duration) int {
	results := make([]error, len(conns))
	supported := make([]bool, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		chk, ok := c.(connectors.Checker)
		if !ok {
			continue
		}
		supported[i] = true
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			results[i] = chk.Check(cctx)
		})
	}
	wg.Wait()
	failed := 0
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONNECTOR\tPROBE\tDETAIL")
	for i, c := range conns {
		switch {
		case !supported[i]:
			fmt.Fprintf(tw, "%s\tskipped\tthis connector type has no probe\n", c.Name())
		case results[i] != nil:
			failed++
			fmt.Fprintf(tw, "%s\tFAILED\t%s\n", c.Name(), results[i])
		default:
			fmt.Fprintf(tw, "%s\tok\tcredentials and scopes work\n", c.Name())
		}
	}
	tw.Flush()
	return failed
}

// apiClient talks to a running offboarder's admin API.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

func newAPIClient(fs *flag.FlagSet) func() (*apiClient, error) {
	base := fs.String("url", env("OFFBOARDER_URL", "http://127.0.0.1:8080"), "offboarder server")
	return func() (*apiClient, error) {
		token := os.Getenv("OFFBOARDER_ADMIN_TOKEN")
		if token == "" {
			return nil, fmt.Errorf("%w: OFFBOARDER_ADMIN_TOKEN is not set", errUsage)
		}
		u, err := url.Parse(*base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%w: --url: want http(s)://host[:port]", errUsage)
		}
		return &apiClient{base: strings.TrimSuffix(*base, "/"), token: token, http: &http.Client{Timeout: 30 * time.Second}}, nil
	}
}

func (c *apiClient) do(ctx context.Context, method, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct{ Error string }
		_ = json.Unmarshal(b, &e)
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, e.Error)
	}
	return json.Unmarshal(b, out)
}

// cmdOffboard posts a manual trigger to /v1/offboard.
func cmdOffboard(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("offboard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	client := newAPIClient(fs)
	email := fs.String("email", "", "whom to offboard (required)")
	reason := fs.String("reason", "manual", "terminated, suspended, deactivated, security or manual")
	systems := fs.String("systems", "", "comma-separated connector names (default: all)")
	effective := fs.String("effective-at", "", "RFC 3339 time (default: now)")
	dryRun := fs.Bool("dry-run", false, "record the case; revoke nothing")
	id := fs.String("id", "", "event id (default: generated; a repeat is deduplicated)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" {
		return fmt.Errorf("%w: --email is required", errUsage)
	}
	c, err := client()
	if err != nil {
		return err
	}
	body := map[string]any{"email": *email, "reason": *reason}
	if *id != "" {
		body["id"] = *id
	}
	if *systems != "" {
		body["systems"] = strings.Split(*systems, ",")
	}
	if *effective != "" {
		body["effective_at"] = *effective
	}
	if *dryRun {
		body["dry_run"] = true
	}
	b, _ := json.Marshal(body)
	var out map[string]any
	if err := c.do(ctx, http.MethodPost, "/v1/offboard", b, &out); err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// cmdHealth exits 0 if the URL answers 200 within 5s: a container
// healthcheck for images without curl.
func cmdHealth(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	u := fs.String("url", "http://127.0.0.1:8080/readyz", "URL to check")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *u, nil)
	if err != nil {
		return fmt.Errorf("%w: --url: %w", errUsage, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", *u, resp.Status)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}
