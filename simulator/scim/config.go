package scim

import (
	"cmp"

	"github.com/offboarder/offboarder/simulator/fake"
)

// DefaultToken is the SCIM bearer token the fake accepts when Config.Token
// is "".
const DefaultToken = "sim-lucid-token"

// Config is what the Lucid fake accepts as credentials; it is read again on
// every call.
type Config struct {
	Token string // the SCIM bearer token; "" means DefaultToken
}

// token is the bearer token c names, the default filled in.
func (c Config) token() string { return cmp.Or(c.Token, DefaultToken) }

// New returns the Lucid fake with no users; config gives its token.
func New(config func() Config) fake.Vendor { return newLucid(config) }
