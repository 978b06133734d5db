package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/simulator"
	"github.com/offboarder/offboarder/store"
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
	stdout.Write(cfg.Redacted())
	fmt.Fprintf(stdout, "# %s: OK (%d sources, %d connectors)\n", *configPath, len(cfg.Sources), len(cfg.Connectors))
	if !*probe {
		return nil
	}
	if failed := probeConnectors(ctx, stdout, conns, *timeout); failed > 0 {
		return fmt.Errorf("%d of %d connectors failed the probe", failed, len(conns))
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

// cmdCases lists cases ("cases [--email E] [--state S]"), shows one
// ("cases show ID", or "cases ID"), verifies the audit log ("cases verify")
// or lists the open manual steps ("cases manual").
func cmdCases(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cases", flag.ContinueOnError)
	fs.SetOutput(stderr)
	client := newAPIClient(fs)
	email := fs.String("email", "", "only this subject")
	state := fs.String("state", "", "only this state")
	limit := fs.Int("limit", 50, "at most this many")
	asJSON := fs.Bool("json", false, "print JSON")
	anchor := fs.String("anchor", "", "with verify: SEQ:HASH, a head noted earlier, which the chain must still hold")
	var rest []string
	if len(args) > 0 && (args[0] == "list" || args[0] == "show" || args[0] == "verify" || args[0] == "manual") {
		rest, args = args[:1], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	rest = append(rest, fs.Args()...)
	if len(rest) > 0 && rest[0] == "list" {
		rest = rest[1:]
	}
	c, err := client()
	if err != nil {
		return err
	}
	if len(rest) > 0 && rest[0] == "verify" {
		if len(rest) != 1 {
			return fmt.Errorf("%w: cases verify takes no argument", errUsage)
		}
		return verifyAudit(ctx, c, stdout, *anchor, *asJSON)
	}
	if len(rest) > 0 && rest[0] == "manual" {
		if len(rest) != 1 {
			return fmt.Errorf("%w: cases manual takes no argument", errUsage)
		}
		return listManual(ctx, c, stdout, *limit, *asJSON)
	}
	if len(rest) > 0 {
		if rest[0] == "show" {
			rest = rest[1:]
		}
		if len(rest) != 1 {
			return fmt.Errorf("%w: cases show ID", errUsage)
		}
		var cs store.Case
		if err := c.do(ctx, http.MethodGet, "/v1/cases/"+url.PathEscape(rest[0]), nil, &cs); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(stdout, cs)
		}
		printCase(stdout, &cs)
		return nil
	}
	q := url.Values{}
	if *email != "" {
		q.Set("email", *email)
	}
	if *state != "" {
		q.Set("state", *state)
	}
	q.Set("limit", fmt.Sprint(*limit))
	var out struct {
		Cases []store.Case `json:"cases"`
	}
	if err := c.do(ctx, http.MethodGet, "/v1/cases?"+q.Encode(), nil, &out); err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tEMAIL\tREASON\tSTATE\tENTRIES\tCREATED")
	for _, cs := range out.Cases {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", cs.ID, cs.Email, cs.Reason, cs.State, summarize(cs.Entries), cs.CreatedAt.Local().Format(time.DateTime))
	}
	return tw.Flush()
}

func summarize(entries []store.Entry) string {
	counts := map[offboard.Outcome]int{}
	var order []offboard.Outcome
	for _, e := range entries {
		if counts[e.Outcome] == 0 {
			order = append(order, e.Outcome)
		}
		counts[e.Outcome]++
	}
	parts := make([]string, len(order))
	for i, o := range order {
		parts[i] = fmt.Sprintf("%d %s", counts[o], o)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func printCase(w io.Writer, cs *store.Case) {
	fmt.Fprintf(w, "case       %s\nemail      %s\nreason     %s\nstate      %s\ndry run    %v\neffective  %s\ncreated    %s\n",
		cs.ID, cs.Email, cs.Reason, cs.State, cs.DryRun, cs.EffectiveAt.Format(time.RFC3339), cs.CreatedAt.Format(time.RFC3339Nano))
	if cs.ClosedAt != nil {
		fmt.Fprintf(w, "closed     %s (%s after creation)\n", cs.ClosedAt.Format(time.RFC3339Nano), cs.ClosedAt.Sub(cs.CreatedAt).Round(time.Millisecond))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nCONNECTOR\tOUTCOME\tATTEMPTS\tFINISHED\tDETAIL")
	for _, e := range cs.Entries {
		fin := "-"
		if e.FinishedAt != nil {
			fin = e.FinishedAt.Format(time.RFC3339Nano)
		}
		// A failure's error, else what the connector said it ended.
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", e.Connector, e.Outcome, e.Attempts, fin, cmp.Or(e.LastError, e.Detail))
	}
	tw.Flush()
	if len(cs.Related) > 0 {
		fmt.Fprintln(w, "\nother cases of this person:")
		for _, r := range cs.Related {
			fmt.Fprintf(w, "  %s %s %s created %s\n", r.ID, r.State, r.Reason, r.CreatedAt.Format(time.RFC3339))
		}
	}
	fmt.Fprintln(w, "\naudit:")
	for _, a := range cs.Audit {
		fmt.Fprintf(w, "  #%d %s %s %s %s %s\n", a.Seq, a.At.Format(time.RFC3339Nano), a.Actor, a.Action, a.Connector, a.Detail)
	}
}

// verifyAudit asks the server to recompute the audit log's hash chain (and
// to check an anchor, SEQ:HASH, if given) and prints its head, or fails
// (exit 1) naming the first row that does not verify.
func verifyAudit(ctx context.Context, c *apiClient, stdout io.Writer, anchor string, asJSON bool) error {
	path := "/v1/audit/verify"
	if anchor != "" {
		seq, hash, ok := strings.Cut(anchor, ":")
		if !ok {
			return fmt.Errorf("%w: --anchor: want SEQ:HASH, as cases verify printed them", errUsage)
		}
		path += "?" + url.Values{"seq": {seq}, "hash": {hash}}.Encode()
	}
	var out struct {
		Verified    bool             `json:"verified"`
		Head        *store.AuditHead `json:"head,omitempty"`
		Anchor      *store.AuditHead `json:"anchor,omitempty"`
		FirstBadSeq int64            `json:"first_bad_seq,omitempty"`
		Reason      string           `json:"reason,omitempty"`
	}
	if err := c.do(ctx, http.MethodGet, path, nil, &out); err != nil {
		return err
	}
	if asJSON {
		if err := printJSON(stdout, out); err != nil {
			return err
		}
	} else if out.Verified && out.Head != nil {
		fmt.Fprintf(stdout, "audit log verified: %d rows; head %d:%s\n", out.Head.Seq, out.Head.Seq, out.Head.Hash)
		if out.Anchor != nil {
			fmt.Fprintf(stdout, "anchor %d:%s still holds\n", out.Anchor.Seq, out.Anchor.Hash)
		}
	}
	switch {
	case !out.Verified:
		return fmt.Errorf("the audit log does not verify: first bad row seq %d: %s", out.FirstBadSeq, out.Reason)
	case out.Head == nil:
		return fmt.Errorf("the server said verified but gave no head")
	}
	return nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// cmdSimulate serves the built-in SaaS simulator until interrupted.
func cmdSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8089", "listen address")
	users := fs.Int("users", 20, "seed this many users (user0001@example.com…) besides alice, bob and carol")
	latency := fs.Duration("latency", 0, "added to every vendor call")
	errorRate := fs.Float64("error-rate", 0, "share of vendor calls answered with a 5xx (0..1)")
	rateLimit := fs.Int("rate-limit", 0, "vendor calls per second per vendor before 429s (0: none)")
	googleOut := fs.String("google-credentials", "", "write a demo service account's JSON key, which the simulator's Google trusts, to this file")
	oktaOut := fs.String("okta-private-key", "", "write the private key (PEM) of a demo Okta service app, client id "+simulator.DemoOktaClientID+", which the simulator's Okta trusts, to this file")
	oktaDPoP := fs.Bool("okta-dpop", false, "the simulator's Okta service app requires DPoP (connector key dpop: true), as new Okta service apps do")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *errorRate < 0 || *errorRate > 1 || *rateLimit < 0 || *latency < 0 || *users < 0 {
		return fmt.Errorf("%w: --error-rate is 0..1; --latency, --rate-limit and --users are not negative", errUsage)
	}
	if *oktaDPoP && *oktaOut == "" {
		return fmt.Errorf("%w: --okta-dpop needs --okta-private-key (DPoP is for a service app)", errUsage)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	opts := simulator.Options{Latency: *latency, ErrorRate: *errorRate, RateLimit: *rateLimit, OktaDPoP: *oktaDPoP}
	hostport, err := dialable(ln.Addr().String())
	if err != nil {
		ln.Close()
		return err
	}
	base := "http://" + hostport
	// Demo credentials: fresh keys, written 0600 for a connector's
	// credentials_file / private_key_file; the simulator keeps the public
	// halves in memory only.
	if *googleOut != "" {
		creds, pub, err := simulator.DemoGoogleCredentials(base + "/google/token")
		if err == nil {
			err = os.WriteFile(*googleOut, creds, 0o600)
		}
		if err != nil {
			ln.Close()
			return fmt.Errorf("--google-credentials: %w", err)
		}
		opts.GoogleKey = pub
	}
	if *oktaOut != "" {
		pemKey, pub, err := simulator.DemoOktaKey()
		if err == nil {
			err = os.WriteFile(*oktaOut, pemKey, 0o600)
		}
		if err != nil {
			ln.Close()
			return fmt.Errorf("--okta-private-key: %w", err)
		}
		opts.OktaClientID, opts.OktaPublicKey = simulator.DemoOktaClientID, pub
	}
	sim := simulator.New(opts)
	sim.Seed(*users)
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "simulator listening on %s (okta: %s/okta; control: /_sim/)\n", base, base)
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// dialable is a listen address with an unspecified host (":8089",
// "0.0.0.0:8089", "[::]:8089") made 127.0.0.1, for URLs a client on this
// machine can call.
func dialable(hostport string) (string, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return "", err
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
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
