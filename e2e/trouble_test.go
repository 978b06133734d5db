package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/simulator"
)

// TestVendorTroubleStillCompletesEveryCase: the vendor fails 30 % of calls
// and rate-limits; every case still completes, and the calls stay bounded
// (no retry storm): each case costs a few calls, not dozens.
func TestVendorTroubleStillCompletesEveryCase(t *testing.T) {
	e := start(t, "sqlite:"+t.TempDir()+"/o.db", envOptions{concurrency: 20})
	e.Sim.Tune(func(o *simulator.Options) { o.ErrorRate, o.RateLimit, o.Seed = 0.3, 20, 7 })
	const cases = 30
	ids := make([]string, cases)
	for i := range cases {
		email := fmt.Sprintf("trouble%d@example.com", i)
		e.Sim.AddUser(email, 1)
		code, res := e.post("hr", body(fmt.Sprintf("trouble-%d", i), email), "")
		if code != http.StatusAccepted {
			t.Fatalf("%d %v", code, res)
		}
		ids[i] = res["case_id"].(string)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for _, id := range ids {
		for {
			c, err := e.Store.GetCase(t.Context(), id)
			if err == nil && c.State == offboard.StateCompleted {
				if c.Entries[0].Outcome != "acknowledged" {
					t.Fatalf("entry: %+v", c.Entries[0])
				}
				break
			}
			if err == nil && c.State == offboard.StateNeedsAttention {
				t.Fatalf("a retryable outage failed a case: %+v", c.Entries)
			}
			if time.Now().After(deadline) {
				t.Fatalf("case %s not completed: %+v %v", id, c, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	var calls, revoked, failed, limited int
	for _, c := range e.Sim.Calls() {
		calls++
		switch {
		case c.Method == http.MethodDelete && strings.HasSuffix(c.Path, "/sessions") && c.Status == http.StatusNoContent:
			revoked++
		case c.Status == http.StatusTooManyRequests:
			limited++
		case c.Status >= 500:
			failed++
		}
	}
	if revoked != cases {
		t.Fatalf("want one successful revocation per case (%d), got %d", cases, revoked)
	}
	if failed == 0 {
		t.Fatal("the vendor never failed: the test proves nothing")
	}
	// A lookup and a revoke per attempt; 30 % failures make about 1.7
	// attempts a case. Ten calls a case on average would be a storm.
	if calls > 10*cases {
		t.Fatalf("retry storm: %d vendor calls for %d cases (%d failed, %d rate-limited)", calls, cases, failed, limited)
	}
	t.Logf("%d vendor calls for %d cases: %d failed, %d rate-limited", calls, cases, failed, limited)
}
