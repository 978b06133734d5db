package pagerduty

import (
	"time"

	"github.com/offboarder/offboarder/connectors"
)

var _ connectors.RateLimited = (*Config)(nil)

// DefaultRateLimit is PagerDuty's REST API limit per API key: 960
// requests a minute.
// https://support.pagerduty.com/docs/rest-api-rate-limits
func (*Config) DefaultRateLimit() connectors.RateLimit {
	return connectors.RateLimit{Requests: 960, Per: time.Minute}
}
