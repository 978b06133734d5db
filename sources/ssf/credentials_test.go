package ssf

import (
	"testing"

	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/conformance"
)

// TestRefusesAMissingCredential runs the credential suite on this type: no
// source is built without its credentials.
func TestRefusesAMissingCredential(t *testing.T) {
	conformance.RefusesMissingCredentials(t, conformance.Credentials{
		Type:   "ssf",
		New:    func() sources.Config { return new(Config) },
		Valid:  map[string]any{"issuer": ssfTestIssuer, "audience": ssfTestAudience, "jwks": ssfDefaultJWKS(t)},
		Keys:   []string{"jwks", "audience", "issuer"},
		Named:  map[string]string{"jwks": "jwks_uri"},
		Public: []string{"jwks", "audience", "issuer"},
		Extra: map[string][]conformance.Hostile{
			"jwks":     {{Name: "empty key set", Value: `{"keys":[]}`}},
			"audience": {{Name: "empty list", Value: []any{}}, {Name: "list with an empty audience", Value: []any{ssfTestAudience, ""}}},
		},
	})
}
