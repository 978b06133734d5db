package atlassian

import (
	"time"

	"github.com/offboarder/offboarder/connectors"
)

var _ connectors.RateLimited = (*Config)(nil)

// DefaultRateLimit: Atlassian limits the organizations REST API per
// endpoint and answers 429 with Retry-After, without one number for the
// user management calls this connector makes. 100 a minute is a
// conservative default of ours; raise it with rate_limit.
// https://developer.atlassian.com/cloud/admin/rate-limiting/
func (*Config) DefaultRateLimit() connectors.RateLimit {
	return connectors.RateLimit{Requests: 100, Per: time.Minute}
}
