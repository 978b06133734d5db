package e2e

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"sync"
	"testing"

	"github.com/offboarder/offboarder/connectors"
)

// googleSAKey is the throwaway service-account key the simulator's Google
// fake trusts, made once per test binary.
var googleSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// googleSAJSON is googleSAKey in Google's service-account JSON format.
// https://developers.google.com/identity/protocols/oauth2/service-account
func googleSAJSON(key *rsa.PrivateKey, tokenURI string) string {
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "client_email": "offboarder@example.iam.gserviceaccount.com",
		"private_key_id": "0123456789abcdef", "private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"token_uri": tokenURI,
	})
	return string(b)
}

// simConnectors are the identity-provider connectors besides okta, each
// pointed at the simulator with the credentials its fakes accept by default.
func simConnectors(t testing.TB, sim string) []connectors.Spec {
	t.Helper()
	return []connectors.Spec{
		{Name: "entra", Type: "entra", Settings: map[string]any{"tenant_id": "sim-tenant", "client_id": "sim-entra-client", "client_secret": "sim-entra-secret",
			"base_url": sim + "/entra", "token_url": sim + "/entra/sim-tenant/oauth2/v2.0/token"}},
		{Name: "google", Type: "google", Settings: map[string]any{"credentials": googleSAJSON(googleSAKey(), sim+"/google/token"),
			"admin_email": "admin@example.com", "base_url": sim + "/google", "token_url": sim + "/google/token"}},
		{Name: "auth0", Type: "auth0", Settings: map[string]any{"base_url": sim + "/auth0", "client_id": "sim-auth0-client", "client_secret": "sim-auth0-secret"}},
		{Name: "keycloak", Type: "keycloak", Settings: map[string]any{"base_url": sim + "/keycloak", "realm": "demo", "client_id": "sim-keycloak-client", "client_secret": "sim-keycloak-secret"}},
		{Name: "onelogin", Type: "onelogin", Settings: map[string]any{"base_url": sim + "/onelogin", "client_id": "sim-onelogin-client", "client_secret": "sim-onelogin-secret"}},
	}
}
