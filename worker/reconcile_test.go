package worker

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/internal/testenv"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/vendorapi"
)

// deltaSource is a source whose maintenance finds, as a delta query does,
// two users disabled (ids only, with Since), puts a cursor, and then fails
// as a subscription renewal might.
type deltaSource struct{ runs atomic.Int32 }

func (*deltaSource) Name() string                                         { return "idp" }
func (*deltaSource) Type() string                                         { return "entra" }
func (*deltaSource) Handshake(*sources.Request) (*sources.Response, bool) { return nil, false }
func (*deltaSource) Verify(*sources.Request) error                        { return sources.ErrUnauthorized }
func (*deltaSource) Parse(*sources.Request) (sources.Delivery, error)     { return sources.Delivery{}, nil }
func (*deltaSource) Interval() time.Duration                              { return time.Hour }

func (d *deltaSource) Maintain(ctx context.Context, st sources.State) ([]sources.Event, error) {
	d.runs.Add(1)
	if err := st.Put(ctx, "cursor", []byte("after-run")); err != nil {
		return nil, err
	}
	since := time.Now().Add(-time.Hour)
	return []sources.Event{
			{ID: "delta/r1/pushed", Type: "updated", IDs: map[string]string{"entra": "u-pushed"}, Reason: "deactivated", Since: since},
			{ID: "delta/r1/missed", Type: "updated", IDs: map[string]string{"entra": "u-missed"}, Reason: "deactivated", Since: since},
		}, &vendorapi.Error{System: "entra", Kind: vendorapi.Invalid,
			Msg: "POST /v1.0/subscriptions: refused"}
}

// Events found beside an error are taken in; one whose subject the source
// already pushed since Since is a duplicate; the cursor the run put is
// kept.
func TestMaintenanceDedupesBySubjectAndKeepsEventsBesideAnError(t *testing.T) {
	st, err := store.Open(t.Context(), "sqlite:"+t.TempDir()+"/o.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// The push of one of the two changes arrived a minute ago.
	pushed, err := st.Ingest(t.Context(), store.Event{Source: "idp", EventID: "sub/u-pushed/updated/7", Type: "updated",
		SubjectIDs: map[string]string{"entra": "u-pushed"}, Reason: "deactivated", ReceivedAt: time.Now().Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	opt := asynq.RedisClientOpt{Addr: testenv.StartRedis(t).Addr}
	src := &deltaSource{}
	w := New(Options{Redis: opt, Store: st, Sources: []sources.Source{src}, Logger: zerolog.Nop(), RelayInterval: 50 * time.Millisecond})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Shutdown)

	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, ok, _ := st.SourceState(t.Context(), "idp", "cursor"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run's cursor was not kept (maintenance ran %d times)", src.runs.Load())
		}
	}
	cases, err := st.ListCases(t.Context(), store.CaseFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 2 {
		t.Fatalf("%d cases, want the pushed one and the missed one: %+v", len(cases), cases)
	}
	for _, c := range cases {
		full, err := st.GetCase(t.Context(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case c.ID == pushed.CaseID && (len(full.Events) != 1 || full.Events[0].EventID != "sub/u-pushed/updated/7"):
			t.Fatalf("the pushed case took the found event: %+v", full.Events)
		case c.ID != pushed.CaseID && (len(full.Events) != 1 || full.Events[0].EventID != "delta/r1/missed"):
			t.Fatalf("the missed case: %+v", full.Events)
		}
	}
}
