package entra

import "github.com/offboarder/offboarder/simulator/fake"

// DefaultClientID and DefaultClientSecret are what a Config's empty
// ClientID and ClientSecret stand for.
const (
	DefaultClientID     = "sim-entra-client"
	DefaultClientSecret = "sim-entra-secret"
)

// Config is the client credentials the Entra fake's token endpoint
// accepts; it is read again on every token request. "" means the default.
type Config struct {
	ClientID, ClientSecret string
}

// client is the client c names, defaults filled in.
func (c Config) client() fake.Client {
	return fake.Client{ID: c.ClientID, Secret: c.ClientSecret}.Or(fake.Client{ID: DefaultClientID, Secret: DefaultClientSecret})
}

// New returns the Entra fake with no users; config gives its credentials.
func New(config func() Config) fake.Vendor { return newEntra(config) }
