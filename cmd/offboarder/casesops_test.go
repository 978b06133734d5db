package main

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/internal/testenv"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/webhook"
)

// opsServer serves the admin API over loopback on a fresh SQLite store
// holding a case for ann whose okta and box entries failed (slack
// verified) and a case for bob scheduled a week ahead, and points the CLI
// at it. It returns both case ids and the store.
func opsServer(t *testing.T) (string, string, *store.Store) {
	t.Helper()
	st, err := store.Open(t.Context(), "sqlite:"+t.TempDir()+"/offboarder.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	redisOpt := asynq.RedisClientOpt{Addr: testenv.StartRedis(t).Addr, DialTimeout: 500 * time.Millisecond}
	client := asynq.NewClient(redisOpt)
	t.Cleanup(func() { client.Close() })
	h := webhook.New(webhook.Options{Store: st, Queue: client, Redis: redisOpt, Connectors: []string{"okta", "box", "slack"},
		AdminToken: cliAdminToken, Logger: zerolog.Nop()})
	t.Cleanup(func() { h.Close() })
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Setenv("OFFBOARDER_URL", srv.URL)
	t.Setenv("OFFBOARDER_ADMIN_TOKEN", cliAdminToken)

	ann, err := st.Ingest(t.Context(), store.Event{Source: "hr", EventID: "e1", Email: "ann@example.com", Reason: offboard.ReasonTerminated})
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]offboard.Outcome{"okta": offboard.Failed, "box": offboard.Failed, "slack": offboard.Verified}
	pending := map[string]offboard.Outcome{"okta": offboard.Pending, "box": offboard.Pending, "slack": offboard.Pending}
	if _, err := st.FanOut(t.Context(), ann.CaseID, pending, "worker"); err != nil {
		t.Fatal(err)
	}
	for k, o := range entries {
		if _, err := st.RecordOutcome(t.Context(), ann.CaseID, k, o, k+": 401 unauthorized"); err != nil {
			t.Fatal(err)
		}
	}
	bob, err := st.Ingest(t.Context(), store.Event{Source: "hr", EventID: "e2", Email: "bob@example.com", Reason: offboard.ReasonTerminated,
		EffectiveAt: time.Now().Add(7 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return ann.CaseID, bob.CaseID, st
}

func TestRetryAndCancelCommands(t *testing.T) {
	ann, bob, st := opsServer(t)
	run := func(args ...string) (int, string, string) {
		t.Helper()
		var out, errb bytes.Buffer
		code := runMain(t.Context(), args, &out, &errb)
		return code, out.String(), errb.String()
	}
	for _, args := range [][]string{
		{"cases", "retry"},
		{"cases", "retry", ann, "extra"},
		{"cases", "cancel", bob},
		{"cases", "cancel", bob, "--who", " "},
	} {
		if code, _, errb := run(args...); code != 2 || !strings.Contains(errb, "usage: ") {
			t.Errorf("%q: exit %d, %q; want 2 and a usage message", args, code, errb)
		}
	}

	code, out, errb := run("cases", "retry", ann, "--connector", "okta", "--who", "Dana Admin", "--note", "token rotated")
	if code != 0 || out != "okta on case "+ann+": pending again (queued); the case is in_progress\n" {
		t.Fatalf("retry okta: exit %d, %q, %q", code, out, errb)
	}
	// Without --connector: every failed entry left, box.
	code, out, errb = run("cases", "retry", ann, "--who", "Dana Admin")
	if code != 0 || out != "box on case "+ann+": pending again (queued); the case is in_progress\n" {
		t.Fatalf("retry every failed entry: exit %d, %q, %q", code, out, errb)
	}
	c, err := st.GetCase(t.Context(), ann)
	if err != nil || c.State != offboard.StateInProgress {
		t.Fatalf("case after the retries: %v, %v", c, err)
	}
	if a := c.Audit[len(c.Audit)-1]; a.Action != "entry.retried" || a.Connector != "box" || !strings.Contains(a.Detail, `"who":"Dana Admin"`) {
		t.Errorf("audit = %+v", a)
	}
	if code, _, errb := run("cases", "retry", ann, "--who", "Dana"); code != 1 || !strings.Contains(errb, "has no failed entry (it is in_progress)") {
		t.Errorf("retrying a case with no failed entry: exit %d, %q", code, errb)
	}
	if code, _, errb := run("cases", "retry", ann, "--connector", "slack", "--who", "Dana"); code != 1 || !strings.Contains(errb, "409 Conflict: entry is verified, not failed") {
		t.Errorf("retrying a verified entry: exit %d, %q; want 1 naming the 409", code, errb)
	}

	code, out, errb = run("cases", "cancel", bob, "--who", "Dana Admin", "--note", "rehired")
	if code != 0 || out != "case "+bob+" cancelled (cancelled by Dana Admin: rehired); 0 offboard task(s) removed from the queue\n" {
		t.Fatalf("cancel: exit %d, %q, %q", code, out, errb)
	}
	if code, out, _ := run("cases", "show", bob); code != 0 || !strings.Contains(out, "state      cancelled\n") || !strings.Contains(out, "why        cancelled by Dana Admin: rehired\n") {
		t.Errorf("cases show after the cancellation: %d\n%s", code, out)
	}
	if code, _, errb := run("cases", "cancel", ann, "--who", "Dana"); code != 1 || !strings.Contains(errb, "409 Conflict: case is in_progress") {
		t.Errorf("cancelling a case in progress: exit %d, %q; want 1 naming the 409", code, errb)
	}
	if code, out, _ := run("help"); code != 0 || !strings.Contains(out, "cases retry ID [--connector C]") || !strings.Contains(out, "cases cancel ID --who NAME") {
		t.Errorf("help does not list retry and cancel:\n%s", out)
	}
}
