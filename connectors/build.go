package connectors

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"

	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/vendorapi"
	"github.com/offboarder/offboarder/vendorapi/ratelimit"
)

// Spec is one configured connector: its name, type and the keys of its type
// (secrets already resolved to plain strings; lists as []any; bools as bool).
type Spec struct {
	Name, Type string
	Settings   map[string]any
}

// Deps are what a connector may need from the process.
type Deps struct {
	HTTPClient *http.Client // nil: vendorapi.NewHTTPClient(), shared by every connector Build opens
	Logger     zerolog.Logger
	// RateLimits, when its Redis is set, enforces each connector's
	// rate_limit across every process on that Redis: a connector with a
	// limit opens with its own copy of HTTPClient, whose every request
	// waits for its turn (ratelimit.Limiter.Client). Without Redis (check),
	// nothing is limited.
	RateLimits ratelimit.Options
}

// Config is one connector type's settings: decoded from a Spec, checked by
// Validate (which reports every problem, each naming its key), then opened.
// Each system's package exports its own (okta.Config, …); the registry
// package maps type names to them.
type Config interface {
	Validate() error
	Open(name string, deps Deps) (Connector, error)
}

// Types returns the type names of types, sorted.
func Types(types map[string]func() Config) []string { return slices.Sorted(maps.Keys(types)) }

// Build opens every spec and reports all problems together (errors.Join),
// each naming its key path, e.g. `connectors[1] (okta).token: required`. An
// unknown type, an unknown key and a missing key all fail, and so does a
// Follower's after that names no configured connector or leads back to
// itself (`connectors[2] (lucid-logout).after: no connector is named
// "lucid"`). retry_for (RetryForKey) and rate_limit (RateLimitKey), which every
// type accepts, are checked here and taken out before the type decodes its
// settings. Names are the config package's to check (their form,
// duplicates). It returns connectors only when there is no problem at all.
// types maps each known type name to a fresh Config of that type
// (registry.Connectors).
func Build(specs []Spec, types map[string]func() Config, deps Deps) ([]Connector, error) {
	if deps.HTTPClient == nil {
		deps.HTTPClient = vendorapi.NewHTTPClient()
	}
	var errs []error
	out := make([]Connector, 0, len(specs))
	index := make(map[string]int, len(specs)) // each name's place, for checkAfter
	for i, s := range specs {
		index[s.Name] = i
		at := fmt.Sprintf("connectors[%d] (%s)", i, s.Name)
		newConfig, ok := types[s.Type]
		if !ok {
			errs = append(errs, vendorapi.At(at, vendorapi.FieldErr("type", "unknown type %q (known: %v)", s.Type, Types(types)))...)
			continue
		}
		cfg := newConfig()
		settings, rerr := withoutRetryFor(s.Settings)
		settings, limit, lerr := withoutRateLimit(settings, cfg)
		err := vendorapi.CheckSettings(settings, cfg)
		if err == nil && rerr == nil && lerr == nil {
			d := deps
			if deps.RateLimits.Redis != nil && !limit.IsZero() {
				d.HTTPClient = ratelimit.New(s.Name, limit, deps.RateLimits).Client(deps.HTTPClient)
			}
			var c Connector
			if c, err = cfg.Open(s.Name, d); err == nil {
				out = append(out, c)
				continue
			}
		}
		errs = append(errs, vendorapi.At(at, errors.Join(rerr, lerr, err))...)
	}
	errs = append(errs, checkAfter(out, index)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}
