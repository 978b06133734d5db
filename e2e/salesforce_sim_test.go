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

// The salesforce connector against the simulator's Salesforce fake, which
// follows Salesforce's REST API and OAuth docs on its own: a leaver's
// sessions are deleted and their connected-app tokens revoked, and both
// read back empty; someone the org does not know is not found.
func TestSalesforceAgainstTheSimulator(t *testing.T) {
	sim := simulator.New(simulator.Options{})
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	sim.Seed(0)
	sim.AddUser("o'brien@example.com", 3)
	build := func(t *testing.T, secret string) connectors.Connector {
		t.Helper()
		cs, err := connectors.Build([]connectors.Spec{{Name: "salesforce", Type: "salesforce", Settings: map[string]any{
			"base_url": srv.URL + "/salesforce", "client_id": "sim-salesforce-client", "client_secret": secret}}},
			registry.Connectors(), connectors.Deps{})
		if err != nil {
			t.Fatal(err)
		}
		return cs[0]
	}
	c := build(t, "sim-salesforce-secret")

	for _, who := range []string{"alice@example.com", "o'brien@example.com"} {
		t.Run("a leaver's sessions and tokens are ended and read back: "+who, func(t *testing.T) {
			before := sim.Sessions("salesforce", who)
			ctx, detail := connectors.WithReport(t.Context())
			out, err := c.Revoke(ctx, offboard.Subject{Email: who, Reason: offboard.ReasonTerminated})
			if err != nil || out != offboard.Verified {
				t.Fatalf("Revoke = %q, %v; want verified", out, err)
			}
			if n := sim.Sessions("salesforce", who); before == 0 || n != 0 {
				t.Errorf("%s had %d sessions and tokens, has %d left", who, before, n)
			}
			if !strings.Contains(detail(), "sessions ended") || !strings.Contains(detail(), "connected-app OAuth tokens revoked; none left") {
				t.Errorf("detail = %q", detail())
			}
		})
	}
	if n := sim.Sessions("salesforce", "bob@example.com"); n != 4 {
		t.Errorf("bob has %d (want 4: untouched)", n)
	}
	t.Run("someone the org does not know is not found", func(t *testing.T) {
		if out, err := c.Revoke(t.Context(), offboard.Subject{Email: "dana@example.com"}); err != nil || out != offboard.NotFound {
			t.Fatalf("Revoke = %q, %v", out, err)
		}
	})
	t.Run("the probe passes with the connected app's secret and fails for good without it", func(t *testing.T) {
		if err := c.(connectors.Checker).Check(t.Context()); err != nil {
			t.Fatalf("Check: %v", err)
		}
		err := build(t, "wrong-secret").(connectors.Checker).Check(t.Context())
		if !vendorapi.IsKind(err, vendorapi.Auth) || strings.Contains(err.Error(), "wrong-secret") {
			t.Fatalf("Check with a wrong secret: %v", err)
		}
	})
}
