package dropbox

import (
	"cmp"

	"github.com/offboarder/offboarder/simulator/fake"
)

// Config is the team-scoped access token the Dropbox fake accepts; it is
// read again on every call. "" means DefaultToken.
type Config struct {
	Token string
}

// DefaultToken is the token the Dropbox fake accepts when Config leaves it
// empty.
const DefaultToken = "sim-dropbox-token"

func (c Config) token() string { return cmp.Or(c.Token, DefaultToken) }

// New returns the Dropbox fake with no members; config gives the token.
func New(config func() Config) fake.Vendor { return newDropbox(config) }
