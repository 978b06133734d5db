package entra

import (
	"testing"

	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/conformance"
)

// TestRefusesAMissingCredential runs the credential suite on this type: no
// source is built without its credentials.
func TestRefusesAMissingCredential(t *testing.T) {
	conformance.RefusesMissingCredentials(t, conformance.Credentials{
		Type:  "entra",
		New:   func() sources.Config { return new(Config) },
		Valid: entraSettings(""),
		Keys:  []string{"client_state", "client_secret"},
	})
}
