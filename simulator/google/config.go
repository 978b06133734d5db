package google

import (
	"crypto/rsa"

	"github.com/offboarder/offboarder/simulator/fake"
)

// Config is what the Google fake accepts as credentials; it is read again
// on every token request.
type Config struct {
	// Key is the public key of the service account whose signed assertions
	// the token endpoint accepts; nil accepts none.
	Key *rsa.PublicKey
}

// New returns the Google fake with no users; config gives its credentials.
func New(config func() Config) fake.Vendor { return newGoogle(config) }
