package okta

import (
	"cmp"
	"crypto"

	"github.com/offboarder/offboarder/simulator/fake"
)

// DefaultToken and DefaultClientID are what a Config's empty Token and
// ClientID stand for.
const (
	DefaultToken    = "sim-okta-token"
	DefaultClientID = "sim-okta-client"
)

// Config is what the Okta fake accepts as credentials; it is read again on
// every call.
type Config struct {
	Token string // the SSWS API token; "" means DefaultToken
	// ClientID and PublicKey are the OAuth service app whose
	// private_key_jwt client assertions the token endpoint accepts;
	// PublicKey is an *rsa.PublicKey or *ecdsa.PublicKey. "" means
	// DefaultClientID; a nil key accepts no assertion.
	ClientID  string
	PublicKey crypto.PublicKey
	// DPoP makes that service app require DPoP (RFC 9449), as Okta does by
	// default for new service apps: the token endpoint wants a proof with
	// its nonce and issues DPoP-bound tokens, and the API wants a proof on
	// every call that presents one (dpop.go).
	DPoP bool
}

// withDefaults fills in what c leaves empty.
func (c Config) withDefaults() Config {
	c.Token = cmp.Or(c.Token, DefaultToken)
	c.ClientID = cmp.Or(c.ClientID, DefaultClientID)
	return c
}

// New returns the Okta fake with no users; config gives its credentials.
func New(config func() Config) fake.Vendor { return newOkta(config) }
