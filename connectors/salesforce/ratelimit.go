package salesforce

import (
	"time"

	"github.com/offboarder/offboarder/connectors"
)

var _ connectors.RateLimited = (*Config)(nil)

// DefaultRateLimit is the REST API's daily allocation of an Enterprise
// Edition org before its per-licence additions: 100,000 requests in 24
// hours, shared with the org's other integrations (lower it with
// rate_limit when they use much of it).
// https://developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_api.htm
func (*Config) DefaultRateLimit() connectors.RateLimit {
	return connectors.RateLimit{Requests: 100000, Per: 24 * time.Hour}
}
