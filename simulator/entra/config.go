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

// withDefaults fills in what c leaves empty.
func (c Config) withDefaults() Config {
	if c.ClientID == "" {
		c.ClientID = DefaultClientID
	}
	if c.ClientSecret == "" {
		c.ClientSecret = DefaultClientSecret
	}
	return c
}

// New returns the Entra fake with no users; config gives its credentials.
func New(config func() Config) fake.Vendor { return newEntra(config) }
