package zendesk

import (
	"cmp"

	"github.com/offboarder/offboarder/simulator/fake"
)

// Config is the admin whose API token the Zendesk fake accepts, as Basic
// "{email}/token:{token}"; it is read again on every call. "" means
// DefaultEmail and DefaultToken.
type Config struct {
	Email, Token string
}

// The credentials the Zendesk fake accepts when Config leaves them empty.
const (
	DefaultEmail = "sim-zendesk-admin@example.com"
	DefaultToken = "sim-zendesk-token"
)

// withDefaults is c with the defaults filled in.
func (c Config) withDefaults() Config {
	return Config{Email: cmp.Or(c.Email, DefaultEmail), Token: cmp.Or(c.Token, DefaultToken)}
}

// New returns the Zendesk fake with no users; config gives the admin's
// credentials.
func New(config func() Config) fake.Vendor { return newZendesk(config) }
