package dropbox

import (
	"time"

	"github.com/offboarder/offboarder/connectors"
)

var _ connectors.RateLimited = (*Config)(nil)

// DefaultRateLimit: Dropbox documents no number for its rate limits (they
// depend on the call and the team; a 429 says how long to wait). 120 a
// minute is a conservative default of ours; raise it with rate_limit.
// https://developers.dropbox.com/dbx-performance-guide
func (*Config) DefaultRateLimit() connectors.RateLimit {
	return connectors.RateLimit{Requests: 120, Per: time.Minute}
}
