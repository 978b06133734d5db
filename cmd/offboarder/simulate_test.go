package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/store"
)

// `offboarder simulate` can hand out demo credentials for the vendors that
// need keys: a Google service account and an Okta service app (here one
// that requires DPoP). A config that points at the files passes
// `check --probe`, which calls each connector's cheapest authenticated read.
func TestSimulateWritesDemoCredentials(t *testing.T) {
	dir := t.TempDir()
	googleKey, oktaKey := filepath.Join(dir, "google.json"), filepath.Join(dir, "okta.pem")
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	var errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- runMain(ctx, []string{"simulate", "--addr", "127.0.0.1:0", "--users", "0",
			"--google-credentials", googleKey, "--okta-private-key", oktaKey, "--okta-dpop"}, pw, &errb)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("simulate exited %d: %s", code, errb.String())
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no first line: %v (%s)", err, errb.String())
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	_, rest, _ := strings.Cut(line, "listening on ")
	base, _, _ := strings.Cut(rest, " ")
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("first line %q", line)
	}
	for _, f := range []string{googleKey, oktaKey} {
		if st, err := os.Stat(f); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", f, st, err)
		}
	}

	p := writeConfig(t, `
sources:
  - name: hr
    type: generic
    secret: hr-SECRET-VALUE-0123456789
connectors:
  - name: okta
    type: okta
    base_url: `+base+`/okta
    client_id: 0oa-offboarder-demo
    private_key_file: `+oktaKey+`
    dpop: true
  - name: google
    type: google
    credentials_file: `+googleKey+`
    admin_email: admin@example.com
    base_url: `+base+`/google
`)
	var out, cerr bytes.Buffer
	if code := runMain(t.Context(), []string{"check", "--probe", "--config", p}, &out, &cerr); code != 0 {
		t.Fatalf("check --probe: exit %d\n%s%s", code, out.String(), cerr.String())
	}
	for _, name := range []string{"okta", "google"} {
		if !strings.Contains(out.String(), name) || strings.Contains(out.String(), "FAILED") {
			t.Fatalf("probe output:\n%s", out.String())
		}
	}

	// Without dpop the service app's probe fails, and says what to set.
	p2 := writeConfig(t, strings.Replace(readFile(t, p), "    dpop: true\n", "", 1))
	out.Reset()
	if code := runMain(t.Context(), []string{"check", "--probe", "--config", p2}, &out, &cerr); code != 1 || !strings.Contains(out.String(), "set dpop: true") {
		t.Fatalf("without dpop: exit %d\n%s", code, out.String())
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSimulateOktaDPoPNeedsAKey(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runMain(t.Context(), []string{"simulate", "--addr", "127.0.0.1:0", "--okta-dpop"}, &out, &errb); code != 2 ||
		!strings.Contains(errb.String(), "--okta-private-key") {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
}

// cases show lists a person's other cases, so a second offboarding is
// found from the first and the other way round.
func TestPrintCaseListsRelatedCases(t *testing.T) {
	var b bytes.Buffer
	at := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	printCase(&b, &store.Case{ID: "c2", Email: "alice@example.com", State: offboard.StateCompleted, CreatedAt: at, EffectiveAt: at,
		Related: []store.RelatedCase{{ID: "c1", State: offboard.StateCompleted, Reason: "terminated", CreatedAt: at.Add(-time.Hour)}}})
	if !strings.Contains(b.String(), "other cases of this person:\n  c1 completed terminated created 2026-11-28T08:00:00Z") {
		t.Fatalf("output:\n%s", b.String())
	}
	b.Reset()
	printCase(&b, &store.Case{ID: "c3", CreatedAt: at, EffectiveAt: at})
	if strings.Contains(b.String(), "other cases") {
		t.Fatalf("a case without others lists some:\n%s", b.String())
	}
}

// cases show says when a retried entry tries again.
func TestPrintCaseShowsTheNextAttempt(t *testing.T) {
	var b bytes.Buffer
	at := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	next := at.Add(90 * time.Second)
	printCase(&b, &store.Case{ID: "c4", CreatedAt: at, EffectiveAt: at, State: offboard.StateInProgress,
		Entries: []store.Entry{{Connector: "entra", Outcome: offboard.Pending, Attempts: 3, LastError: "entra: 503", NextAttemptAt: &next}}})
	if !strings.Contains(b.String(), "next attempt 2026-11-28T09:01:30Z") {
		t.Fatalf("output:\n%s", b.String())
	}
}
