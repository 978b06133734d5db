package intake_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/offboarder/offboarder/intake"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/store"
)

// heard is a Notifier that keeps what it hears.
type heard struct {
	mu   sync.Mutex
	held []intake.Held
}

func (h *heard) AwaitingApproval(_ context.Context, c intake.Held) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.held = append(h.held, c)
}

func TestPolicy(t *testing.T) {
	e := start(t)
	e.st.SetGuard(&store.Guard{Cases: 1, Within: time.Minute, Bypass: []offboard.Reason{offboard.ReasonSecurity}})
	n := &heard{}
	reg := prometheus.NewRegistry()
	m := intake.NewMetrics(reg)
	e.in.WithPolicy(intake.Policy{Protected: map[string]bool{"root@example.com": true}, Notifier: n, Metrics: m})
	take := func(id, email string, r offboard.Reason) intake.Result {
		t.Helper()
		res, err := e.in.Take(t.Context(), intake.Origin{Source: "hr", Actor: "source:hr"},
			sources.Event{ID: id, Type: "terminated", Email: email, Reason: r})
		if err != nil {
			t.Fatalf("Take(%s): %v", id, err)
		}
		return res
	}

	t.Run("a protected account's event is recorded, dismissed and not enqueued", func(t *testing.T) {
		for range 2 { // a redelivery answers the same
			res := take("p1", "root@example.com", offboard.ReasonTerminated)
			if !res.Protected || res.State != offboard.StateDismissed || res.Enqueued || e.offboardTask(t, res) {
				t.Fatalf("result = %+v, want protected, dismissed, no task", res)
			}
		}
	})
	var first, second intake.Result
	t.Run("a case the guard holds gets no task, and operators hear of it", func(t *testing.T) {
		// The protected case above counts: one case in the window already.
		first = take("e1", "ann@example.com", offboard.ReasonTerminated)
		second = take("e2", "bob@example.com", offboard.ReasonTerminated)
		for _, res := range []intake.Result{first, second} {
			if res.State != offboard.StateAwaitingApproval || res.Enqueued || e.offboardTask(t, res) {
				t.Fatalf("result = %+v, want held without a task", res)
			}
		}
		if len(n.held) != 2 || n.held[0] != (intake.Held{CaseID: first.CaseID, Email: "ann@example.com", Reason: "terminated", Source: "hr", EventID: "e1"}) {
			t.Errorf("notifier heard %+v", n.held)
		}
		rec := httptest.NewRecorder()
		promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if want := `offboarder_cases_held_total{reason="terminated"} 2`; !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %s:\n%s", want, rec.Body)
		}
		if again := take("e1", "ann@example.com", offboard.ReasonTerminated); !again.Duplicate || len(n.held) != 2 || e.offboardTask(t, again) {
			t.Errorf("a redelivery = %+v, heard %d: want a duplicate, no task, nobody told again", again, len(n.held))
		}
	})
	t.Run("a security case is not held", func(t *testing.T) {
		if res := take("s1", "eve@example.com", offboard.ReasonSecurity); res.State != offboard.StatePending || !e.offboardTask(t, res) {
			t.Errorf("result = %+v, want pending with its task", res)
		}
	})
	t.Run("approving releases the cases and enqueues their tasks", func(t *testing.T) {
		res, err := e.in.Approve(t.Context(), store.Approval{CaseIDs: []string{first.CaseID}, Who: "jo"})
		if err != nil || len(res.Released) != 1 {
			t.Fatalf("Approve = %+v, %v", res, err)
		}
		first.EffectiveAt = res.Released[0].EffectiveAt
		if !e.offboardTask(t, first) {
			t.Error("no offboard task for the released case")
		}
		if e.offboardTask(t, second) {
			t.Error("a case not approved has a task")
		}
	})
}
