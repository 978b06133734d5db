package main

import (
	"bytes"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/config"
	"github.com/offboarder/offboarder/internal/testenv"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/webhook"
)

func TestApproveCommand(t *testing.T) {
	st, err := store.Open(t.Context(), "sqlite:"+t.TempDir()+"/offboarder.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	st.SetGuard(&store.Guard{Cases: 0, Within: time.Minute})
	redisOpt := asynq.RedisClientOpt{Addr: testenv.StartRedis(t).Addr, DialTimeout: 500 * time.Millisecond}
	client := asynq.NewClient(redisOpt)
	t.Cleanup(func() { client.Close() })
	h := webhook.New(webhook.Options{Store: st, Queue: client, Redis: redisOpt, Connectors: []string{"okta"},
		AdminToken: cliAdminToken, Logger: zerolog.Nop()})
	t.Cleanup(func() { h.Close() })
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Setenv("OFFBOARDER_URL", srv.URL)
	t.Setenv("OFFBOARDER_ADMIN_TOKEN", cliAdminToken)
	var ids []string
	for _, email := range []string{"ann@example.com", "bob@example.com", "cy@example.com"} {
		res, err := st.Ingest(t.Context(), store.Event{Source: "hr", EventID: email, Email: email, Reason: offboard.ReasonTerminated})
		if err != nil || res.State != offboard.StateAwaitingApproval {
			t.Fatalf("ingest %s: %+v %v", email, res, err)
		}
		ids = append(ids, res.CaseID)
	}
	run := func(args ...string) (int, string, string) {
		t.Helper()
		var out, errb bytes.Buffer
		code := runMain(t.Context(), args, &out, &errb)
		return code, out.String(), errb.String()
	}

	if code, out, _ := run("approve"); code != 0 || strings.Index(out, ids[0]) > strings.Index(out, ids[2]) || !strings.Contains(out, "bob@example.com") {
		t.Fatalf("approve (list): %d\n%s", code, out)
	}
	for _, args := range [][]string{
		{"approve", "--all"},
		{"approve", ids[0], "--who", " "},
		{"approve", "--all", ids[0], "--who", "Jo"},
	} {
		if code, _, errb := run(args...); code != 2 || !strings.HasPrefix(errb, "offboarder approve: usage: ") {
			t.Errorf("%q: exit %d, %q; want 2 and a usage message", args, code, errb)
		}
	}
	code, out, errb := run("approve", ids[0], "nope", "--who", "Jo Admin", "--note", "HR confirmed")
	if code != 0 || out != "released "+ids[0]+": pending\nnot found nope\n" {
		t.Fatalf("approve by id: exit %d, %q, %q", code, out, errb)
	}
	code, out, errb = run("approve", "--all", "--who", "Jo Admin")
	if code != 0 || out != "released "+ids[1]+": pending\nreleased "+ids[2]+": pending\n" {
		t.Fatalf("approve --all: exit %d, %q, %q", code, out, errb)
	}
	if c, _ := st.GetCase(t.Context(), ids[2]); c.State != offboard.StatePending || c.Audit[len(c.Audit)-1].Actor != "Jo Admin" {
		t.Errorf("case after approval: %+v", c)
	}
	if code, out, _ := run("help"); code != 0 || !strings.Contains(out, "approve   --all|CASE… --who NAME") {
		t.Errorf("help does not list approve:\n%s", out)
	}
}

func TestConfigReasonWordsAreOffboards(t *testing.T) {
	for _, w := range config.ReasonWords {
		if !offboard.Reason(w).Valid() {
			t.Errorf("config knows reason %q, offboard does not", w)
		}
	}
	for _, r := range []offboard.Reason{offboard.ReasonTerminated, offboard.ReasonSuspended, offboard.ReasonDeactivated, offboard.ReasonSecurity, offboard.ReasonManual} {
		if !slices.Contains(config.ReasonWords, string(r)) {
			t.Errorf("offboard knows reason %q, config does not", r)
		}
	}
}

func TestCheckNormalisesProtectedAccounts(t *testing.T) {
	p := writeConfig(t, `
sources:
  - name: hr
    type: generic
    secret: a-long-enough-webhook-secret-0123456789
connectors:
  - name: okta
    type: okta
    base_url: https://example.okta.com
    token: an-okta-token
policy:
  protected:
    - "root@exa mple.com"
`)
	var out, errb bytes.Buffer
	if code := runMain(t.Context(), []string{"check", "--config", p}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "policy.protected[0]: ") {
		t.Fatalf("exit %d, want 1 naming policy.protected[0]\n%s", code, errb.String())
	}
}
