package e2e

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

// demo is `make run` started by a test: its address, the make variables
// that point every other make target at it, and its output.
type demo struct {
	root, addr string
	vars       []string
	dir        string
	log        *lockedBuffer
}

// startDemo runs `make run` on free ports with its own .run directory and
// database, as a newcomer does, and waits until it is ready; the process
// group is ended at cleanup.
func startDemo(t *testing.T) *demo {
	t.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("SKIP: make is not installed")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	d := &demo{root: root, dir: t.TempDir(), addr: freeAddr(t), log: &lockedBuffer{}}
	d.vars = []string{"ADDR=" + d.addr, "SIM=" + freeAddr(t), "RUN=" + d.dir}
	run := exec.Command("make", append([]string{"-s", "-C", root, "run"}, d.vars...)...)
	run.Env = append(os.Environ(), "DATABASE_URL=sqlite:"+filepath.Join(d.dir, "demo.db"))
	for _, k := range []string{"GOOGLE_CREDENTIALS", "REDIS_URL"} { // the demo's own defaults
		run.Env = append(run.Env, k+"=")
	}
	run.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // make and the service it starts
	run.Stdout, run.Stderr = d.log, d.log
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-run.Process.Pid, syscall.SIGTERM)
		_, _ = run.Process.Wait()
	})
	waitReady(t, "http://"+d.addr, d.log)
	return d
}

// make runs one make target against the demo and answers its output.
func (d *demo) make(t *testing.T, target string, env ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("make", append([]string{"-s", "-C", d.root, target}, d.vars...)...)
	cmd.Env = append(append(os.Environ(), "GOOGLE_CREDENTIALS="), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestMakeProbeAgainstTheDemo: with `make run` going, `make probe` in
// another shell probes every connector of the demo's config with the
// demo's environment (the simulator's Google key from .run/google-sa.json)
// and every connector that has a probe answers ok.
func TestMakeProbeAgainstTheDemo(t *testing.T) {
	d := startDemo(t)
	out, err := d.make(t, "probe")
	if err != nil {
		t.Fatalf("make probe: %v\n%s\ndemo log:\n%s", err, out, d.log)
	}
	for _, c := range []string{"okta", "entra", "auth0", "keycloak", "onelogin", "google", "slack", "github",
		"zoom", "zendesk", "pagerduty", "dropbox", "atlassian", "lucid"} {
		if !regexp.MustCompile(`(?m)^` + c + `\s+ok\s`).MatchString(out) {
			t.Errorf("make probe: %s is not ok:\n%s", c, out)
		}
	}
	if strings.Contains(out, "FAILED") || !regexp.MustCompile(`(?m)^lucid-logout\s+skipped\s`).MatchString(out) {
		t.Errorf("make probe: want no FAILED line and the manual lucid-logout skipped:\n%s", out)
	}
	if fi, err := os.Stat(filepath.Join(d.dir, "google-sa.json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the demo's google key: %v, %v; want a file only its owner reads", fi, err)
	}
}

// TestMakeProbeWithoutTheDemo: `make probe` before `make run` says what to do.
func TestMakeProbeWithoutTheDemo(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("SKIP: make is not installed")
	}
	root, _ := filepath.Abs("..")
	d := &demo{root: root, vars: []string{"RUN=" + t.TempDir()}}
	out, err := d.make(t, "probe")
	if err == nil || !strings.Contains(out, "start the demo first (make run)") {
		t.Errorf("make probe without the demo: %v\n%s", err, out)
	}
}

// promParser is Prometheus's own PromQL parser, as its rule loader uses it.
var promParser = parser.NewParser(parser.Options{})

// selectors answers, for a PromQL expression, the metric names it reads
// and the label names it matches on each.
func selectors(t *testing.T, expr string) map[string][]string {
	t.Helper()
	e, err := promParser.ParseExpr(expr)
	if err != nil {
		t.Fatalf("%q: %v", expr, err)
	}
	out := map[string][]string{}
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		var labels []string
		for _, m := range vs.LabelMatchers {
			if m.Name != model.MetricNameLabel {
				labels = append(labels, m.Name)
			}
		}
		out[vs.Name] = append(out[vs.Name], labels...)
		return nil
	})
	if len(out) == 0 {
		t.Errorf("%q reads no metric", expr)
	}
	return out
}

// dashboardExprs answers every target expression of a Grafana dashboard's
// panels (rows' panels too) and the panels' titles.
func dashboardExprs(t *testing.T, path string) (exprs, titles []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	type panel struct {
		Title   string `json:"title"`
		Type    string `json:"type"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
		Panels []json.RawMessage `json:"panels"`
	}
	var dash struct {
		Title  string            `json:"title"`
		UID    string            `json:"uid"`
		Panels []json.RawMessage `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("%s is not valid JSON: %v", path, err)
	}
	if dash.Title == "" || dash.UID == "" || len(dash.Panels) == 0 {
		t.Fatalf("%s: want a title, a uid and panels", path)
	}
	var walk func([]json.RawMessage)
	walk = func(raw []json.RawMessage) {
		for _, r := range raw {
			var p panel
			if err := json.Unmarshal(r, &p); err != nil {
				t.Fatalf("%s: a panel: %v", path, err)
			}
			if p.Type != "row" && len(p.Targets) == 0 {
				t.Errorf("%s: panel %q queries nothing", path, p.Title)
			}
			titles = append(titles, p.Title)
			for _, tg := range p.Targets {
				exprs = append(exprs, tg.Expr)
			}
			walk(p.Panels)
		}
	}
	walk(dash.Panels)
	return exprs, titles
}

// scrapeNames reads /metrics at base and answers each metric name (as a
// query names it: a histogram's _bucket, _sum and _count each) with the
// label names its series carry.
func scrapeNames(t *testing.T, base string) map[string]map[string]bool {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	series := regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? `)
	label := regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="`)
	out := map[string]map[string]bool{}
	for line := range strings.Lines(string(b)) {
		m := series.FindStringSubmatch(line)
		if m == nil || strings.HasPrefix(line, "#") {
			continue
		}
		if out[m[1]] == nil {
			out[m[1]] = map[string]bool{}
		}
		for _, l := range label.FindAllStringSubmatch(m[2], -1) {
			out[m[1]][l[1]] = true
		}
	}
	return out
}

// TestDeployedAlertsAndDashboard: deploy/prometheus/alerts.yml loads with
// Prometheus's own rule parser (the one `promtool check rules` and the
// server use: YAML shape, PromQL, durations, label names, annotation
// templates), it alerts on what an operator must act on, and every metric
// its rules and the Grafana dashboard's panels read — with every label they
// match on — is in the /metrics of a running `make run` after one
// offboarding and one forged delivery.
func TestDeployedAlertsAndDashboard(t *testing.T) {
	rulesPath := filepath.Join("..", "deploy", "prometheus", "alerts.yml")
	groups, errs := rulefmt.ParseFile(rulesPath, false, model.UTF8Validation, promParser, slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		t.Fatalf("%s does not load: %v", rulesPath, errs)
	}
	var exprs, alerts []string
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
			alerts = append(alerts, r.Alert)
			if r.Alert != "" && (r.Annotations["summary"] == "" || r.Annotations["description"] == "") {
				t.Errorf("alert %s: want a summary and a description that say what to do", r.Alert)
			}
		}
	}
	// What the rules must catch, by the metric that shows it.
	for what, metric := range map[string]string{
		"failed outcomes": "offboarder_entry_outcomes_total", "manual steps older than a day": "offboarder_manual_oldest_seconds",
		"unauthorized deliveries": "offboarder_webhook_deliveries_total", "audit chain not verified": "offboarder_audit_chain_verified",
		"queue paused": "offboarder_queue_paused", "relay re-creating work": "offboarder_relay_tasks_total",
	} {
		if !slices.ContainsFunc(exprs, func(e string) bool { _, ok := selectors(t, e)[metric]; return ok }) {
			t.Errorf("no alert on %s (%s)", what, metric)
		}
	}
	dashPath := filepath.Join("..", "deploy", "grafana", "offboarder.json")
	dashExprs, titles := dashboardExprs(t, dashPath)

	d := startDemo(t)
	if out, err := d.make(t, "webhook", "EMAIL=alice@example.com"); err != nil || !strings.Contains(out, "(HTTP 202)") {
		t.Fatalf("make webhook: %v\n%s", err, out)
	}
	resp, err := http.Post("http://"+d.addr+"/webhooks/hr", "application/json", strings.NewReader(`{"id":"forged","email":"bob@example.com"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("an unsigned delivery: %d, want 401", resp.StatusCode)
	}
	// The case has every outcome once it is needs_attention (Lucid's manual step waits).
	deadline := time.Now().Add(30 * time.Second)
	var names map[string]map[string]bool
	for {
		names = scrapeNames(t, "http://"+d.addr)
		if scrapeValue(t, "http://"+d.addr, `offboarder_cases{state="needs_attention"}`) == "1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo's case never reached needs_attention:\n%s", d.log)
		}
		time.Sleep(200 * time.Millisecond)
	}
	check := func(where string, exprs []string) {
		for _, e := range exprs {
			for name, labels := range selectors(t, e) {
				got, ok := names[name]
				if !ok {
					t.Errorf("%s: %q reads %s, which /metrics does not have", where, e, name)
					continue
				}
				for _, l := range labels {
					if !got[l] {
						t.Errorf("%s: %q matches label %s of %s, which its series do not carry", where, e, l, name)
					}
				}
			}
		}
	}
	check(rulesPath, exprs)
	check(dashPath, dashExprs)
	t.Logf("%d alerts (%s), %d dashboard panels, all read metrics a running offboarder serves", len(alerts), strings.Join(alerts, ", "), len(titles))
}

// scrapeValue answers one series' value as /metrics writes it, or "".
func scrapeValue(t *testing.T, base, series string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// TestMakeBuildSaysWhenItBuilds: the first `make run` (through make build)
// says it is building before the long first compile, and so does a build
// of a binary older than the sources; a build with nothing changed says
// nothing.
func TestMakeBuildSaysWhenItBuilds(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("SKIP: make is not installed")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "offboarder")
	d := &demo{root: root, vars: []string{"BIN=" + bin}}
	out, err := d.make(t, "build")
	if err != nil || !strings.HasPrefix(out, "building ") || !strings.Contains(out, "first build") {
		t.Errorf("make build without a binary: %v, want a first line saying it builds:\n%s", err, out)
	}
	out, err = d.make(t, "build")
	if err != nil || strings.Contains(out, "building") {
		t.Errorf("make build again, nothing changed: %v, want no building line:\n%s", err, out)
	}
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC) // every source is newer than this binary
	if err := os.Chtimes(bin, old, old); err != nil {
		t.Fatal(err)
	}
	out, err = d.make(t, "build")
	if err != nil || !strings.Contains(out, "building ") || !strings.Contains(out, "sources changed") {
		t.Errorf("make build with a stale binary: %v, want a line saying it builds:\n%s", err, out)
	}
}
