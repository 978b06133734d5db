package github

import (
	"time"

	"github.com/offboarder/offboarder/connectors"
)

var _ connectors.RateLimited = (*Config)(nil)

// DefaultRateLimit is GitHub's primary REST limit for a personal access
// token: 5,000 requests an hour (a GitHub App in an Enterprise Cloud org
// gets 15,000: set rate_limit).
// https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
func (*Config) DefaultRateLimit() connectors.RateLimit {
	return connectors.RateLimit{Requests: 5000, Per: time.Hour}
}
