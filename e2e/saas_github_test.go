package e2e

import (
	"net/http/httptest"
	"testing"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/registry"
	"github.com/offboarder/offboarder/simulator"
)

// simGitHub opens the real github connector against the simulator's GitHub
// fake, with the organization and token the fake accepts by default.
func simGitHub(t *testing.T, sim *simulator.Simulator) connectors.Connector {
	t.Helper()
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	cs, err := connectors.Build([]connectors.Spec{{Name: "github", Type: "github",
		Settings: map[string]any{"org": "sim-github-org", "token": "sim-github-token", "base_url": srv.URL + "/github"}}},
		registry.Connectors(), connectors.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return cs[0]
}

func TestGitHubConnectorAgainstTheSimulator(t *testing.T) {
	t.Run("a leaver's credential authorizations are removed and verified, and nobody else's", func(t *testing.T) {
		sim := simulator.New(simulator.Options{})
		sim.AddUser("dana@example.com", 3)
		sim.AddUser("erin@example.com", 2)
		c := simGitHub(t, sim)
		if err := c.(connectors.Checker).Check(t.Context()); err != nil {
			t.Fatalf("Check: %v", err)
		}
		ctx, detail := connectors.WithReport(t.Context())
		out, err := c.Revoke(ctx, offboard.Subject{Email: "dana@example.com"})
		if err != nil || out != offboard.Verified {
			t.Fatalf("Revoke = %q, %v; want verified (detail %q)", out, err, detail())
		}
		if n := sim.Sessions("github", "dana@example.com"); n != 0 {
			t.Errorf("dana still holds %d authorizations", n)
		}
		if n := sim.Sessions("github", "erin@example.com"); n != 2 {
			t.Errorf("erin holds %d authorizations, want her 2 untouched", n)
		}
		t.Logf("detail: %s", detail())
	})
	t.Run("an unknown person is not_found", func(t *testing.T) {
		sim := simulator.New(simulator.Options{})
		sim.Seed(0)
		out, err := simGitHub(t, sim).Revoke(t.Context(), offboard.Subject{Email: "nobody@example.com"})
		if err != nil || out != offboard.NotFound {
			t.Fatalf("Revoke = %q, %v; want not_found", out, err)
		}
	})
	t.Run("under the simulator's rate limit the revoke sits out GitHub's 403s and still verifies", func(t *testing.T) {
		sim := simulator.New(simulator.Options{RateLimit: 2})
		sim.AddUser("dana@example.com", 2)
		out, err := simGitHub(t, sim).Revoke(t.Context(), offboard.Subject{Email: "dana@example.com"})
		if err != nil || out != offboard.Verified {
			t.Fatalf("Revoke = %q, %v; want verified", out, err)
		}
		if n := sim.Sessions("github", "dana@example.com"); n != 0 {
			t.Errorf("dana still holds %d authorizations", n)
		}
	})
}
