package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offboarder/offboarder/internal/testenv"
	"github.com/offboarder/offboarder/store"
)

// TestDatabaseOutageUnderLoad: eight senders keep delivering while
// PostgreSQL is cut off for two seconds and comes back. Deliveries during
// the outage are answered 503 and the senders retry them; afterwards every
// event is one case, accepted fresh at most once, every case completes
// with one recorded outcome and one successful vendor revocation — also
// the cases whose revokes were running when the database went away (the
// worker waits for the database to record what the vendor did rather than
// calling the vendor again) — and the audit chain is whole. offboarder is
// not restarted.
func TestDatabaseOutageUnderLoad(t *testing.T) {
	u, err := url.Parse(testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := testenv.StartProxy(t, u.Host)
	u.Host = proxy.Addr
	e := start(t, u.String(), envOptions{concurrency: 16})

	const senders, perSender = 8, 25
	for i := range senders * perSender {
		e.Sim.AddUser(fmt.Sprintf("load%d@example.com", i), 1)
	}
	var (
		unavailable atomic.Int64 // 503s and refused connections
		sent        atomic.Int64
		mu          sync.Mutex
		fresh       = map[string]int{} // event id -> fresh answers
		caseOf      = map[string]string{}
		wg          sync.WaitGroup
	)
	outage := make(chan struct{})
	for s := range senders {
		wg.Go(func() {
			for k := range perSender {
				i := s*perSender + k
				id := fmt.Sprintf("load-%d", i)
				b := body(id, fmt.Sprintf("load%d@example.com", i))
				for attempt := 0; ; attempt++ {
					if attempt == 200 {
						t.Errorf("%s never accepted", id)
						return
					}
					code, res := e.post("hr", b, "")
					if code == http.StatusAccepted {
						mu.Lock()
						if res["duplicate"] == false {
							fresh[id]++
						}
						if prev, ok := caseOf[id]; ok && prev != res["case_id"] {
							t.Errorf("%s: two cases %s and %v", id, prev, res["case_id"])
						}
						caseOf[id] = res["case_id"].(string)
						mu.Unlock()
						break
					}
					if code != http.StatusServiceUnavailable {
						t.Errorf("%s: %d %v", id, code, res)
						return
					}
					unavailable.Add(1)
					time.Sleep(50 * time.Millisecond) // a sender's backoff
				}
				if sent.Add(1) == senders*perSender/3 {
					close(outage) // a third of the events are in: cut the database off
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	<-outage
	proxy.Down()
	time.Sleep(2 * time.Second)
	if code, _ := e.admin(http.MethodGet, "/readyz", "", nil); code != http.StatusServiceUnavailable {
		t.Errorf("readyz during the outage: %d, want 503", code)
	}
	proxy.Up()
	wg.Wait()
	if t.Failed() {
		return
	}
	if unavailable.Load() == 0 {
		t.Fatal("no delivery met the outage: the test proved nothing")
	}
	// A commit whose answer the outage cut off is committed all the same:
	// the sender's retry is then a duplicate. So an event is accepted fresh
	// at most once, and every event is in the record exactly once.
	if len(caseOf) != senders*perSender {
		t.Fatalf("%d events accepted, want %d", len(caseOf), senders*perSender)
	}
	for id, n := range fresh {
		if n > 1 {
			t.Errorf("%s accepted fresh %d times", id, n)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for id, caseID := range caseOf {
		c := e.waitCase(caseID)
		for c.State != store.StateCompleted && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			c = e.waitCase(caseID)
		}
		if c.State != store.StateCompleted || len(c.Events) != 1 || len(c.Entries) != 1 {
			t.Errorf("%s: case %s, %d events, %d entries", id, c.State, len(c.Events), len(c.Entries))
		}
	}
	if all, err := e.Store.ListCases(t.Context(), store.CaseFilter{Limit: 1000}); err != nil || len(all) != senders*perSender {
		t.Errorf("%d cases (%v), want %d", len(all), err, senders*perSender)
	}
	revokes := map[string]int{}
	for _, c := range e.Sim.Calls() {
		if c.Vendor == "okta" && c.Method == http.MethodDelete && c.Status == http.StatusNoContent {
			revokes[c.User]++
		}
	}
	for i := range senders * perSender {
		if n := revokes[fmt.Sprintf("load%d@example.com", i)]; n != 1 {
			t.Errorf("load%d: %d successful revocations at the vendor, want 1", i, n)
		}
	}
	if code, _ := e.admin(http.MethodGet, "/readyz", "", nil); code != http.StatusOK {
		t.Errorf("readyz after the outage: %d, want 200", code)
	}
	if err := e.Store.VerifyAudit(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d deliveries met the outage and were retried", unavailable.Load())
}
