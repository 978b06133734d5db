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

// The scim connector, named lucid as in the demo, against the simulator's
// Lucid SCIM fake, which follows RFC 7644 and Lucid's SCIM docs on its own:
// a leaver's account is deactivated and read back; a session reset leaves
// the account active and says why.
func TestLucidSCIMAgainstTheSimulator(t *testing.T) {
	sim := simulator.New(simulator.Options{LucidToken: "lucid-e2e-token"})
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	sim.Seed(0)
	sim.AddUser("isaac+ops@example.com", 2)
	build := func(t *testing.T, token string, extra map[string]any) connectors.Connector {
		t.Helper()
		settings := map[string]any{"base_url": srv.URL + "/lucid/scim/v2", "token": token}
		for k, v := range extra {
			settings[k] = v
		}
		cs, err := connectors.Build([]connectors.Spec{{Name: "lucid", Type: "scim", Settings: settings}}, registry.Connectors(), connectors.Deps{})
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

	t.Run("a security reset leaves the account active, and says why", func(t *testing.T) {
		out, detail, err := revoke(t, build(t, "lucid-e2e-token", nil), offboard.Subject{Email: "alice@example.com", Reason: offboard.ReasonSecurity})
		if err != nil || out != offboard.Skipped {
			t.Fatalf("Revoke = %q, %v; want skipped", out, err)
		}
		if !strings.Contains(detail, `account not deactivated: the reason is "security"`) {
			t.Errorf("detail = %q", detail)
		}
		if n := sim.Sessions("lucid", "alice@example.com"); n != 1 {
			t.Errorf("alice is %d (want 1: still active)", n)
		}
	})
	t.Run("a terminated leaver is deactivated and read back", func(t *testing.T) {
		c := build(t, "lucid-e2e-token", nil)
		for _, who := range []string{"alice@example.com", "isaac+ops@example.com"} {
			out, detail, err := revoke(t, c, offboard.Subject{Email: who, Reason: offboard.ReasonTerminated})
			if err != nil || out != offboard.Verified {
				t.Fatalf("Revoke(%s) = %q, %v; want verified", who, out, err)
			}
			if detail != "account deactivated; live sessions are not ended by this API" {
				t.Errorf("detail = %q", detail)
			}
			if n := sim.Sessions("lucid", who); n != 0 {
				t.Errorf("%s is %d (want 0: deactivated)", who, n)
			}
		}
		if n := sim.Sessions("lucid", "bob@example.com"); n != 1 {
			t.Errorf("bob is %d (want 1: untouched)", n)
		}
		// Run again, as asynq may: no second PATCH.
		sim.Reset()
		if out, _, err := revoke(t, c, offboard.Subject{Email: "alice@example.com", Reason: offboard.ReasonTerminated}); err != nil || out != offboard.Verified {
			t.Fatalf("second Revoke = %q, %v", out, err)
		}
		for _, call := range sim.Calls() {
			if call.Method == "PATCH" {
				t.Errorf("an inactive account was patched again: %+v", call)
			}
		}
	})
	t.Run("the path-less PATCH form deactivates too", func(t *testing.T) {
		out, _, err := revoke(t, build(t, "lucid-e2e-token", map[string]any{"patch": "value"}), offboard.Subject{Email: "carol@example.com", Reason: offboard.ReasonDeactivated})
		if err != nil || out != offboard.Verified || sim.Sessions("lucid", "carol@example.com") != 0 {
			t.Fatalf("Revoke = %q, %v; carol is %d", out, err, sim.Sessions("lucid", "carol@example.com"))
		}
	})
	t.Run("someone Lucid does not know is not found", func(t *testing.T) {
		if out, _, err := revoke(t, build(t, "lucid-e2e-token", nil), offboard.Subject{Email: "dana@example.com", Reason: offboard.ReasonTerminated}); err != nil || out != offboard.NotFound {
			t.Fatalf("Revoke = %q, %v", out, err)
		}
	})
	t.Run("the probe passes with the token and fails for good without it", func(t *testing.T) {
		if err := build(t, "lucid-e2e-token", nil).(connectors.Checker).Check(t.Context()); err != nil {
			t.Fatalf("Check: %v", err)
		}
		err := build(t, "sim-lucid-token", nil).(connectors.Checker).Check(t.Context())
		if !vendorapi.IsKind(err, vendorapi.Auth) || strings.Contains(err.Error(), "sim-lucid-token") {
			t.Fatalf("Check with a wrong token: %v", err)
		}
	})
}
