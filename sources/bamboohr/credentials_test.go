package bamboohr

import (
	"testing"

	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/conformance"
)

// TestRefusesAMissingCredential runs the credential suite on this type: no
// source is built without its credentials.
func TestRefusesAMissingCredential(t *testing.T) {
	conformance.RefusesMissingCredentials(t, conformance.Credentials{
		Type:  "bamboohr",
		New:   func() sources.Config { return new(Config) },
		Valid: bambooHRSettings(""),
		Keys:  []string{"secret", "api_key"},
		Extra: map[string][]conformance.Hostile{"secret": conformance.Rotation(bambooHRTestSecret)},
	})
}
