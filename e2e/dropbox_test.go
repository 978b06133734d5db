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

// The dropbox connector, built from its config keys through the registry,
// against the simulator's Dropbox team API fake with its default token,
// over loopback HTTP: a leaver's web sessions, desktop and mobile clients
// all end (verified, none left at the fake), an unknown person is
// not_found, and the probe passes.
func TestDropboxConnectorAgainstTheSimulator(t *testing.T) {
	sim := simulator.New(simulator.Options{})
	sim.Seed(0)
	sim.AddUser("dana@example.com", 5)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	open := func(token string) connectors.Connector {
		t.Helper()
		cs, err := connectors.Build([]connectors.Spec{{Name: "dropbox", Type: "dropbox", Settings: map[string]any{
			"base_url": srv.URL + "/dropbox", "token": token,
		}}}, registry.Connectors(), connectors.Deps{})
		if err != nil {
			t.Fatal(err)
		}
		return cs[0]
	}
	db := open("sim-dropbox-token")
	if err := db.(connectors.Checker).Check(t.Context()); err != nil {
		t.Fatalf("Check: %v", err)
	}

	t.Run("a leaver's web, desktop and mobile sessions all end, verified", func(t *testing.T) {
		ctx, detail := connectors.WithReport(t.Context())
		out, err := db.Revoke(ctx, offboard.Subject{Email: "Dana@Example.com", Reason: offboard.ReasonTerminated})
		if err != nil || out != offboard.Verified {
			t.Fatalf("Revoke = %q, %v; want verified", out, err)
		}
		if n := sim.Sessions("dropbox", "dana@example.com"); n != 0 {
			t.Errorf("the fake still holds %d sessions", n)
		}
		if n := sim.Sessions("dropbox", "alice@example.com"); n != 2 {
			t.Errorf("alice's sessions changed: %d", n)
		}
		d := detail()
		for _, s := range []string{"ended 2 web sessions, unlinked 2 desktop clients", "1 mobile client", "none is listed after", "not ended"} {
			if !strings.Contains(d, s) {
				t.Errorf("detail %q does not contain %q", d, s)
			}
		}
	})
	t.Run("a second run finds nothing to end and is verified again", func(t *testing.T) {
		if out, err := db.Revoke(t.Context(), offboard.Subject{Email: "dana@example.com"}); err != nil || out != offboard.Verified {
			t.Fatalf("Revoke = %q, %v; want verified", out, err)
		}
	})
	t.Run("an unknown person is not_found", func(t *testing.T) {
		if out, err := db.Revoke(t.Context(), offboard.Subject{Email: "nobody@example.com"}); err != nil || out != offboard.NotFound {
			t.Fatalf("Revoke = %q, %v; want not_found", out, err)
		}
	})
	t.Run("a wrong token is a permanent auth error", func(t *testing.T) {
		_, err := open("wrong-token").Revoke(t.Context(), offboard.Subject{Email: "alice@example.com"})
		if err == nil || !strings.Contains(err.Error(), "invalid_access_token") {
			t.Fatalf("Revoke error = %v", err)
		}
	})
}
