package scim

import (
	"time"

	"github.com/offboarder/offboarder/connectors"
)

var _ connectors.RateLimited = (*Config)(nil)

// DefaultRateLimit: SCIM (RFC 7644) defines no rate limit and a SCIM
// service provider (Lucid among them) documents its own or none. 600 a
// minute is a conservative default of ours; set rate_limit to the
// provider's.
// https://datatracker.ietf.org/doc/html/rfc7644
func (*Config) DefaultRateLimit() connectors.RateLimit {
	return connectors.RateLimit{Requests: 600, Per: time.Minute}
}
