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

const cliAdminToken = "cli-admin-token-0123456789"

// attestServer serves the admin API over loopback on a fresh SQLite store
// holding one case for ann whose "lucid" step waits for a person, and
// points the CLI at it. It returns the case id and the store.
func attestServer(t *testing.T) (string, *store.Store) {
	t.Helper()
	st, err := store.Open(t.Context(), "sqlite:"+t.TempDir()+"/offboarder.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	redisOpt := asynq.RedisClientOpt{Addr: testenv.StartRedis(t).Addr, DialTimeout: 500 * time.Millisecond}
	client := asynq.NewClient(redisOpt)
	t.Cleanup(func() { client.Close() })
	h := webhook.New(webhook.Options{Store: st, Queue: client, Redis: redisOpt, Connectors: []string{"lucid"},
		AdminToken: cliAdminToken, Logger: zerolog.Nop()})
	t.Cleanup(func() { h.Close() })
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Setenv("OFFBOARDER_URL", srv.URL)
	t.Setenv("OFFBOARDER_ADMIN_TOKEN", cliAdminToken)

	res, err := st.Ingest(t.Context(), store.Event{Source: "hr", EventID: "e1", Email: "ann@example.com", Reason: offboard.ReasonTerminated})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.FanOut(t.Context(), res.CaseID, map[string]offboard.Outcome{"lucid": offboard.Pending}, "worker"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecordOutcome(t.Context(), res.CaseID, "lucid", offboard.ManualRequired, "Lucid admin panel → Users → Log out user"); err != nil {
		t.Fatal(err)
	}
	return res.CaseID, st
}

func TestAttestCommand(t *testing.T) {
	id, st := attestServer(t)
	run := func(args ...string) (int, string, string) {
		t.Helper()
		var out, errb bytes.Buffer
		code := runMain(t.Context(), args, &out, &errb)
		return code, out.String(), errb.String()
	}

	if code, out, _ := run("cases", "manual"); code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "Lucid admin panel → Users → Log out user") {
		t.Fatalf("cases manual: %d\n%s", code, out)
	}
	for _, args := range [][]string{
		{"attest", id, "lucid"},
		{"attest", id, "--who", "Dana"},
		{"attest", id, "lucid", "extra", "--who", "Dana"},
		{"attest", id, "lucid", "--who", " "},
	} {
		if code, _, errb := run(args...); code != 2 || !strings.HasPrefix(errb, "offboarder attest: usage: ") {
			t.Errorf("%q: exit %d, %q; want 2 and a usage message", args, code, errb)
		}
	}
	if code, _, errb := run("attest", "nope", "lucid", "--who", "Dana"); code != 1 || !strings.Contains(errb, "404 Not Found: no such case") {
		t.Errorf("an unknown case: exit %d, %q; want 1 naming 404", code, errb)
	}

	code, out, errb := run("attest", id, "lucid", "--who", "Dana Admin", "--note", "logged out in the admin panel")
	if code != 0 || out != "lucid on case "+id+": attested by Dana Admin; the case is completed\n" {
		t.Fatalf("attest: exit %d, %q, %q", code, out, errb)
	}
	c, err := st.GetCase(t.Context(), id)
	if err != nil || c.State != offboard.StateCompleted {
		t.Fatalf("case after attest: %v, %v", c, err)
	}
	if a := c.Audit[len(c.Audit)-2]; a.Action != "entry.attested" || !strings.Contains(a.Detail, `"note":"logged out in the admin panel"`) {
		t.Errorf("audit = %+v", a)
	}
	if code, _, errb := run("attest", "--who", "Dana", id, "lucid"); code != 1 || !strings.Contains(errb, "409 Conflict: entry is attested, not manual_required") {
		t.Errorf("attesting again: exit %d, %q; want 1 naming the 409", code, errb)
	}
	if code, out, _ := run("cases", "manual"); code != 0 || strings.Contains(out, id) {
		t.Errorf("cases manual after the attestation: %d\n%s", code, out)
	}
	if code, out, _ := run("help"); code != 0 || !strings.Contains(out, "attest    CASE CONNECTOR --who NAME") {
		t.Errorf("help does not list attest:\n%s", out)
	}
}

func TestCheckNamesAManualStepsAfter(t *testing.T) {
	p := writeConfig(t, `
sources:
  - name: hr
    type: generic
    secret: a-long-enough-webhook-secret-0123456789
connectors:
  - name: lucid-logout
    type: manual
    instructions: "Lucid admin panel → Users → select the user → Log out user"
    after: lucid
  - name: box
    type: manual
    instructions: "Box admin console → Users → Log out"
    after: box
`)
	var out, errb bytes.Buffer
	if code := runMain(t.Context(), []string{"check", "--config", p}, &out, &errb); code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, errb.String())
	}
	for _, want := range []string{
		`connectors[0] (lucid-logout).after: no connector is named "lucid"`,
		`connectors[1] (box).after: names this connector itself`,
	} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("check does not report %q:\n%s", want, errb.String())
		}
	}
}
