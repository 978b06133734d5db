package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/offboarder/offboarder/connectors"
)

// buildOffboarder builds the offboarder binary into the test's temporary
// directory and returns its path.
func buildOffboarder(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "offboarder")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/offboarder").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// writeConfig writes conf, with conns as its connectors, to a config file
// in a temporary directory and returns its path. JSON is written: YAML is
// a superset of it.
func writeConfig(t *testing.T, conf map[string]any, conns []connectors.Spec) string {
	t.Helper()
	var list []map[string]any
	for _, c := range conns {
		m := map[string]any{"name": c.Name, "type": c.Type}
		for k, v := range c.Settings {
			m[k] = v
		}
		list = append(list, m)
	}
	if list != nil {
		conf["connectors"] = list
	}
	js, err := json.Marshal(conf)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, js, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// unlimited gives every spec a rate_limit far above what a test sends, in
// place of its vendor's documented default (Slack's 20 a minute would
// make a 2,000-leaver test last hours): for tests about processes, not
// about vendors' limits (TestLayoff is about those).
func unlimited(specs []connectors.Spec) []connectors.Spec {
	for _, s := range specs {
		s.Settings["rate_limit"] = map[string]any{"requests": 1000000, "per": "1s"}
	}
	return specs
}

// proc is one process of the built binary, killed at cleanup.
type proc struct {
	cmd *exec.Cmd
	// Log is what the process wrote to stdout and stderr.
	Log *lockedBuffer
}

// startProc runs bin with args, its environment the test's plus env.
func startProc(t *testing.T, bin string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), Log: &lockedBuffer{}}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.Log, p.Log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.cmd.Process.Kill(); _ = p.cmd.Wait() })
	return p
}

// Pid is the process's id.
func (p *proc) Pid() int { return p.cmd.Process.Pid }

// Kill ends the process with SIGKILL and waits for it to be gone.
func (p *proc) Kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
}
