package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMakeRunDemo runs the README's demo as a newcomer does: `make run`,
// then `make webhook EMAIL=alice@example.com`, then reads the case through
// the admin API: an outcome from each connector the example config points
// at the simulator (google's through the demo service account the
// simulator makes), the case waiting for Lucid's manual "Log out user";
// then `make manual` and `make attest`, and the case completes. Only the
// ports, the .run directory and the database file are the test's own.
// lockedBuffer is a bytes.Buffer safe for one writer and readers at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestMakeRunDemo(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("SKIP: make is not installed")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	addr, sim := freeAddr(t), freeAddr(t)
	vars := []string{"ADDR=" + addr, "SIM=" + sim, "RUN=" + dir}

	run := exec.Command("make", append([]string{"-s", "-C", root, "run"}, vars...)...)
	run.Env = append(os.Environ(), "DATABASE_URL=sqlite:"+filepath.Join(dir, "demo.db"))
	for _, k := range []string{"GOOGLE_CREDENTIALS", "REDIS_URL"} { // the demo's own defaults
		run.Env = append(run.Env, k+"=")
	}
	run.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // make and the service it starts
	var log lockedBuffer                                  // written by make's output copier while the test reads it
	run.Stdout, run.Stderr = &log, &log
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-run.Process.Pid, syscall.SIGTERM)
		_, _ = run.Process.Wait()
	})
	waitReady(t, "http://"+addr, &log)

	out, err := exec.Command("make", append([]string{"-s", "-C", root, "webhook", "EMAIL=alice@example.com"}, vars...)...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "(HTTP 202)") {
		t.Fatalf("make webhook: %v\n%s", err, out)
	}
	id := regexp.MustCompile(`"case_id":"([^"]+)"`).FindStringSubmatch(string(out))
	if id == nil {
		t.Fatalf("make webhook answered no case id:\n%s", out)
	}
	token, err := os.ReadFile(filepath.Join(dir, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}

	var c struct {
		State   string `json:"state"`
		Entries []struct {
			Connector string `json:"connector"`
			Outcome   string `json:"outcome"`
		} `json:"entries"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for c.State != "completed" && c.State != "needs_attention" {
		if time.Now().After(deadline) {
			t.Fatalf("case %s is %q after 30 s: %+v\n%s", id[1], c.State, c.Entries, log.String())
		}
		time.Sleep(100 * time.Millisecond)
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/v1/cases/"+id[1], nil)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&c)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	// A leaver (reason terminated): every identity provider and SaaS app
	// ends the sessions; Lucid's SCIM deactivates the account, and its
	// "Log out user" waits for a person.
	want := map[string]string{"auth0": "verified", "entra": "verified", "google": "verified",
		"keycloak": "verified", "okta": "acknowledged", "onelogin": "acknowledged",
		"slack": "verified", "github": "verified", "zoom": "acknowledged", "zendesk": "verified",
		"pagerduty": "verified", "dropbox": "verified", "atlassian": "verified",
		"salesforce": "verified", "box": "acknowledged", "aws": "verified",
		"lucid": "verified", "lucid-logout": "manual_required"}
	got := map[string]string{}
	for _, e := range c.Entries {
		got[e.Connector] = e.Outcome
	}
	if c.State != "needs_attention" || len(got) != len(want) {
		t.Fatalf("case %s: %s with %v, want needs_attention with %v\n%s", id[1], c.State, got, want, log.String())
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}

	// The newcomer lists the open manual step and says it is done.
	out, err = exec.Command("make", append([]string{"-s", "-C", root, "manual"}, vars...)...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), id[1]) || !strings.Contains(string(out), "Log out user") {
		t.Fatalf("make manual: %v\n%s", err, out)
	}
	out, err = exec.Command("make", append([]string{"-s", "-C", root, "attest", "CASE=" + id[1], "WHO=Dana Admin"}, vars...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("make attest: %v\n%s", err, out)
	}
	var done struct {
		State   string `json:"state"`
		Entries []struct {
			Connector string `json:"connector"`
			Outcome   string `json:"outcome"`
		} `json:"entries"`
		Audit []struct {
			Action string `json:"action"`
			Detail string `json:"detail"`
		} `json:"audit"`
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/v1/cases/"+id[1], nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(resp.Body).Decode(&done)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	attested := false
	for _, a := range done.Audit {
		attested = attested || a.Action == "entry.attested" && strings.Contains(a.Detail, "Dana Admin")
	}
	if done.State != "completed" || !attested {
		t.Errorf("after make attest: case %s, attested by Dana Admin in the audit: %v\n%s", done.State, attested, out)
	}
	if strings.Contains(log.String(), "PRIVATE KEY") {
		t.Error("the demo's log holds the google service account's private key")
	}
}
