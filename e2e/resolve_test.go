package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/vendorapi"
)

// idSource is a sender whose events carry only an employee id, as BambooHR,
// HiBob and Entra do; its "API" is a map. It is signed like the generic
// source so the handler path is the real one.
type idSource struct {
	*sources.Generic
	directory map[string]sources.Resolution
	failures  atomic.Int32 // Resolve fails with a retryable error this many times first
	calls     atomic.Int32
}

func (s *idSource) Type() string { return "idtest" }

func (s *idSource) Parse(r *sources.Request) (sources.Delivery, error) {
	var b struct{ ID, Employee string }
	if err := json.Unmarshal(r.Body, &b); err != nil {
		return sources.Delivery{}, err
	}
	return sources.Delivery{Events: []sources.Event{{ID: b.ID, Type: "left", Reason: offboard.ReasonTerminated, IDs: map[string]string{"idtest": b.Employee}}}}, nil
}

func (s *idSource) Resolve(_ context.Context, ev sources.Event) (sources.Resolution, error) {
	s.calls.Add(1)
	if s.failures.Add(-1) >= 0 {
		return sources.Resolution{}, &vendorapi.Error{System: "idtest", Kind: vendorapi.Transient, Status: 503, Msg: "directory unavailable"}
	}
	r, ok := s.directory[ev.IDs["idtest"]]
	if !ok {
		return sources.Resolution{}, &vendorapi.Error{System: "idtest", Kind: vendorapi.Invalid, Status: 404, Msg: "no such employee"}
	}
	return r, nil
}

func newIDSource(t *testing.T) *idSource {
	g, err := sources.NewGeneric("people", hrSecret)
	if err != nil {
		t.Fatal(err)
	}
	return &idSource{Generic: g, directory: map[string]sources.Resolution{
		"100": {Offboard: true, Email: "Alice@Example.com"},
		"200": {Offboard: false, Ignored: "employee is still active"},
		"300": {Offboard: true, Email: "bob@example.com", EffectiveAt: time.Now().Add(72 * time.Hour)},
	}}
}

func TestIDOnlyEventsAreResolvedByTheWorker(t *testing.T) {
	dialects(t, func(t *testing.T, dbURL func(*testing.T) string) {
		src := newIDSource(t)
		src.failures.Store(1) // the first lookup meets a directory outage
		e := start(t, dbURL(t), envOptions{extra: []sources.Source{src}})

		post := func(id, employee string) string {
			t.Helper()
			code, res := e.post("people", []byte(`{"id":"`+id+`","employee":"`+employee+`"}`), "")
			if code != http.StatusAccepted {
				t.Fatalf("%d %v", code, res)
			}
			return res["case_id"].(string)
		}

		t.Run("a leaver is resolved to her email and her sessions are revoked", func(t *testing.T) {
			c := e.waitCase(post("p1", "100"))
			if c.State != offboard.StateCompleted || c.Email != "alice@example.com" || c.Entries[0].Outcome != "acknowledged" {
				t.Fatalf("case: %+v", c)
			}
			if n := e.Sim.Sessions("okta", "alice@example.com"); n != 0 {
				t.Fatalf("sessions left: %d", n)
			}
			if src.calls.Load() < 2 {
				t.Fatalf("the outage was not retried: %d lookups", src.calls.Load())
			}
		})
		t.Run("someone the sender says is not leaving is dismissed", func(t *testing.T) {
			c := e.waitClosed(post("p2", "200"))
			if c.State != offboard.StateDismissed || len(c.Entries) != 0 {
				t.Fatalf("case: %+v", c)
			}
		})
		t.Run("an unknown employee needs a person", func(t *testing.T) {
			c := e.waitClosed(post("p3", "999"))
			if c.State != offboard.StateNeedsAttention || len(c.Entries) != 0 {
				t.Fatalf("case: %+v", c)
			}
		})
		t.Run("a future leaving date schedules the case", func(t *testing.T) {
			id := post("p4", "300")
			deadline := time.Now().Add(20 * time.Second)
			for {
				c, err := e.Store.GetCase(t.Context(), id)
				if err == nil && c.State == offboard.StateScheduled && c.Email == "bob@example.com" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("case not scheduled: %+v %v", c, err)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if n := e.Sim.Sessions("okta", "bob@example.com"); n != 1 {
				t.Fatalf("bob's sessions were revoked before his date: %d left", n)
			}
		})
	})
}

// waitClosed polls until the case is in any closed state, or fails after 20s.
func (e *env) waitClosed(id string) *store.Case {
	e.t.Helper()
	return waitDone(e.t, e, id, 20*time.Second)
}
