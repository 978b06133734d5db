package box

import (
	"time"

	"github.com/offboarder/offboarder/connectors"
)

var _ connectors.RateLimited = (*Config)(nil)

// DefaultRateLimit is Box's general limit per user: about 1,000 API calls
// a minute.
// https://developer.box.com/guides/api-calls/permissions-and-errors/rate-limits/
func (*Config) DefaultRateLimit() connectors.RateLimit {
	return connectors.RateLimit{Requests: 1000, Per: time.Minute}
}
