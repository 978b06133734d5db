package aws

import (
	"time"

	"github.com/offboarder/offboarder/connectors"
)

var _ connectors.RateLimited = (*Config)(nil)

// DefaultRateLimit: AWS throttles IAM's API per account without
// publishing a request rate (a throttled call answers Throttling). 10 a
// second is a conservative default of ours; raise it with rate_limit.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
func (*Config) DefaultRateLimit() connectors.RateLimit {
	return connectors.RateLimit{Requests: 10, Per: time.Second}
}
