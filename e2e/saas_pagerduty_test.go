package e2e

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/registry"
	"github.com/offboarder/offboarder/simulator"
)

// simPagerDuty opens the real pagerduty connector against the simulator's
// PagerDuty fake, with the API key the fake accepts by default.
func simPagerDuty(t *testing.T, sim *simulator.Simulator) connectors.Connector {
	t.Helper()
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	cs, err := connectors.Build([]connectors.Spec{{Name: "pagerduty", Type: "pagerduty",
		Settings: map[string]any{"token": "sim-pagerduty-token", "base_url": srv.URL + "/pagerduty"}}},
		registry.Connectors(), connectors.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return cs[0]
}

func TestPagerDutyConnectorAgainstTheSimulator(t *testing.T) {
	t.Run("a leaver is signed out of the web and mobile apps and verified, and nobody else is", func(t *testing.T) {
		sim := simulator.New(simulator.Options{})
		sim.AddUser("dana@example.com", 3)
		sim.AddUser("dana.other@example.com", 2) // the query matches her too; she stays signed in
		c := simPagerDuty(t, sim)
		if err := c.(connectors.Checker).Check(t.Context()); err != nil {
			t.Fatalf("Check: %v", err)
		}
		ctx, detail := connectors.WithReport(t.Context())
		out, err := c.Revoke(ctx, offboard.Subject{Email: "dana@example.com"})
		if err != nil || out != offboard.Verified {
			t.Fatalf("Revoke = %q, %v; want verified (detail %q)", out, err, detail())
		}
		if n := sim.Sessions("pagerduty", "dana@example.com"); n != 0 {
			t.Errorf("dana still holds %d sessions", n)
		}
		if n := sim.Sessions("pagerduty", "dana.other@example.com"); n != 2 {
			t.Errorf("dana.other holds %d sessions, want her 2 untouched", n)
		}
		if !strings.Contains(detail(), "1 integration delegation(s)") {
			t.Errorf("detail %q does not say the integration is still issued", detail())
		}
	})
	t.Run("an unknown person is not_found", func(t *testing.T) {
		sim := simulator.New(simulator.Options{})
		sim.Seed(0)
		out, err := simPagerDuty(t, sim).Revoke(t.Context(), offboard.Subject{Email: "nobody@example.com"})
		if err != nil || out != offboard.NotFound {
			t.Fatalf("Revoke = %q, %v; want not_found", out, err)
		}
	})
	t.Run("under the simulator's rate limit the revoke sits out PagerDuty's 429s and still verifies", func(t *testing.T) {
		sim := simulator.New(simulator.Options{RateLimit: 1})
		sim.AddUser("dana@example.com", 2)
		out, err := simPagerDuty(t, sim).Revoke(t.Context(), offboard.Subject{Email: "dana@example.com"})
		if err != nil || out != offboard.Verified {
			t.Fatalf("Revoke = %q, %v; want verified", out, err)
		}
		if n := sim.Sessions("pagerduty", "dana@example.com"); n != 0 {
			t.Errorf("dana still holds %d sessions", n)
		}
	})
}
