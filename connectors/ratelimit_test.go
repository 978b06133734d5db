package connectors_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/connectors"
)

// limitedConfig is echoConfig with a documented limit.
type limitedConfig struct {
	URL   string `json:"url"`
	Token string `json:"token"`
}

func (*limitedConfig) Validate() error { return nil }

func (c *limitedConfig) Open(name string, d connectors.Deps) (connectors.Connector, error) {
	return echo(name), nil
}

func (*limitedConfig) DefaultRateLimit() connectors.RateLimit {
	return connectors.RateLimit{Requests: 600, Per: time.Minute}
}

var limitedTypes = map[string]func() connectors.Config{
	"echo":    func() connectors.Config { return new(echoConfig) },
	"limited": func() connectors.Config { return new(limitedConfig) },
}

func TestEveryTypeTakesRateLimitWithoutDeclaringIt(t *testing.T) {
	specs := []connectors.Spec{
		{Name: "a", Type: "echo", Settings: map[string]any{"url": "u", "token": "t", "rate_limit": map[string]any{"requests": 5, "per": "10s"}}},
		{Name: "b", Type: "limited", Settings: map[string]any{"url": "u", "token": "t"}},
		{Name: "c", Type: "echo", Settings: map[string]any{"url": "u", "token": "t"}},
		{Name: "d", Type: "limited", Settings: map[string]any{"url": "u", "token": "t", "rate_limit": map[string]any{"requests": 1.0, "per": "1h"}}},
	}
	if _, err := connectors.Build(specs, limitedTypes, connectors.Deps{}); err != nil {
		t.Fatalf("Build: %v", err)
	}
	if _, ok := specs[0].Settings["rate_limit"]; !ok {
		t.Error("Build changed the caller's settings")
	}
	got, err := connectors.RateLimits(specs, limitedTypes)
	want := map[string]connectors.RateLimit{
		"a": {Requests: 5, Per: 10 * time.Second},
		"b": {Requests: 600, Per: time.Minute}, // the type's default
		"c": {},                                // no default: no limit
		"d": {Requests: 1, Per: time.Hour},
	}
	if err != nil || len(got) != len(want) {
		t.Fatalf("RateLimits = %v, %v; want %v", got, err, want)
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("RateLimits[%s] = %v, want %v", name, got[name], w)
		}
	}
}

func TestABadRateLimitNamesItsKeys(t *testing.T) {
	for _, tt := range []struct {
		name  string
		value any
		want  []string
	}{
		{"a scalar", "600/min", []string{"connectors[0] (a).rate_limit: want {requests: N, per: DURATION}, got string"}},
		{"nothing inside", map[string]any{}, []string{
			"connectors[0] (a).rate_limit.requests: required",
			"connectors[0] (a).rate_limit.per: required",
		}},
		{"zero requests and a word for per", map[string]any{"requests": 0, "per": "minute"}, []string{
			"connectors[0] (a).rate_limit.requests: must be a whole number above 0",
			`connectors[0] (a).rate_limit.per: "minute" is not a duration (e.g. 1m, 10s)`,
		}},
		{"a fraction and a negative per", map[string]any{"requests": 1.5, "per": "-1m"}, []string{
			"connectors[0] (a).rate_limit.requests: must be a whole number above 0",
			"connectors[0] (a).rate_limit.per: -1m0s must be positive",
		}},
		{"requests as text, per as a number, an unknown key", map[string]any{"requests": "10", "per": 60, "burst": 3}, []string{
			"connectors[0] (a).rate_limit.burst: unknown key (known: per, requests)",
			"connectors[0] (a).rate_limit.requests: must be a whole number above 0",
			"connectors[0] (a).rate_limit.per: want a duration such as 1m, got int",
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			specs := []connectors.Spec{{Name: "a", Type: "limited", Settings: map[string]any{"url": "u", "token": "t", "rate_limit": tt.value}}}
			_, err := connectors.Build(specs, limitedTypes, connectors.Deps{})
			if err == nil {
				t.Fatal("Build succeeded, want errors")
			}
			if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, tt.want) {
				t.Errorf("Build error:\n%v\nwant:\n%s", err, strings.Join(tt.want, "\n"))
			}
			if _, err := connectors.RateLimits(specs, limitedTypes); err == nil || !strings.HasPrefix(err.Error(), "connectors[0] (a).rate_limit") {
				t.Errorf("RateLimits error %v, want one naming connectors[0] (a).rate_limit", err)
			}
		})
	}
}
