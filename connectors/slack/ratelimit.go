package slack

import (
	"time"

	"github.com/offboarder/offboarder/connectors"
)

var _ connectors.RateLimited = (*Config)(nil)

// DefaultRateLimit is Slack's Tier 2, the tier of
// admin.users.session.reset and admin.users.session.list: 20 or more a
// minute per method per workspace (users.lookupByEmail is Tier 3, 50+).
// One limit for the connector's calls keeps under the lowest.
// https://api.slack.com/apis/rate-limits
// https://api.slack.com/methods/admin.users.session.reset
func (*Config) DefaultRateLimit() connectors.RateLimit {
	return connectors.RateLimit{Requests: 20, Per: time.Minute}
}
