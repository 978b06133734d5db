package entra

import (
	"time"

	"github.com/offboarder/offboarder/connectors"
)

var _ connectors.RateLimited = (*Config)(nil)

// DefaultRateLimit keeps under Microsoft Graph's identity and access
// limits per app and tenant: a write quota of 3,000 requests per 2 min
// 30 s, and for a small tenant 3,500 resource units per 10 s (a read
// costs 1 to 5). Counting every call against the write quota keeps under
// both.
// https://learn.microsoft.com/en-us/graph/throttling-limits#identity-and-access-service-limits
func (*Config) DefaultRateLimit() connectors.RateLimit {
	return connectors.RateLimit{Requests: 3000, Per: 150 * time.Second}
}
