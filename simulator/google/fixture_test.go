package google

import (
	"crypto/rsa"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
	"github.com/offboarder/offboarder/simulator/fake/faketest"
)

// options are the knobs and the Google fake's Config that a test starts
// with.
type options struct {
	Latency   time.Duration
	ErrorRate float64
	RateLimit int
	Seed      int64
	Key       *rsa.PublicKey
}

func (o options) knobs() fake.Knobs {
	return fake.Knobs{Latency: o.Latency, ErrorRate: o.ErrorRate, RateLimit: o.RateLimit, Seed: o.Seed}
}

func (o options) config() Config { return Config{Key: o.Key} }

// fixture is the Google fake served alone over real HTTP, behind the knobs.
type fixture struct {
	sim *faketest.Server[Config]
	srv *httptest.Server
}

func start(t *testing.T, o options) *fixture {
	t.Helper()
	sim := faketest.Start(t, o.knobs(), o.config(), func(c func() Config, _ func() time.Time) fake.Vendor { return newGoogle(c) })
	return &fixture{sim: sim, srv: sim.HTTP}
}

// demo starts the fake with alice, bob and carol (2 sessions each).
func demo(t *testing.T, o options) *fixture {
	t.Helper()
	f := start(t, o)
	f.sim.Seed(0)
	return f
}

// setOptions replaces the knobs and the config, as the simulator's
// SetOptions does.
func (f *fixture) setOptions(o options) {
	f.sim.SetKnobs(o.knobs())
	f.sim.SetConfig(o.config())
}
