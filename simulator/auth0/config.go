package auth0

import "github.com/offboarder/offboarder/simulator/fake"

// DefaultClientID and DefaultClientSecret are what a Config's empty
// ClientID and ClientSecret stand for.
const (
	DefaultClientID     = "sim-auth0-client"
	DefaultClientSecret = "sim-auth0-secret"
)

// Config is the client credentials the Auth0 fake's token endpoint
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

// New returns the Auth0 fake with no users; config gives its credentials.
func New(config func() Config) fake.Vendor { return newAuth0(config) }
