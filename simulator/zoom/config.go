package zoom

import (
	"cmp"

	"github.com/offboarder/offboarder/simulator/fake"
)

// Config is the Server-to-Server OAuth app the Zoom fake's token endpoint
// accepts: its account and client credentials; it is read again on every
// token request. "" means DefaultAccountID, DefaultClientID and
// DefaultClientSecret.
type Config struct {
	AccountID, ClientID, ClientSecret string
}

// The app the fake accepts when Config leaves it unset.
const (
	DefaultAccountID    = "sim-zoom-account"
	DefaultClientID     = "sim-zoom-client"
	DefaultClientSecret = "sim-zoom-secret"
)

// app is the account and client c names, defaults filled in.
func (c Config) app() (account string, client fake.Client) {
	return cmp.Or(c.AccountID, DefaultAccountID),
		fake.Client{ID: c.ClientID, Secret: c.ClientSecret}.Or(fake.Client{ID: DefaultClientID, Secret: DefaultClientSecret})
}

// New returns the Zoom fake with no users; config gives the app its token
// endpoint accepts.
func New(config func() Config) fake.Vendor { return newZoom(config) }
