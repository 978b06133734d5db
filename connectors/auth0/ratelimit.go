package auth0

import (
	"time"

	"github.com/offboarder/offboarder/connectors"
)

var _ connectors.RateLimited = (*Config)(nil)

// DefaultRateLimit is the Management API's limit on the Free
// subscription, the lowest Auth0 documents: 2 requests a second (paid
// and Enterprise tenants get more: set rate_limit to the tenant's, which
// the x-ratelimit-limit header shows).
// https://auth0.com/docs/troubleshoot/customer-support/operational-policies/rate-limit-policy/rate-limit-configurations
func (*Config) DefaultRateLimit() connectors.RateLimit {
	return connectors.RateLimit{Requests: 2, Per: time.Second}
}
