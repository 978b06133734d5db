package zoom

import (
	"time"

	"github.com/offboarder/offboarder/connectors"
)

var _ connectors.RateLimited = (*Config)(nil)

// DefaultRateLimit is Zoom's per-second limit for Heavy APIs on Pro
// accounts, the lowest of the categories this connector's calls fall in
// (Light 30/s, Medium 20/s, Heavy 10/s); Business and larger accounts get
// more.
// https://developers.zoom.us/docs/api/rate-limits/
func (*Config) DefaultRateLimit() connectors.RateLimit {
	return connectors.RateLimit{Requests: 10, Per: time.Second}
}
