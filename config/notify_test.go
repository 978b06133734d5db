package config

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestNotificationsGoodFile(t *testing.T) {
	cfg, err := parseFile(t, "testdata/good-notifications.yaml", goodEnv)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	n := cfg.Notifications
	if len(n.Slack) != 2 || n.Slack[0].WebhookURL.Reveal() != "https://hooks.slack.com/services/T000/B000/CANARY" || n.Slack[1].WebhookURL.Reveal() == "" {
		t.Errorf("slack = %v", n.Slack)
	}
	if len(n.Webhooks) != 1 || n.Webhooks[0].URL != "https://hooks.example.com/offboarder" || n.Webhooks[0].Secret.Reveal() != "CANARY-webhook-secret-0123" {
		t.Errorf("webhooks = %+v", n.Webhooks)
	}
	if !slices.Equal(n.On, []string{"needs_attention", "completed"}) {
		t.Errorf("on = %v", n.On)
	}
	got := cfg.Redacted()
	golden := "testdata/good-notifications.redacted.golden"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("Redacted() differs from %s (go test ./config -update rewrites it):\n%s", golden, got)
	}
	if strings.Contains(string(got), canary) {
		t.Errorf("check shows a secret:\n%s", got)
	}
}

func TestNotificationsDefaults(t *testing.T) {
	cfg, err := Parse([]byte(`
sources: [{name: hr, type: generic, secret: s}]
connectors: [{name: okta, type: okta, token: t}]
notifications:
  webhooks: [{url: "http://127.0.0.1:9/hook", secret: "0123456789abcdef"}]
`), envOf(nil), readTestdata)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Notifications.On, []string{"needs_attention", "awaiting_approval"}) {
		t.Errorf("on = %v, want needs_attention and awaiting_approval", cfg.Notifications.On)
	}
	cfg, err = Parse([]byte("sources: [{name: hr, type: generic, secret: s}]\nconnectors: [{name: okta, type: okta, token: t}]\n"), envOf(nil), readTestdata)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Notifications.Enabled() || strings.Contains(string(cfg.Redacted()), "notifications") {
		t.Errorf("a file without notifications has some: %+v", cfg.Notifications)
	}
}
