package keycloak

import "github.com/offboarder/offboarder/simulator/fake"

// Config is the one realm the Keycloak fake serves and the service-account
// client its token endpoint accepts; it is read again on every call. ""
// means "demo", "sim-keycloak-client" and "sim-keycloak-secret".
type Config struct {
	Realm, ClientID, ClientSecret string
}

// New returns the Keycloak fake with no users; config gives its realm and
// credentials.
func New(config func() Config) fake.Vendor { return newKeycloak(config) }
