package connectors

import (
	"testing"

	"github.com/offboarder/offboarder/offboard"
)

func TestDisableFor(t *testing.T) {
	tests := []struct {
		name string
		d    DisableFor
		r    offboard.Reason
		want bool
	}{
		{"a leaver is disabled by default", nil, offboard.ReasonTerminated, true},
		{"a deactivated account is disabled by default", nil, offboard.ReasonDeactivated, true},
		{"a security reset is not a disabling by default", nil, offboard.ReasonSecurity, false},
		{"a suspension is not a disabling by default", nil, offboard.ReasonSuspended, false},
		{"a manual reset is not a disabling by default", nil, offboard.ReasonManual, false},
		{"an empty reason is never a disabling", nil, "", false},
		{"a configured list replaces the default", DisableFor{offboard.ReasonSecurity}, offboard.ReasonSecurity, true},
		{"a configured list leaves out what it does not name", DisableFor{offboard.ReasonSecurity}, offboard.ReasonTerminated, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.Allows(tt.r); got != tt.want {
				t.Errorf("Allows(%q) = %v, want %v", tt.r, got, tt.want)
			}
		})
	}
	if err := (DisableFor{"fired"}).Validate(); err == nil || err.Error() != "disable_for[0]: want one of terminated, suspended, deactivated, security, manual" {
		t.Errorf("Validate of an unknown reason = %v", err)
	}
	if err := DefaultDisableFor.Validate(); err != nil {
		t.Errorf("Validate of the default = %v", err)
	}
	if got, want := DisableFor(nil).Skipped("account not deactivated", offboard.ReasonSecurity),
		`account not deactivated: the reason is "security", and disable_for is terminated, deactivated`; got != want {
		t.Errorf("Skipped = %q, want %q", got, want)
	}
}
