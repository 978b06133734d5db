package okta

import (
	"testing"

	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/conformance"
)

// TestRefusesAMissingCredential runs the credential suite on this type: no
// source is built without its credentials.
func TestRefusesAMissingCredential(t *testing.T) {
	conformance.RefusesMissingCredentials(t, conformance.Credentials{
		Type:  "okta",
		New:   func() sources.Config { return new(Config) },
		Valid: map[string]any{"secret": oktaSecret},
		Keys:  []string{"secret"},
	})
}
