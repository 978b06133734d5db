package google

import (
	"time"

	"github.com/offboarder/offboarder/connectors"
)

var _ connectors.RateLimited = (*Config)(nil)

// DefaultRateLimit is the Directory API's default quota: 2,400 queries a
// minute per user per Google Cloud project (raised in the project's
// quotas page; then set rate_limit).
// https://developers.google.com/admin-sdk/directory/v1/limits
func (*Config) DefaultRateLimit() connectors.RateLimit {
	return connectors.RateLimit{Requests: 2400, Per: time.Minute}
}
