package main

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/offboarder/offboarder/simulator"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// setExampleEnv sets what config.example.yaml asks of the environment, every
// secret a recognizable value that must never be printed.
func setExampleEnv(t *testing.T) {
	t.Helper()
	for k, v := range map[string]string{
		"HR_WEBHOOK_SECRET": "hr-SECRET-VALUE-0123456789", "OKTA_API_TOKEN": "okta-SECRET-VALUE-0123456789", "OKTA_BASE_URL": "",
		"ENTRA_TENANT_ID": "tenant", "ENTRA_CLIENT_ID": "entra-client", "ENTRA_CLIENT_SECRET": "entra-SECRET-VALUE",
		"AUTH0_CLIENT_ID": "auth0-client", "AUTH0_CLIENT_SECRET": "auth0-SECRET-VALUE",
		"KEYCLOAK_CLIENT_ID": "kc-client", "KEYCLOAK_CLIENT_SECRET": "kc-SECRET-VALUE",
		"ONELOGIN_CLIENT_ID": "ol-client", "ONELOGIN_CLIENT_SECRET": "ol-SECRET-VALUE",
		"GOOGLE_ADMIN_EMAIL": "admin@example.com",
		"SLACK_TOKEN":        "slack-SECRET-VALUE", "GITHUB_TOKEN": "github-SECRET-VALUE",
		"ZOOM_ACCOUNT_ID": "zoom-account", "ZOOM_CLIENT_ID": "zoom-client", "ZOOM_CLIENT_SECRET": "zoom-SECRET-VALUE",
		"ZENDESK_EMAIL": "admin@example.com", "ZENDESK_API_TOKEN": "zendesk-SECRET-VALUE",
		"PAGERDUTY_TOKEN": "pagerduty-SECRET-VALUE", "DROPBOX_TEAM_TOKEN": "dropbox-SECRET-VALUE",
		"ATLASSIAN_ORG_API_KEY": "atlassian-SECRET-VALUE", "ATLASSIAN_ORG_ID": "org-1",
		"LUCID_SCIM_TOKEN":     "lucid-SECRET-VALUE",
		"SALESFORCE_CLIENT_ID": "sf-client", "SALESFORCE_CLIENT_SECRET": "sf-SECRET-VALUE",
		"BOX_CLIENT_ID": "box-client", "BOX_CLIENT_SECRET": "box-SECRET-VALUE", "BOX_ENTERPRISE_ID": "1000001",
	} {
		t.Setenv(k, v)
	}
	creds, _, err := simulator.DemoGoogleCredentials("https://oauth2.googleapis.com/token")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOOGLE_CREDENTIALS", string(creds))
}

func TestCheck(t *testing.T) {
	setExampleEnv(t)

	t.Run("the example config checks out and prints no secret", func(t *testing.T) {
		var out, errb bytes.Buffer
		code := runMain(t.Context(), []string{"check", "--config", "../../config.example.yaml"}, &out, &errb)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		if strings.Contains(out.String(), "SECRET-VALUE") || strings.Contains(out.String(), "PRIVATE KEY") {
			t.Fatalf("check printed a secret:\n%s", out.String())
		}
		for _, want := range []string{"<secret>", "https://example.okta.com", "OK (1 sources, 18 connectors)", "# okta: rate_limit 600 per 1m0s\n"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("output lacks %q:\n%s", want, out.String())
			}
		}
	})

	t.Run("every problem is reported with its key and a non-zero exit", func(t *testing.T) {
		p := writeConfig(t, `
sources:
  - name: hr
    type: generic
    secret: short
  - name: Bad Name
    type: generic
connectors:
  - name: okta
    type: okta
    base_url: https://example.okta.com
  - name: x
    type: nosuchvendor
`)
		var out, errb bytes.Buffer
		code := runMain(t.Context(), []string{"check", "--config", p}, &out, &errb)
		if code != 1 {
			t.Fatalf("exit %d, want 1", code)
		}
		for _, want := range []string{"sources[1]", "token", "nosuchvendor"} {
			if !strings.Contains(errb.String(), want) {
				t.Errorf("errors lack %q:\n%s", want, errb.String())
			}
		}
	})

	t.Run("an unset variable is named", func(t *testing.T) {
		p := writeConfig(t, `
sources:
  - name: hr
    type: generic
    secret: ${OFFBOARDER_TEST_UNSET_VAR}
connectors:
  - name: okta
    type: okta
    base_url: https://example.okta.com
    token: x
`)
		var out, errb bytes.Buffer
		if code := runMain(t.Context(), []string{"check", "--config", p}, &out, &errb); code != 1 {
			t.Fatalf("exit %d, want 1", code)
		}
		if !strings.Contains(errb.String(), "OFFBOARDER_TEST_UNSET_VAR") {
			t.Fatalf("the variable is not named:\n%s", errb.String())
		}
	})
}

func TestUnknownCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runMain(t.Context(), []string{"frobnicate"}, &out, &errb); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
}

func TestServeNeedsRedisURL(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	setExampleEnv(t)
	var out, errb bytes.Buffer
	code := runMain(t.Context(), []string{"work", "--config", "../../config.example.yaml", "--addr", "127.0.0.1:0"}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "REDIS_URL is required") {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
}

func TestCheckProbe(t *testing.T) {
	sim := simulator.New(simulator.Options{})
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	p := writeConfig(t, `
sources:
  - name: hr
    type: generic
    secret: hr-SECRET-VALUE-0123456789
connectors:
  - name: okta-good
    type: okta
    base_url: `+srv.URL+`/okta
    token: sim-okta-token
  - name: okta-bad
    type: okta
    base_url: `+srv.URL+`/okta
    token: a-revoked-PROBE-token
`)
	var out, errb bytes.Buffer
	code := runMain(t.Context(), []string{"check", "--probe", "--config", p}, &out, &errb)
	if code != 1 {
		t.Fatalf("one connector fails its probe: want exit 1, got %d\n%s%s", code, out.String(), errb.String())
	}
	lines := out.String()
	if !regexp.MustCompile(`okta-good\s+ok`).MatchString(lines) {
		t.Errorf("the good connector is not reported ok:\n%s", lines)
	}
	if !regexp.MustCompile(`okta-bad\s+FAILED\s+.*credentials rejected`).MatchString(lines) {
		t.Errorf("the bad connector is not reported with an actionable reason:\n%s", lines)
	}
	if strings.Contains(lines+errb.String(), "a-revoked-PROBE-token") {
		t.Error("the probe printed a token")
	}
}
