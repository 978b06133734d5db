package connectors

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/offboarder/offboarder/vendorapi"
	"github.com/offboarder/offboarder/vendorapi/ratelimit"
)

// RateLimitKey is the key every connector entry accepts, whatever its
// type: `rate_limit: {requests: N, per: DURATION}`, at most N requests to
// the system in any DURATION, shared by every process on the same Redis.
// Build takes it out of the settings before a type decodes them, as it
// does retry_for; a type's Config that implements RateLimited gives the
// default.
const RateLimitKey = "rate_limit"

// RateLimit is a connector's rate_limit; the zero RateLimit is none.
type RateLimit = ratelimit.Limit

// RateLimited is implemented by a type's Config whose system documents a
// rate limit: DefaultRateLimit is the limit when rate_limit is not set,
// with the vendor's page cited where it is declared. A type without it has
// no limit by default.
type RateLimited interface {
	DefaultRateLimit() RateLimit
}

// RateLimits returns each spec's effective rate_limit by connector name:
// its rate_limit, or its type's default (none for an unknown type or a
// type without one). A bad rate_limit is an error naming its key (Build
// reports the same).
func RateLimits(specs []Spec, types map[string]func() Config) (map[string]RateLimit, error) {
	out := make(map[string]RateLimit, len(specs))
	for i, s := range specs {
		var cfg Config
		if newConfig, ok := types[s.Type]; ok {
			cfg = newConfig()
		}
		l, err := rateLimit(s.Settings, cfg)
		if err != nil {
			return nil, vendorapi.At(fmt.Sprintf("connectors[%d] (%s)", i, s.Name), err)[0]
		}
		out[s.Name] = l
	}
	return out, nil
}

// rateLimit parses settings' rate_limit, or returns cfg's default.
func rateLimit(settings map[string]any, cfg Config) (RateLimit, error) {
	v, ok := settings[RateLimitKey]
	if !ok || v == nil {
		if d, ok := cfg.(RateLimited); ok {
			return d.DefaultRateLimit(), nil
		}
		return RateLimit{}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return RateLimit{}, vendorapi.FieldErr(RateLimitKey, "want {requests: N, per: DURATION}, got %T", v)
	}
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, vendorapi.FieldErr(RateLimitKey+"."+key, format, args...))
	}
	var l RateLimit
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if k != "requests" && k != "per" {
			bad(k, "unknown key (known: per, requests)")
		}
	}
	switch n, ok := whole(m["requests"]); {
	case m["requests"] == nil:
		bad("requests", "required")
	case !ok || n <= 0:
		bad("requests", "must be a whole number above 0")
	default:
		l.Requests = n
	}
	switch p := m["per"].(type) {
	case nil:
		bad("per", "required")
	case string:
		d, err := time.ParseDuration(p)
		switch {
		case err != nil:
			bad("per", "%q is not a duration (e.g. 1m, 10s)", p)
		case d <= 0:
			bad("per", "%s must be positive", d)
		default:
			l.Per = d
		}
	default:
		bad("per", "want a duration such as 1m, got %T", p)
	}
	if len(errs) > 0 {
		return RateLimit{}, errors.Join(errs...)
	}
	return l, nil
}

// whole reads a YAML number that is a whole int.
func whole(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), n <= math.MaxInt32
	case uint64:
		return int(n), n <= math.MaxInt32
	case float64:
		return int(n), n == math.Trunc(n) && math.Abs(n) <= math.MaxInt32
	}
	return 0, false
}

// withoutRateLimit returns settings without rate_limit (a copy when it is
// there), for the type's own decoding, and the limit in force.
func withoutRateLimit(settings map[string]any, cfg Config) (map[string]any, RateLimit, error) {
	l, err := rateLimit(settings, cfg)
	if _, ok := settings[RateLimitKey]; !ok {
		return settings, l, err
	}
	rest := maps.Clone(settings)
	delete(rest, RateLimitKey)
	return rest, l, err
}
