package okta

import (
	"time"

	"github.com/offboarder/offboarder/connectors"
)

var _ connectors.RateLimited = (*Config)(nil)

// DefaultRateLimit is Okta's per-minute limit on /api/v1/users and its
// sessions (the calls this connector makes) for One App and Enterprise
// orgs: 600 a minute; the Integrator Free plan's is lower, and a
// Workforce org's may be higher: set rate_limit to the org's (its rate
// limit dashboard shows it).
// https://developer.okta.com/docs/reference/rl-global-mgmt/
func (*Config) DefaultRateLimit() connectors.RateLimit {
	return connectors.RateLimit{Requests: 600, Per: time.Minute}
}
