package e2e

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/registry"
	"github.com/offboarder/offboarder/simulator"
	"github.com/offboarder/offboarder/vendorapi"
)

// The box connector against the simulator's Box fake, which follows Box's
// docs on its own: a leaver's sessions are terminated by a job Box runs in
// the background, so the revoke is acknowledged and the sessions are gone
// a moment later; someone the enterprise does not know is not found.
func TestBoxAgainstTheSimulator(t *testing.T) {
	sim := simulator.New(simulator.Options{BoxEnterpriseID: "575619"})
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	sim.Seed(0)
	sim.AddUser("alice@example.com.au", 2) // a login that starts with alice's
	build := func(t *testing.T, enterprise string) connectors.Connector {
		t.Helper()
		cs, err := connectors.Build([]connectors.Spec{{Name: "box", Type: "box", Settings: map[string]any{
			"base_url": srv.URL + "/box", "client_id": "sim-box-client", "client_secret": "sim-box-secret", "enterprise_id": enterprise}}},
			registry.Connectors(), connectors.Deps{})
		if err != nil {
			t.Fatal(err)
		}
		return cs[0]
	}
	c := build(t, "575619")

	t.Run("a leaver's sessions are terminated in the background and the detail says so", func(t *testing.T) {
		ctx, detail := connectors.WithReport(t.Context())
		out, err := c.Revoke(ctx, offboard.Subject{Email: "alice@example.com", Reason: offboard.ReasonTerminated})
		if err != nil || out != offboard.Acknowledged {
			t.Fatalf("Revoke = %q, %v; want acknowledged", out, err)
		}
		if !strings.Contains(detail(), "asynchronously") {
			t.Errorf("detail = %q", detail())
		}
		deadline := time.Now().Add(5 * time.Second)
		for sim.Sessions("box", "alice@example.com") != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("alice still has %d sessions", sim.Sessions("box", "alice@example.com"))
			}
			time.Sleep(10 * time.Millisecond)
		}
		for _, other := range []string{"alice@example.com.au", "bob@example.com"} {
			if n := sim.Sessions("box", other); n != 2 {
				t.Errorf("%s has %d sessions (want 2: untouched)", other, n)
			}
		}
	})
	t.Run("someone the enterprise does not know is not found", func(t *testing.T) {
		if out, err := c.Revoke(t.Context(), offboard.Subject{Email: "dana@example.com"}); err != nil || out != offboard.NotFound {
			t.Fatalf("Revoke = %q, %v", out, err)
		}
	})
	t.Run("the probe passes for the enterprise and fails for good for another", func(t *testing.T) {
		if err := c.(connectors.Checker).Check(t.Context()); err != nil {
			t.Fatalf("Check: %v", err)
		}
		if err := build(t, "42").(connectors.Checker).Check(t.Context()); !vendorapi.IsKind(err, vendorapi.Auth) {
			t.Fatalf("Check for another enterprise: %v", err)
		}
	})
}
