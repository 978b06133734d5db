package atlassian

import (
	"cmp"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

// The credentials the fake accepts when Config leaves them "".
const (
	DefaultToken = "sim-atlassian-token" // the organization API key
	DefaultOrgID = "sim-atlassian-org"   // the organization's id
)

// Config is what the Atlassian fake accepts as credentials; it is read
// again on every call.
type Config struct {
	Token string // the organization API key; "" means DefaultToken
	OrgID string // the organization's id; "" means DefaultOrgID
}

func (c Config) token() string { return cmp.Or(c.Token, DefaultToken) }
func (c Config) orgID() string { return cmp.Or(c.OrgID, DefaultOrgID) }

// New returns the Atlassian fake with no users; config gives its
// credentials and now its clock (the rate-limit reset it names).
func New(config func() Config, now func() time.Time) fake.Vendor { return newAtlassian(config, now) }
