package onelogin

import (
	"time"

	"github.com/offboarder/offboarder/connectors"
)

var _ connectors.RateLimited = (*Config)(nil)

// DefaultRateLimit is OneLogin's API limit per account: 5,000 calls an
// hour.
// https://developers.onelogin.com/api-docs/2/getting-started/rate-limits
func (*Config) DefaultRateLimit() connectors.RateLimit {
	return connectors.RateLimit{Requests: 5000, Per: time.Hour}
}
