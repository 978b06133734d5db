package connectors

import (
	"fmt"
	"maps"
	"time"

	"github.com/offboarder/offboarder/vendorapi"
)

// RetryForKey is the key every connector entry accepts, whatever its type:
// how long a retryable error keeps the entry retrying, from its first
// attempt, before it is failed (a Go duration, "24h", "90m"). Build takes
// it out of the settings before a type decodes them, so no type's Config
// declares it; RetryWindows reads it.
const RetryForKey = "retry_for"

// DefaultRetryFor is the retry window of a connector without retry_for.
const DefaultRetryFor = 24 * time.Hour

// RetryWindows returns each spec's retry window by connector name:
// retry_for, or DefaultRetryFor without it. A value that is not a positive
// duration is an error naming its key (Build reports the same).
func RetryWindows(specs []Spec) (map[string]time.Duration, error) {
	out := make(map[string]time.Duration, len(specs))
	for i, s := range specs {
		d, err := retryFor(s.Settings)
		if err != nil {
			return nil, vendorapi.At(fmt.Sprintf("connectors[%d] (%s)", i, s.Name), err)[0]
		}
		out[s.Name] = d
	}
	return out, nil
}

// retryFor parses settings' retry_for.
func retryFor(settings map[string]any) (time.Duration, error) {
	v, ok := settings[RetryForKey]
	if !ok {
		return DefaultRetryFor, nil
	}
	var d time.Duration
	switch v := v.(type) {
	case string:
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return 0, vendorapi.FieldErr(RetryForKey, "%q is not a duration (e.g. 24h, 90m)", v)
		}
	case time.Duration:
		d = v
	default:
		return 0, vendorapi.FieldErr(RetryForKey, "want a duration such as 24h, got %T", v)
	}
	if d <= 0 {
		return 0, vendorapi.FieldErr(RetryForKey, "%s must be positive", d)
	}
	return d, nil
}

// withoutRetryFor returns settings without retry_for (a copy when it is
// there), for the type's own decoding, and the problem with its value.
func withoutRetryFor(settings map[string]any) (map[string]any, error) {
	if _, ok := settings[RetryForKey]; !ok {
		return settings, nil
	}
	_, err := retryFor(settings)
	rest := maps.Clone(settings)
	delete(rest, RetryForKey)
	return rest, err
}
