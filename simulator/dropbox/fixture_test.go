package dropbox

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
	"github.com/offboarder/offboarder/simulator/fake/faketest"
)

// fixture is the Dropbox fake served alone over real HTTP, behind the knobs.
type fixture struct {
	sim *faketest.Server[Config]
}

// demo starts the fake with alice, bob and carol (2 sessions each).
func demo(t *testing.T, k fake.Knobs, c Config) *fixture {
	t.Helper()
	sim := faketest.Start(t, k, c, func(c func() Config, _ func() time.Time) fake.Vendor { return newDropbox(c) })
	sim.Seed(0)
	return &fixture{sim: sim}
}

const bearer = "Bearer " + DefaultToken

// rpc posts body as JSON to the route with the token auth and decodes a
// JSON answer into out (when out is not nil and the answer is JSON).
func (f *fixture) rpc(t *testing.T, route, auth, body string, out any) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, f.sim.HTTP.URL+"/dropbox/2/"+route, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := f.sim.HTTP.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s: %v: %s", route, err, raw)
		}
	}
	return resp, raw
}
