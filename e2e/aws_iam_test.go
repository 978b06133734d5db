package e2e

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/registry"
	"github.com/offboarder/offboarder/simulator"
	"github.com/offboarder/offboarder/vendorapi"
)

// The aws connector, with the SDK's default chain reading the environment,
// against the simulator's IAM fake, which follows IAM's API reference on
// its own: a leaver's keys and password end and their older temporary
// credentials are denied; a security reset denies the sessions alone; a
// stranger is not found.
func TestAWSIAMAgainstTheSimulator(t *testing.T) {
	sim := simulator.New(simulator.Options{AWSAccessKeyID: "AKIAE2ETESTKEY000001"})
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	sim.Seed(0)
	sim.AddUser("isaac+ops@example.com", 2)
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIAE2ETESTKEY000001", "AWS_SECRET_ACCESS_KEY": "e2e-aws-secret-key-not-checked", "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
	build := func(t *testing.T, extra map[string]any) connectors.Connector {
		t.Helper()
		settings := map[string]any{"base_url": srv.URL + "/aws"}
		for k, v := range extra {
			settings[k] = v
		}
		cs, err := connectors.Build([]connectors.Spec{{Name: "aws", Type: "aws", Settings: settings}}, registry.Connectors(), connectors.Deps{})
		if err != nil {
			t.Fatal(err)
		}
		return cs[0]
	}
	revoke := func(t *testing.T, c connectors.Connector, s offboard.Subject) (offboard.Outcome, string, error) {
		t.Helper()
		ctx, detail := connectors.WithReport(t.Context())
		out, err := c.Revoke(ctx, s)
		return out, detail(), err
	}

	t.Run("a security reset denies older sessions and leaves keys and password", func(t *testing.T) {
		out, detail, err := revoke(t, build(t, nil), offboard.Subject{Email: "alice@example.com", Reason: offboard.ReasonSecurity})
		if err != nil || out != offboard.Verified {
			t.Fatalf("Revoke = %q, %v", out, err)
		}
		if !strings.Contains(detail, `left active`) || !strings.Contains(detail, "AWSRevokeOlderSessions") {
			t.Errorf("detail = %q", detail)
		}
		if n := sim.Sessions("aws", "alice@example.com"); n != 3 {
			t.Errorf("alice has %d (want 3: two keys and the password, her temporary credentials denied)", n)
		}
	})
	t.Run("a terminated leaver's keys, password and sessions end, read back", func(t *testing.T) {
		c := build(t, nil)
		for _, who := range []string{"alice@example.com", "isaac+ops@example.com"} {
			out, detail, err := revoke(t, c, offboard.Subject{Email: who, Reason: offboard.ReasonTerminated})
			if err != nil || out != offboard.Verified {
				t.Fatalf("Revoke(%s) = %q, %v; want verified", who, out, err)
			}
			if !strings.Contains(detail, "access keys …") || !strings.Contains(detail, "deactivated; console password deleted (no new console sign-in") {
				t.Errorf("detail = %q", detail)
			}
			if n := sim.Sessions("aws", who); n != 0 {
				t.Errorf("%s has %d (want 0)", who, n)
			}
		}
		if n := sim.Sessions("aws", "bob@example.com"); n != 5 {
			t.Errorf("bob has %d (want 5: untouched)", n)
		}
	})
	t.Run("user_name finds the user by the address's local part", func(t *testing.T) {
		out, _, err := revoke(t, build(t, map[string]any{"user_name": "{{.LocalPart}}"}), offboard.Subject{Email: "carol@example.com", Reason: offboard.ReasonDeactivated})
		if err != nil || out != offboard.Verified || sim.Sessions("aws", "carol@example.com") != 0 {
			t.Fatalf("Revoke = %q, %v; carol has %d", out, err, sim.Sessions("aws", "carol@example.com"))
		}
	})
	t.Run("someone with no IAM user is not found", func(t *testing.T) {
		for _, extra := range []map[string]any{nil, {"user_name": "{{.LocalPart}}"}} {
			if out, _, err := revoke(t, build(t, extra), offboard.Subject{Email: "dana@example.com", Reason: offboard.ReasonTerminated}); err != nil || out != offboard.NotFound {
				t.Fatalf("Revoke(%v) = %q, %v", extra, out, err)
			}
		}
	})
	t.Run("the probe passes with the access key and fails for good with another", func(t *testing.T) {
		if err := build(t, nil).(connectors.Checker).Check(t.Context()); err != nil {
			t.Fatalf("Check: %v", err)
		}
		t.Setenv("AWS_ACCESS_KEY_ID", "AKIAWRONGKEY00000001")
		err := build(t, nil).(connectors.Checker).Check(t.Context())
		if !vendorapi.IsKind(err, vendorapi.Auth) || vendorapi.Retryable(err) || strings.Contains(err.Error(), "e2e-aws-secret-key") {
			t.Fatalf("Check with another key: %v", err)
		}
	})
}
