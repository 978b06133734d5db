package zendesk

import (
	"time"

	"github.com/offboarder/offboarder/connectors"
)

var _ connectors.RateLimited = (*Config)(nil)

// DefaultRateLimit is the Support API's limit on the Team plan, the lowest
// Zendesk documents: 200 requests a minute (Growth and Professional 400,
// Enterprise 700, the High Volume add-on 2,500: set rate_limit).
// https://developer.zendesk.com/api-reference/introduction/rate-limits/
func (*Config) DefaultRateLimit() connectors.RateLimit {
	return connectors.RateLimit{Requests: 200, Per: time.Minute}
}
