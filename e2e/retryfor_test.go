package e2e

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
)

// outage answers every okta call 503 with "Retry-After: 1" (as Graph and
// Okta do when they are down) while it is on, in Okta's error shape
// (https://developer.okta.com/docs/reference/error-codes/), and passes
// calls to the simulator otherwise. It notes when each 503 was answered.
type outage struct {
	on    atomic.Bool
	mu    sync.Mutex
	at    []time.Time
	inner http.Handler
}

func (o *outage) wrap(h http.Handler) http.Handler {
	o.inner = h
	return o
}

func (o *outage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !o.on.Load() || !strings.HasPrefix(r.URL.Path, "/okta/") {
		o.inner.ServeHTTP(w, r)
		return
	}
	o.mu.Lock()
	o.at = append(o.at, time.Now())
	o.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Retry-After", "1")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(`{"errorCode":"E0000009","errorSummary":"Internal Server Error","errorLink":"E0000009","errorId":"oae1","errorCauses":[]}`))
}

func (o *outage) answered() []time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]time.Time(nil), o.at...)
}

// TestARetryAfterOutageIsRetriedForTheWindowNotACount: okta answers 503
// with "Retry-After: 1" for more than 22 calls, more than the twenty quick
// retries that once failed the entry ("Retry exhausted" after 21 attempts
// in 20 s). With retry_for 2m (and the backoff capped at 1 s for the test),
// the entry stays pending, the case API shows its next attempt, no two
// calls come closer than the vendor's Retry-After, and the entry completes
// once the vendor recovers.
func TestARetryAfterOutageIsRetriedForTheWindowNotACount(t *testing.T) {
	o := &outage{}
	o.on.Store(true)
	e := start(t, "sqlite:"+t.TempDir()+"/o.db", envOptions{oktaRetryFor: "2m", maxBackoff: time.Second, wrapSim: o.wrap})
	code, res := e.post("hr", body("evt-ra", "alice@example.com"), "")
	if code != http.StatusAccepted {
		t.Fatalf("%d %v", code, res)
	}
	id := res["case_id"].(string)

	// The outage lasts until more calls were answered 503 than the old
	// count allowed attempts (about 45 s here), within the window.
	sawNext := false
	until := time.Now().Add(100 * time.Second)
	for len(o.answered()) <= 22 {
		if time.Now().After(until) {
			t.Fatalf("only %d calls in 100 s of outage", len(o.answered()))
		}
		code, c := e.admin(http.MethodGet, "/v1/cases/"+id, adminToken, nil)
		if code != http.StatusOK {
			t.Fatalf("GET case: %d %v", code, c)
		}
		entries, _ := c["entries"].([]any)
		if len(entries) == 1 {
			en := entries[0].(map[string]any)
			if en["outcome"] != string(offboard.Pending) {
				t.Fatalf("during the outage the entry is %v (last error %v), want pending", en["outcome"], en["last_error"])
			}
			if s, ok := en["next_attempt_at"].(string); ok {
				next, err := time.Parse(time.RFC3339Nano, s)
				if err != nil || next.Before(time.Now().Add(-5*time.Second)) {
					t.Fatalf("next_attempt_at %q (%v)", s, err)
				}
				sawNext = true
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	o.on.Store(false)
	c := e.waitCase(id)
	if c.State != offboard.StateCompleted || c.Entries[0].Outcome == offboard.Failed {
		t.Fatalf("after the outage: case %s, entry %+v", c.State, c.Entries[0])
	}
	if c.Entries[0].NextAttemptAt != nil {
		t.Errorf("a final entry still shows a next attempt: %v", c.Entries[0].NextAttemptAt)
	}
	if !sawNext {
		t.Error("the case API never showed the entry's next attempt")
	}
	at := o.answered()
	for i := 1; i < len(at); i++ {
		if gap := at[i].Sub(at[i-1]); gap < time.Second {
			t.Errorf("calls %d and %d came %s apart, closer than the vendor's Retry-After of 1s", i-1, i, gap)
		}
	}
	if n := e.Sim.Sessions("okta", "alice@example.com"); n != 0 {
		t.Fatalf("sessions left: %d", n)
	}
	t.Logf("%d calls answered 503 over the outage; %d attempts", len(at), c.Entries[0].Attempts)
}

// TestAnOutageLongerThanTheWindowFailsTheEntry: with retry_for 4s and the
// vendor down for good, the entry is failed once the window is spent, and
// its error says so.
func TestAnOutageLongerThanTheWindowFailsTheEntry(t *testing.T) {
	o := &outage{}
	o.on.Store(true)
	e := start(t, "sqlite:"+t.TempDir()+"/o.db", envOptions{oktaRetryFor: "4s", maxBackoff: time.Second, wrapSim: o.wrap})
	began := time.Now()
	code, res := e.post("hr", body("evt-spent", "alice@example.com"), "")
	if code != http.StatusAccepted {
		t.Fatalf("%d %v", code, res)
	}
	c := e.waitCase(res["case_id"].(string))
	en := c.Entries[0]
	if c.State != offboard.StateNeedsAttention || en.Outcome != offboard.Failed ||
		!strings.Contains(en.LastError, "retry window of 4s (retry_for) spent") || !strings.Contains(en.LastError, "503") {
		t.Fatalf("case %s, entry %+v; want failed, saying the retry window was spent", c.State, en)
	}
	if took := time.Since(began); took < 4*time.Second {
		t.Errorf("failed after %s, before the 4s window was spent", took)
	}
	if en.Attempts < 3 {
		t.Errorf("%d attempts: the window was not retried", en.Attempts)
	}
}
