package google

import (
	"testing"

	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/conformance"
)

// TestRefusesAMissingCredential runs the credential suite on this type: no
// source is built without its credentials.
func TestRefusesAMissingCredential(t *testing.T) {
	conformance.RefusesMissingCredentials(t, conformance.Credentials{
		Type:  "google",
		New:   func() sources.Config { return new(Config) },
		Valid: googleSettings(t, ""),
		Keys:  []string{"channel_token", "credentials"},
		Extra: map[string][]conformance.Hostile{"credentials": {{Name: "JSON key without a private key", Value: `{"type":"service_account","client_email":"sa@p.iam.gserviceaccount.com"}`}}},
	})
}
