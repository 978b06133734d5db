package onelogin

import (
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

// Config is the API credential pair the OneLogin fake's token endpoint
// accepts; it is read again on every token request. "" means
// "sim-onelogin-client" and "sim-onelogin-secret".
type Config struct {
	ClientID, ClientSecret string
}

const (
	defaultOneLoginClientID = "sim-onelogin-client"
	defaultOneLoginSecret   = "sim-onelogin-secret"
)

// client is the credential pair c names, defaults filled in.
func (c Config) client() fake.Client {
	return fake.Client{ID: c.ClientID, Secret: c.ClientSecret}.Or(fake.Client{ID: defaultOneLoginClientID, Secret: defaultOneLoginSecret})
}

// New returns the OneLogin fake with no users; config gives its
// credentials, and now is the simulator's clock (for the seconds left until
// a rate-limit reset).
func New(config func() Config, now func() time.Time) fake.Vendor { return newOneLogin(config, now) }
