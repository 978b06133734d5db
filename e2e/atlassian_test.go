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

// The atlassian connector against the simulator's Atlassian admin API
// fake, which follows Atlassian's docs on its own: a leaver's API tokens
// are deleted and the account disabled, both read back; a session reset
// changes nothing and says why; every detail says that web sessions are
// not ended.
func TestAtlassianAgainstTheSimulator(t *testing.T) {
	sim := simulator.New(simulator.Options{AtlassianToken: "atl-e2e-key", AtlassianOrgID: "e2e-org"})
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	sim.Seed(0)
	build := func(t *testing.T, token, org string, disable bool) connectors.Connector {
		t.Helper()
		settings := map[string]any{"base_url": srv.URL + "/atlassian", "token": token, "org_id": org, "disable": disable}
		cs, err := connectors.Build([]connectors.Spec{{Name: "atlassian", Type: "atlassian", Settings: settings}}, registry.Connectors(), connectors.Deps{})
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
	const noSessions = "live web sessions are not ended: Atlassian has no API for that"

	t.Run("a security reset keeps the tokens, and says why", func(t *testing.T) {
		out, detail, err := revoke(t, build(t, "atl-e2e-key", "e2e-org", true), offboard.Subject{Email: "alice@example.com", Reason: offboard.ReasonSecurity})
		if err != nil || out != offboard.Skipped {
			t.Fatalf("Revoke = %q, %v; want skipped", out, err)
		}
		if !strings.Contains(detail, `the reason is "security"`) || !strings.HasSuffix(detail, noSessions) {
			t.Errorf("detail = %q", detail)
		}
		if n := sim.Sessions("atlassian", "alice@example.com"); n != 2 {
			t.Errorf("alice has %d tokens, want 2", n)
		}
	})
	t.Run("a terminated leaver's tokens are deleted and the account disabled", func(t *testing.T) {
		c := build(t, "atl-e2e-key", "e2e-org", true)
		out, detail, err := revoke(t, c, offboard.Subject{Email: "alice@example.com", Reason: offboard.ReasonTerminated})
		if err != nil || out != offboard.Verified {
			t.Fatalf("Revoke = %q, %v; want verified", out, err)
		}
		if want := "API tokens deleted: 2; account disabled (no new sign-in); " + noSessions; detail != want {
			t.Errorf("detail = %q, want %q", detail, want)
		}
		if n := sim.Sessions("atlassian", "alice@example.com"); n != 0 {
			t.Errorf("alice has %d tokens, want 0", n)
		}
		if n := sim.Sessions("atlassian", "bob@example.com"); n != 2 {
			t.Errorf("bob has %d tokens, want 2: untouched", n)
		}
		// Run again, as asynq may: nothing to delete, no second disable.
		sim.Reset()
		out, detail, err = revoke(t, c, offboard.Subject{Email: "alice@example.com", Reason: offboard.ReasonTerminated})
		if err != nil || out != offboard.Verified || !strings.Contains(detail, "API tokens deleted: 0; account already inactive") {
			t.Fatalf("second Revoke = %q, %q, %v", out, detail, err)
		}
		for _, call := range sim.Calls() {
			if call.Method != "GET" && !strings.HasSuffix(call.Path, "/users/search") {
				t.Errorf("a second run changed something: %+v", call)
			}
		}
	})
	t.Run("without disable only the tokens go", func(t *testing.T) {
		out, detail, err := revoke(t, build(t, "atl-e2e-key", "e2e-org", false), offboard.Subject{Email: "carol@example.com", Reason: offboard.ReasonDeactivated})
		if err != nil || out != offboard.Verified || sim.Sessions("atlassian", "carol@example.com") != 0 {
			t.Fatalf("Revoke = %q, %v; carol has %d tokens", out, err, sim.Sessions("atlassian", "carol@example.com"))
		}
		if !strings.Contains(detail, "account not disabled (disable is false)") {
			t.Errorf("detail = %q", detail)
		}
	})
	t.Run("someone Atlassian does not know is not found", func(t *testing.T) {
		if out, _, err := revoke(t, build(t, "atl-e2e-key", "e2e-org", true), offboard.Subject{Email: "dana@example.com", Reason: offboard.ReasonTerminated}); err != nil || out != offboard.NotFound {
			t.Fatalf("Revoke = %q, %v", out, err)
		}
	})
	t.Run("the probe passes with the key and fails for good without it", func(t *testing.T) {
		if err := build(t, "atl-e2e-key", "e2e-org", false).(connectors.Checker).Check(t.Context()); err != nil {
			t.Fatalf("Check: %v", err)
		}
		err := build(t, "sim-atlassian-token", "e2e-org", false).(connectors.Checker).Check(t.Context())
		if !vendorapi.IsKind(err, vendorapi.Auth) || strings.Contains(err.Error(), "sim-atlassian-token") {
			t.Fatalf("Check with a wrong key: %v", err)
		}
		err = build(t, "atl-e2e-key", "sim-atlassian-org", false).(connectors.Checker).Check(t.Context())
		if !vendorapi.IsKind(err, vendorapi.NotFound) || !strings.Contains(err.Error(), "check org_id") {
			t.Fatalf("Check with a wrong org: %v", err)
		}
	})
}
