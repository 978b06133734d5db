package connectors

import (
	"fmt"
	"slices"
	"strings"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// DefaultDisableFor are the reasons an account or a credential is disabled
// for when a connector's disable_for is not set: a person who left.
var DefaultDisableFor = DisableFor{offboard.ReasonTerminated, offboard.ReasonDeactivated}

// DisableFor is a connector's disable_for setting: the reasons for which a
// step that disables an account or a credential (SCIM active=false, an
// account's deactivation, an access key's) may run. For any other reason
// (a security incident, a suspension, a manual session reset) such a step
// is skipped, while the steps that only end sessions still run. Empty
// means DefaultDisableFor.
type DisableFor []offboard.Reason

// Validate reports a reason that is not one of the reason words, naming
// the key disable_for.
func (d DisableFor) Validate() error {
	for i, r := range d {
		if !r.Valid() {
			return vendorapi.FieldErr(fmt.Sprintf("disable_for[%d]", i),
				"want one of terminated, suspended, deactivated, security, manual")
		}
	}
	return nil
}

// Allows reports whether a disabling step may run for reason r.
func (d DisableFor) Allows(r offboard.Reason) bool {
	if len(d) == 0 {
		d = DefaultDisableFor
	}
	return slices.Contains(d, r)
}

// Skipped is the detail of a disabling step left out for reason r, e.g.
// `account not deactivated: the reason is "security", and disable_for is
// terminated, deactivated`.
func (d DisableFor) Skipped(what string, r offboard.Reason) string {
	if len(d) == 0 {
		d = DefaultDisableFor
	}
	words := make([]string, len(d))
	for i, w := range d {
		words[i] = string(w)
	}
	return fmt.Sprintf("%s: the reason is %q, and disable_for is %s", what, r, strings.Join(words, ", "))
}
