package slack

import (
	"cmp"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

// Config is the org admin's user token the Slack fake accepts; it is read
// again on every call. "" means DefaultToken.
type Config struct {
	Token string
}

// DefaultToken is the token the fake accepts when Config.Token is "".
const DefaultToken = "sim-slack-token"

func (c Config) token() string { return cmp.Or(c.Token, DefaultToken) }

// New returns the Slack fake with no users; config gives the token it
// accepts, and now is the simulator's clock (for the seconds of a
// Retry-After).
func New(config func() Config, now func() time.Time) fake.Vendor { return newSlack(config, now) }
