package config

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// canary is in every secret value the tests use and in no other value.
const canary = "CANARY"

// goodEnv is the environment for testdata/good.yaml.
var goodEnv = map[string]string{
	"HR_WEBHOOK_SECRET":      "CANARY-hr",
	"HR_WEBHOOK_SECRET_NEXT": "CANARY-hr-next",
	"ENTRA_CLIENT_STATE":     "CANARY-client-state",
	"OKTA_API_TOKEN":         "CANARY-okta",
	"ATLASSIAN_ORG":          "org-42",
	"ATLASSIAN_TOKEN":        "CANARY-atlassian",
	"CAEP_RP1_TOKEN":         "CANARY-rp1",
	"LEGACY_TOKEN":           "CANARY-legacy",
	"SSF_AUTHORIZATION":      "Bearer CANARY-ssf-stream",
	"UNSET_WITH_DEFAULT":     "",
}

// badEnv is the environment for testdata/bad/*.yaml.
var badEnv = map[string]string{"OKTA_API_TOKEN": "CANARY-okta"}

func envOf(m map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) { v, ok := m[name]; return v, ok }
}

// readTestdata reads `_file` paths relative to testdata/, as Load does.
func readTestdata(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join("testdata", name))
}

func parseFile(t *testing.T, path string, env map[string]string) (*Config, error) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return Parse(data, envOf(env), readTestdata)
}

func TestGoodFileMatchesGolden(t *testing.T) {
	cfg, err := parseFile(t, "testdata/good.yaml", goodEnv)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	got := cfg.Redacted()
	golden := "testdata/good.redacted.golden"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./config -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Redacted() differs from %s (go test ./config -update rewrites it):\n%s", golden, got)
	}
	if bytes.Contains(got, []byte(canary)) {
		t.Errorf("Redacted() shows a secret:\n%s", got)
	}
}

func TestGoodFileResolvesEveryFeature(t *testing.T) {
	cfg, err := parseFile(t, "testdata/good.yaml", goodEnv)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	entry := func(list []Entry, name string) Entry {
		for _, e := range list {
			if e.Name == name {
				return e
			}
		}
		t.Fatalf("no entry %s", name)
		return Entry{}
	}
	tests := []struct {
		name       string
		entry      Entry
		key        string
		want       any
		wantSecret bool
	}{
		{"a secret comes from the environment", entry(cfg.Sources, "hr"), "secret", "CANARY-hr", true},
		{"a secret list keeps both items", entry(cfg.Sources, "hr-rotating"), "secret", []any{"CANARY-old", "CANARY-hr-next"}, true},
		{"a secret file is read into its key with the newline trimmed", entry(cfg.Sources, "okta"), "secret", "CANARY-okta-hook", true},
		{"a CRLF ending is trimmed too", entry(cfg.Sources, "entra"), "client_secret", "CANARY-entra-client-secret", true},
		{"a default applies when the variable is unset", entry(cfg.Sources, "entra"), "client_id", "offboarder-app", false},
		{"an ssf stream's authorization_header is a secret", entry(cfg.Sources, "caep-in"), "authorization_header", "Bearer CANARY-ssf-stream", true},
		{"a mapping stays a mapping", entry(cfg.Sources, "entra"), "events", map[string]any{"user.deleted": "termination", "user.disabled": "deactivation"}, false},
		{"several newlines at the end of a file are trimmed", entry(cfg.Connectors, "slack"), "token", "xoxp-CANARY-slack", true},
		{"a boolean stays a boolean", entry(cfg.Connectors, "atlassian"), "disable", true, false},
		{"a plain value is expanded", entry(cfg.Connectors, "atlassian"), "org_id", "org-42", false},
		{"a secret inside a list of mappings is revealed", entry(cfg.Connectors, "caep"), "receivers", []any{
			map[string]any{"url": "https://rp1.example.com/events", "token": "CANARY-rp1"},
			map[string]any{"url": "https://rp2.example.com/events"},
		}, false},
		{"$$ is a dollar and a bare $ stays", entry(cfg.Connectors, "legacy_app"), "headers", map[string]any{
			"Authorization": "Bearer CANARY-legacy",
			"X-Price":       "$5 and $HOME stay literal",
		}, false},
		{"a default applies when the variable is empty", entry(cfg.Connectors, "legacy_app"), "body", `{"note": "offboarded by offboarder"}`, false},
		{"numbers in a list stay numbers", entry(cfg.Connectors, "legacy_app"), "success_codes", []any{200, 204}, false},
		{"a private key file keeps its inner newlines", entry(cfg.Connectors, "caep"), "signing_key", "-----BEGIN PRIVATE KEY-----\nCANARY-key\n-----END PRIVATE KEY-----", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.entry.Settings()[tt.key]; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Settings()[%q] = %#v, want %#v", tt.key, got, tt.want)
			}
			if got := tt.entry.IsSecret(tt.key); got != tt.wantSecret {
				t.Errorf("IsSecret(%q) = %v, want %v", tt.key, got, tt.wantSecret)
			}
		})
	}
	wantWorker := Worker{Concurrency: 50, TaskCheckInterval: 5 * time.Millisecond, RelayInterval: 30 * time.Second, ShutdownTimeout: 25 * time.Second, MaxRetry: 0}
	if cfg.Worker != wantWorker {
		t.Errorf("Worker = %+v, want %+v", cfg.Worker, wantWorker)
	}
	if want := (Server{IngestTimeout: 3 * time.Second}); cfg.Server != want {
		t.Errorf("Server = %+v, want %+v", cfg.Server, want)
	}
	if !cfg.Policy.DryRun {
		t.Error("Policy.DryRun = false, want true")
	}
}

func TestMinimalShapeLoads(t *testing.T) {
	const minimal = `
sources:
  - name: hr
    type: generic
    secret: ${HR_WEBHOOK_SECRET}
connectors:
  - name: okta
    type: okta
    base_url: https://example.okta.com
    token: ${OKTA_API_TOKEN}
`
	env := map[string]string{"HR_WEBHOOK_SECRET": "hr-secret", "OKTA_API_TOKEN": "okta-token"}
	cfg, err := Parse([]byte(minimal), envOf(env), nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	src, conn := cfg.Sources[0], cfg.Connectors[0]
	if src.Name != "hr" || src.Type != "generic" || src.Path != "sources[0]" {
		t.Errorf("source = %q %q %q", src.Name, src.Type, src.Path)
	}
	if got := src.Settings(); !reflect.DeepEqual(got, map[string]any{"secret": "hr-secret"}) {
		t.Errorf("source settings = %v", got)
	}
	want := map[string]any{"base_url": "https://example.okta.com", "token": "okta-token"}
	if conn.Name != "okta" || conn.Type != "okta" || conn.Path != "connectors[0]" || !reflect.DeepEqual(conn.Settings(), want) {
		t.Errorf("connector = %q %q %q %v", conn.Name, conn.Type, conn.Path, conn.Settings())
	}
	if !conn.IsSecret("token") || conn.IsSecret("base_url") {
		t.Error("IsSecret: want token secret and base_url not")
	}
	if cfg.Worker != defaultWorker() || cfg.Policy.DryRun {
		t.Errorf("defaults: worker %+v, policy %+v", cfg.Worker, cfg.Policy)
	}
	if h := cfg.Policy.HoldAfter; h.Cases != 25 || h.Within != 10*time.Minute || !reflect.DeepEqual(h.Bypass, []string{"security"}) ||
		len(cfg.Policy.Protected) != 0 || cfg.Policy.Reasons != nil {
		t.Errorf("policy defaults: %+v, want 25 cases in 10m, security bypassing, nothing protected, every connector for every reason", cfg.Policy)
	}
}

func TestBadFilesReportEveryProblem(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad files: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			wantText, err := os.ReadFile(strings.TrimSuffix(file, ".yaml") + ".err")
			if err != nil {
				t.Fatalf("every bad file needs a .err file: %v", err)
			}
			cfg, err := parseFile(t, file, badEnv)
			if err == nil {
				t.Fatalf("Parse succeeded:\n%s", cfg.Redacted())
			}
			if cfg != nil {
				t.Error("Parse returned a config with its error")
			}
			t.Logf("%s:\n%v", file, err)
			for _, want := range strings.Split(strings.TrimSpace(string(wantText)), "\n") {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q; got:\n%v", want, err)
				}
			}
			if strings.Contains(err.Error(), canary) {
				t.Errorf("error shows a secret:\n%v", err)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	for k, v := range goodEnv {
		t.Setenv(k, v)
	}
	cfg, err := Load("testdata/good.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := cfg.Sources[2].Settings()["secret"]; got != "CANARY-okta-hook" {
		t.Errorf("a relative _file path is read from the config's directory: got %v", got)
	}

	_, err = Load("testdata/does-not-exist.yaml")
	if err == nil || err.Error() != "config file testdata/does-not-exist.yaml does not exist" {
		t.Errorf("Load of a missing file: %v", err)
	}
}

func TestSettingsIsACopy(t *testing.T) {
	cfg, err := parseFile(t, "testdata/good.yaml", goodEnv)
	if err != nil {
		t.Fatal(err)
	}
	e := cfg.Connectors[3] // caep: a list of mappings
	s := e.Settings()
	s["issuer"] = "changed"
	s["receivers"].([]any)[0].(map[string]any)["url"] = "changed"
	again := e.Settings()
	if again["issuer"] == "changed" || again["receivers"].([]any)[0].(map[string]any)["url"] == "changed" {
		t.Error("changing Settings() changed the entry")
	}
	if (Entry{}).Settings() == nil {
		t.Error("Settings() of an empty entry is nil")
	}
}

func TestValidateOnAHandBuiltConfig(t *testing.T) {
	cfg := &Config{
		Sources:    []Entry{{Name: "hr", Type: "generic"}},
		Connectors: []Entry{{Name: "okta", Type: "okta"}, {Name: "okta", Type: "slack"}},
		Worker:     defaultWorker(),
	}
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "connectors[1] (okta).name: duplicate name okta, already used by connectors[0]") {
		t.Errorf("Validate: %v", err)
	}
	if err := (&Config{}).Validate(); err == nil || !strings.Contains(err.Error(), "worker.concurrency: 0 is out of range") {
		t.Errorf("a zero Worker must not validate: %v", err)
	}
}
