package connectors_test

import (
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/connectors"
)

func TestEveryTypeTakesRetryForWithoutDeclaringIt(t *testing.T) {
	specs := []connectors.Spec{
		{Name: "a", Type: "echo", Settings: map[string]any{"url": "u", "token": "t", "retry_for": "90m"}},
		{Name: "b", Type: "alpha", Settings: map[string]any{"url": "u", "token": "t"}},
	}
	if _, err := connectors.Build(specs, echoTypes, connectors.Deps{}); err != nil {
		t.Fatalf("Build: %v", err)
	}
	if _, ok := specs[0].Settings["retry_for"]; !ok {
		t.Error("Build changed the caller's settings")
	}
	got, err := connectors.RetryWindows(specs)
	if err != nil || got["a"] != 90*time.Minute || got["b"] != connectors.DefaultRetryFor {
		t.Errorf("RetryWindows = %v, %v; want a 1h30m, b %s", got, err, connectors.DefaultRetryFor)
	}
}

func TestABadRetryForNamesItsKey(t *testing.T) {
	for _, v := range []any{"soon", "-1h", "0s", 3} {
		specs := []connectors.Spec{{Name: "a", Type: "echo", Settings: map[string]any{"url": "u", "token": "t", "retry_for": v}}}
		_, err := connectors.Build(specs, echoTypes, connectors.Deps{})
		if err == nil || !strings.HasPrefix(err.Error(), "connectors[0] (a).retry_for: ") {
			t.Errorf("retry_for %v: Build error %v, want one naming connectors[0] (a).retry_for", v, err)
		}
		if _, err := connectors.RetryWindows(specs); err == nil || !strings.Contains(err.Error(), "retry_for") {
			t.Errorf("retry_for %v: RetryWindows error %v", v, err)
		}
	}
}
