package keycloak

import (
	"cmp"

	"github.com/offboarder/offboarder/simulator/fake"
)

// Config is the one realm the Keycloak fake serves and the service-account
// client its token endpoint accepts; it is read again on every call. ""
// means "demo", "sim-keycloak-client" and "sim-keycloak-secret".
type Config struct {
	Realm, ClientID, ClientSecret string
}

const (
	defaultKeycloakRealm    = "demo"
	defaultKeycloakClientID = "sim-keycloak-client"
	defaultKeycloakSecret   = "sim-keycloak-secret"
)

// withDefaults is the realm and client c names, defaults filled in.
func (c Config) withDefaults() (realm string, client fake.Client) {
	return cmp.Or(c.Realm, defaultKeycloakRealm),
		fake.Client{ID: c.ClientID, Secret: c.ClientSecret}.Or(fake.Client{ID: defaultKeycloakClientID, Secret: defaultKeycloakSecret})
}

// New returns the Keycloak fake with no users; config gives its realm and
// credentials.
func New(config func() Config) fake.Vendor { return newKeycloak(config) }
