package zendesk

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
	"github.com/offboarder/offboarder/simulator/fake/faketest"
)

// fixture is the Zendesk fake served alone over real HTTP, behind the knobs.
type fixture struct {
	sim *faketest.Server[Config]
}

func start(t *testing.T, k fake.Knobs, c Config) *fixture {
	t.Helper()
	sim := faketest.Start(t, k, c, func(c func() Config, _ func() time.Time) fake.Vendor { return newZendesk(c) })
	return &fixture{sim: sim}
}

// demo starts the fake with alice, bob and carol (2 sessions each).
func demo(t *testing.T, k fake.Knobs) *fixture {
	t.Helper()
	f := start(t, k, Config{})
	f.sim.Seed(0)
	return f
}

// basic is the Authorization header of an API token.
func basic(email, token string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(email+"/token:"+token))
}

// admin is the Authorization header the fake takes by default.
var admin = basic(DefaultEmail, DefaultToken)
