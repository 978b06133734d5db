package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/registry"
	"github.com/offboarder/offboarder/simulator"
	"github.com/offboarder/offboarder/vendorapi"
)

// The okta connector, as a service app that requires DPoP, against the
// simulator's Okta, whose DPoP follows Okta's guide and RFC 9449 on its
// own: the nonce challenge, a new client assertion, a DPoP-bound token, a
// proof per call, and a plus-addressed login sent escaped in the path.
func TestOktaServiceAppWithDPoPAgainstTheSimulator(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	sim := simulator.New(simulator.Options{OktaClientID: "0oa-offboarder", OktaPublicKey: key.Public(), OktaDPoP: true})
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	people := []string{"alice@example.com", "isaac+ops@example.com"}
	for _, p := range people {
		sim.AddUser(p, 2)
	}
	build := func(t *testing.T, dpop bool) connectors.Connector {
		t.Helper()
		cs, err := connectors.Build([]connectors.Spec{{Name: "okta", Type: "okta", Settings: map[string]any{
			"base_url": srv.URL + "/okta", "client_id": "0oa-offboarder", "private_key": pemKey, "dpop": dpop}}}, registry.Connectors(), connectors.Deps{})
		if err != nil {
			t.Fatal(err)
		}
		return cs[0]
	}

	t.Run("without dpop: a permanent error that says what to set", func(t *testing.T) {
		_, err := build(t, false).Revoke(t.Context(), offboard.Subject{Email: people[0]})
		if err == nil || vendorapi.Retryable(err) || !strings.Contains(err.Error(), "set dpop: true") {
			t.Fatalf("Revoke: %v", err)
		}
		if n := sim.Sessions("okta", people[0]); n != 2 {
			t.Fatalf("sessions = %d", n)
		}
	})
	t.Run("with dpop: every person's sessions are cleared", func(t *testing.T) {
		c := build(t, true)
		for _, p := range people {
			if out, err := c.Revoke(t.Context(), offboard.Subject{Email: p}); err != nil || out != offboard.Acknowledged {
				t.Fatalf("Revoke(%s) = %q, %v", p, out, err)
			}
			if n := sim.Sessions("okta", p); n != 0 {
				t.Errorf("%s: %d sessions left", p, n)
			}
		}
		if err := c.(connectors.Checker).Check(t.Context()); err != nil {
			t.Fatalf("Check: %v", err)
		}
	})
}
