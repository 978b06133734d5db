package okta

import (
	"strings"
	"testing"

	"github.com/offboarder/offboarder/sources"
)

// TestConfigReportsEveryProblemAtOnce: every bad key of one entry is named,
// not only the first.
func TestConfigReportsEveryProblemAtOnce(t *testing.T) {
	_, err := build([]sources.Spec{{Name: "okta", Type: "okta", Settings: map[string]any{
		"secret": "hunter2", "header": "X Key", "events": map[string]any{"not a type": "terminated", "user.x": "fired"}, "colour": "red",
	}}})
	if err == nil {
		t.Fatal("built with four bad keys")
	}
	want := []string{
		"sources[0] (okta).colour: unknown key",
		"sources[0] (okta).secret: too short",
		"sources[0] (okta).header: want an HTTP header name",
		`sources[0] (okta).events["not a type"]: not an Okta event type`,
		`sources[0] (okta).events["user.x"]: want one of`,
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Errorf("%d problems, want %d:\n%v", len(lines), len(want), err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("errors lack %q:\n%v", w, err)
		}
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Error("the secret is in the error")
	}
}
