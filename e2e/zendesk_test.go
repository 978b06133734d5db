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

// The zendesk connector, built from its config keys through the registry,
// against the simulator's Zendesk fake with its default credentials, over
// loopback HTTP: a leaver with sessions ends with none and verified, an
// unknown person is not_found, and the probe passes.
func TestZendeskConnectorAgainstTheSimulator(t *testing.T) {
	sim := simulator.New(simulator.Options{})
	sim.Seed(0)
	sim.AddUser("dana@example.com", 3)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	cs, err := connectors.Build([]connectors.Spec{{Name: "zendesk", Type: "zendesk", Settings: map[string]any{
		"base_url": srv.URL + "/zendesk", "email": "sim-zendesk-admin@example.com", "token": "sim-zendesk-token",
	}}}, registry.Connectors(), connectors.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	zd := cs[0]
	if err := zd.(connectors.Checker).Check(t.Context()); err != nil {
		t.Fatalf("Check: %v", err)
	}

	t.Run("a leaver with sessions is signed out of every one, verified", func(t *testing.T) {
		ctx, detail := connectors.WithReport(t.Context())
		out, err := zd.Revoke(ctx, offboard.Subject{Email: "Dana@Example.com", Reason: offboard.ReasonTerminated})
		if err != nil || out != offboard.Verified {
			t.Fatalf("Revoke = %q, %v; want verified", out, err)
		}
		if n := sim.Sessions("zendesk", "dana@example.com"); n != 0 {
			t.Errorf("the fake still holds %d sessions", n)
		}
		if n := sim.Sessions("zendesk", "alice@example.com"); n != 2 {
			t.Errorf("alice's sessions changed: %d", n)
		}
		if d := detail(); !strings.Contains(d, "none is listed") || !strings.Contains(d, "not ended") {
			t.Errorf("detail %q does not say what was ended and what not", d)
		}
	})
	t.Run("an unknown person is not_found", func(t *testing.T) {
		out, err := zd.Revoke(t.Context(), offboard.Subject{Email: "nobody@example.com"})
		if err != nil || out != offboard.NotFound {
			t.Fatalf("Revoke = %q, %v; want not_found", out, err)
		}
	})
	t.Run("a wrong token is a permanent auth error", func(t *testing.T) {
		bad, err := connectors.Build([]connectors.Spec{{Name: "zendesk", Type: "zendesk", Settings: map[string]any{
			"base_url": srv.URL + "/zendesk", "email": "sim-zendesk-admin@example.com", "token": "wrong-token",
		}}}, registry.Connectors(), connectors.Deps{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = bad[0].Revoke(t.Context(), offboard.Subject{Email: "alice@example.com"})
		if err == nil || !strings.Contains(err.Error(), "Couldn't authenticate you") {
			t.Fatalf("Revoke error = %v", err)
		}
	})
}
