package conformance_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/offboarder/offboarder/connectors/conformance"
)

// scriptCases are run by TestScript in a child process each, so that a
// case the fake must fail fails the child, not this test.
var scriptCases = map[string]struct {
	steps []conformance.Step
	send  []string // "METHOD /path" in order
	fail  string   // what the child's output must hold; "" means it passes
}{
	"every step used": {
		steps: []conformance.Step{{Method: "GET", Path: "/a", Status: 200}, {Method: "DELETE", Path: "/b", Status: 204}},
		send:  []string{"GET /a", "DELETE /b"},
	},
	"a group in any order": {
		steps: []conformance.Step{{Method: "GET", Path: "/a", Status: 200}, conformance.Step{Method: "GET", Path: "/b", Status: 200}.With()},
		send:  []string{"GET /b", "GET /a"},
	},
	"an optional step never sent": {
		steps: []conformance.Step{{Method: "GET", Path: "/a", Status: 200}, conformance.Step{Method: "GET", Path: "/b", Status: 200}.Maybe()},
		send:  []string{"GET /a"},
	},
	"an unexpected request": {
		steps: []conformance.Step{{Method: "GET", Path: "/a", Status: 200}},
		send:  []string{"GET /a", "GET /b"},
		fail:  "fake: unexpected request GET /b",
	},
	"a request out of script": {
		steps: []conformance.Step{{Method: "GET", Path: "/a", Status: 200}},
		send:  []string{"POST /a"},
		fail:  "fake step 1: got POST /a, want GET /a",
	},
	"an unused step": {
		steps: []conformance.Step{{Method: "GET", Path: "/a", Status: 200}, {Method: "DELETE", Path: "/b", Status: 204}},
		send:  []string{"GET /a"},
		fail:  "fake: scripted step 2 unused: DELETE /b",
	},
}

// The scripted fake passes a connector that sends what the script says,
// and fails one that sends anything else or leaves a step unused.
func TestScript(t *testing.T) {
	if name := os.Getenv("CONFORMANCE_SCRIPT_CASE"); name != "" {
		c := scriptCases[name]
		srv := httptest.NewServer(conformance.Script(t, nil, c.steps...))
		defer srv.Close()
		for _, s := range c.send {
			method, path, _ := strings.Cut(s, " ")
			req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
		}
		return
	}
	for name, c := range scriptCases {
		t.Run(name, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestScript$", "-test.count=1")
			cmd.Env = append(os.Environ(), "CONFORMANCE_SCRIPT_CASE="+name)
			out, err := cmd.CombinedOutput()
			switch {
			case c.fail == "" && err != nil:
				t.Errorf("the fake failed a request in script: %v\n%s", err, out)
			case c.fail != "" && err == nil:
				t.Errorf("the fake passed, want it to fail with %q\n%s", c.fail, out)
			case c.fail != "" && !strings.Contains(string(out), c.fail):
				t.Errorf("the fake failed without %q:\n%s", c.fail, out)
			}
		})
	}
}
