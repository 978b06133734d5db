package e2e

import (
	"net/http/httptest"
	"testing"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/registry"
	"github.com/offboarder/offboarder/simulator"
)

// saasConnector is one SaaS connector pointed at the simulator with the
// credentials its fake accepts by default, and the outcome a leaver with
// sessions gets there.
type saasConnector struct {
	spec func(sim string) connectors.Spec
	want offboard.Outcome
}

// saasConnectors are the SaaS connectors, each run against its own fake in
// the simulator by TestSaaSConnectorsAgainstTheSimulator.
var saasConnectors = []saasConnector{{
	spec: func(sim string) connectors.Spec {
		return connectors.Spec{Name: "slack", Type: "slack", Settings: map[string]any{"base_url": sim + "/slack", "token": "sim-slack-token"}}
	},
	want: offboard.Verified,
}, {
	spec: func(sim string) connectors.Spec {
		return connectors.Spec{Name: "zoom", Type: "zoom", Settings: map[string]any{"base_url": sim + "/zoom", "token_url": sim + "/zoom/oauth/token",
			"account_id": "sim-zoom-account", "client_id": "sim-zoom-client", "client_secret": "sim-zoom-secret"}}
	},
	want: offboard.Acknowledged, // zoom has no read of sessions
}}

// Each SaaS connector, built through the registry as a config would build
// it, against the simulator's fake of its vendor (written from the
// vendor's docs, not from the connector): a leaver's sessions end there and
// nobody else's, an unknown person is not_found, the probe passes, and the
// vendor's short rate-limit waits are sat out.
func TestSaaSConnectorsAgainstTheSimulator(t *testing.T) {
	for _, sc := range saasConnectors {
		sim := simulator.New(simulator.Options{})
		srv := httptest.NewServer(sim.Handler())
		t.Cleanup(srv.Close)
		spec := sc.spec(srv.URL)
		cs, err := connectors.Build([]connectors.Spec{spec}, registry.Connectors(), connectors.Deps{})
		if err != nil {
			t.Fatal(err)
		}
		c, vendor := cs[0], spec.Type
		sim.AddUser("leaver@example.com", 3)
		sim.AddUser("stays@example.com", 2)

		t.Run(vendor+": a leaver with sessions has none left, and the detail says what ended", func(t *testing.T) {
			ctx, detail := connectors.WithReport(t.Context())
			out, err := c.Revoke(ctx, offboard.Subject{Email: "Leaver@Example.com"})
			if err != nil || out != sc.want {
				t.Fatalf("Revoke = %q, %v; want %q", out, err, sc.want)
			}
			if n := sim.Sessions(vendor, "leaver@example.com"); n != 0 {
				t.Errorf("leaver has %d sessions left", n)
			}
			if n := sim.Sessions(vendor, "stays@example.com"); n != 2 {
				t.Errorf("a bystander has %d sessions, want 2", n)
			}
			if detail() == "" {
				t.Error("the connector reported no detail")
			}
			// Run again, as asynq may after a lapsed lease: the same answer.
			if out, err := c.Revoke(t.Context(), offboard.Subject{Email: "leaver@example.com"}); err != nil || out != sc.want {
				t.Errorf("second Revoke = %q, %v; want %q", out, err, sc.want)
			}
		})
		t.Run(vendor+": an unknown person is not_found", func(t *testing.T) {
			if out, err := c.Revoke(t.Context(), offboard.Subject{Email: "nobody@example.com"}); err != nil || out != offboard.NotFound {
				t.Fatalf("Revoke = %q, %v; want not_found", out, err)
			}
		})
		t.Run(vendor+": the probe passes", func(t *testing.T) {
			if err := c.(connectors.Checker).Check(t.Context()); err != nil {
				t.Fatalf("Check: %v", err)
			}
		})
		t.Run(vendor+": the vendor's short rate-limit waits are sat out, not failed", func(t *testing.T) {
			sim.AddUser("limited@example.com", 1)
			sim.Reset()
			sim.Tune(func(o *simulator.Options) { o.RateLimit = 1 })
			t.Cleanup(func() { sim.Tune(func(o *simulator.Options) { o.RateLimit = 0 }) })
			if out, err := c.Revoke(t.Context(), offboard.Subject{Email: "limited@example.com"}); err != nil || out != sc.want {
				t.Fatalf("Revoke = %q, %v; want %q", out, err, sc.want)
			}
			limited := 0
			for _, call := range sim.Calls() {
				if call.Status == 429 {
					limited++
				}
			}
			if limited == 0 {
				t.Error("the fake never answered 429 at one call per second")
			}
			if n := sim.Sessions(vendor, "limited@example.com"); n != 0 {
				t.Errorf("%d sessions left", n)
			}
		})
	}
}
