package worker

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/internal/testenv"
	"github.com/offboarder/offboarder/store"
)

// verifyAuditChain logs the verified head, and a head it verified before that no
// longer holds (a rewritten chain, which verifies on its own) or no longer
// exists is an error, every check, with the gauge at 0.
func TestVerifyAuditChainHoldsTheHeadItVerified(t *testing.T) {
	st, err := store.Open(t.Context(), "sqlite:"+t.TempDir()+"/o.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Ingest(t.Context(), store.Event{Source: "hr", EventID: "e1", Type: "employee.terminated", Email: "ann@example.com",
		Reason: "terminated", ReceivedAt: time.Now(), Actor: "source:hr"}); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	w := &Worker{opts: Options{Store: st}, log: zerolog.New(&log)}
	if !w.verifyAuditChain(t.Context()) || w.verified.Seq < 1 || !strings.Contains(log.String(), `"message":"audit head"`) {
		t.Fatalf("first check: verified %+v, log %s", w.verified, log.String())
	}
	good := w.verified

	for name, prev := range map[string]store.AuditHead{
		"its hash is not the one noted before: the chain up to it was rewritten": {Seq: good.Seq, Hash: strings.Repeat("f", 64)},
		"missing: noted before, but the chain ends at seq":                       {Seq: good.Seq + 100, Hash: good.Hash},
	} {
		t.Run(name, func(t *testing.T) {
			log.Reset()
			w.verified = prev
			if !w.verifyAuditChain(t.Context()) || !strings.Contains(log.String(), name) || !strings.Contains(log.String(), `"level":"error"`) {
				t.Fatalf("log: %s", log.String())
			}
			if w.verified != prev {
				t.Fatalf("a failed check moved the verified head to %+v", w.verified)
			}
		})
	}
}

// The audit chain is verified when Start returns, not at the first hourly
// check: offboarder_audit_head_seq and offboarder_audit_chain_verified hold
// the head at once.
func TestAuditHeadIsExportedWhenStartReturns(t *testing.T) {
	st, err := store.Open(t.Context(), "sqlite:"+t.TempDir()+"/o.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, id := range []string{"e1", "e2"} {
		if _, err := st.Ingest(t.Context(), store.Event{Source: "hr", EventID: id, Type: "employee.terminated", Email: id + "@example.com",
			Reason: "terminated", ReceivedAt: time.Now(), Actor: "source:hr"}); err != nil {
			t.Fatal(err)
		}
	}
	head, err := st.VerifyAuditAgainst(t.Context(), store.AuditHead{})
	if err != nil || head.Seq < 2 {
		t.Fatalf("head %+v, %v", head, err)
	}
	reg := prometheus.NewRegistry()
	w := New(Options{Redis: asynq.RedisClientOpt{Addr: testenv.StartRedis(t).Addr}, Store: st, Logger: zerolog.Nop(),
		Metrics: NewMetrics(reg), RelayInterval: time.Hour, AuditLogInterval: time.Hour})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Shutdown)
	if seq, ok := gauge(reg, "offboarder_audit_head_seq"), gauge(reg, "offboarder_audit_chain_verified"); seq != float64(head.Seq) || ok != 1 {
		t.Fatalf("right after Start: offboarder_audit_head_seq %v (want %d), offboarder_audit_chain_verified %v (want 1)", seq, head.Seq, ok)
	}
}

// gauge reads a gauge without labels from reg; -1 when it is not there.
func gauge(reg *prometheus.Registry, name string) float64 {
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}
