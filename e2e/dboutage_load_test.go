package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/store"
)

// TestDatabaseOutageUnderLoad: eight senders keep delivering while
// PostgreSQL is cut off for two seconds and comes back, and revokes are at
// the vendor when it goes. Deliveries during the outage are answered 503
// and the senders retry them; afterwards every event is one case, accepted
// fresh at most once and answered as a duplicate of that case ever after,
// and every case completes with one recorded outcome and one vendor
// revocation — also the cases whose vendor call succeeded while the
// database was away (the worker waits for the database to record what the
// vendor did rather than calling the vendor again). readyz is 200 again
// and the audit chain is whole. offboarder is not restarted.
func TestDatabaseOutageUnderLoad(t *testing.T) {
	dbURL, proxy := proxiedPostgres(t)
	e := start(t, dbURL, envOptions{concurrency: 16})

	const senders, perSender, events = 8, 25, 8 * 25
	email := func(i int) string { return fmt.Sprintf("load%d@example.com", i) }
	for i := range events {
		e.Sim.AddUser(email(i), 1)
	}

	// What the senders saw, per event.
	type seen struct {
		i, fresh, unavailable int
		caseID                string
	}
	var (
		mu          sync.Mutex
		byEvent     = map[string]*seen{}
		unavailable atomic.Int64 // 503s and failed connections, all events
		accepted    atomic.Int64
		wg          sync.WaitGroup
	)
	outage := make(chan struct{})
	// The last third of each sender's events waits for the cut, so that
	// deliveries meet the outage however fast the rest went.
	cut := make(chan struct{})
	cutOnce := sync.OnceFunc(func() { close(cut) })
	defer cutOnce()
	for s := range senders {
		wg.Go(func() {
			for k := range perSender {
				if k == perSender*2/3 {
					<-cut
				}
				i := s*perSender + k
				id := fmt.Sprintf("load-%d", i)
				b := body(id, email(i))
				got := &seen{i: i}
				for attempt := 0; ; attempt++ {
					if attempt == 300 {
						t.Errorf("%s never accepted", id)
						return
					}
					code, res, err := deliver(t, e.URL, b)
					if err == nil && code == http.StatusAccepted {
						if res["duplicate"] == false {
							got.fresh++
						}
						got.caseID, _ = res["case_id"].(string)
						break
					}
					if err == nil && code != http.StatusServiceUnavailable {
						t.Errorf("%s: %d %v", id, code, res)
						return
					}
					// 503 or no connection: the same event again, re-signed,
					// after a sender's backoff.
					got.unavailable++
					unavailable.Add(1)
					time.Sleep(50 * time.Millisecond)
				}
				mu.Lock()
				byEvent[id] = got
				mu.Unlock()
				if accepted.Add(1) == events/3 {
					close(outage) // a third of the events are in: cut the database off
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}

	<-outage
	// Hold the vendor until revokes are waiting at it, cut the database off,
	// then let the vendor answer: those revokes succeed while the database
	// is away and their outcome must still be recorded once, without a
	// second call to the vendor.
	release := e.Sim.Hold("okta")
	deadline := time.Now().Add(10 * time.Second)
	for !heldRevoke(e) {
		if time.Now().After(deadline) {
			release()
			t.Fatal("no revoke reached the vendor under load")
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // let more of them arrive
	proxy.Down()
	cutOnce()
	inFlight := map[string]bool{}
	for _, c := range e.Sim.Calls() {
		if c.Method == http.MethodDelete && c.Status == 0 {
			inFlight[c.User] = true
		}
	}
	release()
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
	if len(byEvent) != events {
		t.Fatalf("%d events accepted, want %d", len(byEvent), events)
	}
	// A commit whose answer the outage cut off is committed all the same,
	// and the sender's retry is then a duplicate: an event is accepted fresh
	// at most once, and never without a failed delivery before.
	for id, s := range byEvent {
		if s.fresh > 1 || s.fresh == 0 && s.unavailable == 0 {
			t.Errorf("%s: accepted fresh %d times after %d failed deliveries", id, s.fresh, s.unavailable)
		}
	}
	// Any later delivery of an event is a duplicate naming its one case.
	for id, s := range byEvent {
		code, res := e.post("hr", body(id, email(s.i)), "")
		if code != http.StatusAccepted || res["duplicate"] != true || res["case_id"] != s.caseID {
			t.Errorf("%s delivered again: %d %v, want a duplicate of %s", id, code, res, s.caseID)
		}
	}

	for id, s := range byEvent {
		c := e.waitCase(s.caseID)
		outcomes := 0
		for _, a := range c.Audit {
			if a.Action == "entry.outcome" {
				outcomes++
			}
		}
		if c.State != offboard.StateCompleted || len(c.Events) != 1 || len(c.Entries) != 1 || outcomes != 1 {
			t.Errorf("%s (in flight at the outage: %v): case %s, %d events, %d entries, %d recorded outcomes",
				id, inFlight[c.Email], c.State, len(c.Events), len(c.Entries), outcomes)
		}
	}
	// Every case is closed: the vendor's record is complete.
	revokes := map[string][]int{} // email -> statuses of its vendor revocations
	for _, c := range e.Sim.Calls() {
		if c.Vendor == "okta" && c.Method == http.MethodDelete && strings.HasSuffix(c.Path, "/sessions") {
			revokes[c.User] = append(revokes[c.User], c.Status)
		}
	}
	for i := range events {
		if r := revokes[email(i)]; len(r) != 1 || r[0] != http.StatusNoContent {
			t.Errorf("%s (in flight at the outage: %v): vendor revocations %v, want one 204",
				email(i), inFlight[email(i)], r)
		}
	}
	if all, err := e.Store.ListCases(t.Context(), store.CaseFilter{Limit: 2 * events}); err != nil || len(all) != events {
		t.Errorf("%d cases (%v), want %d", len(all), err, events)
	}
	if code, _ := e.admin(http.MethodGet, "/readyz", "", nil); code != http.StatusOK {
		t.Errorf("readyz after the outage: %d, want 200", code)
	}
	if _, err := e.Store.VerifyAudit(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d deliveries met the outage and were retried; %d revokes were at the vendor when it began",
		unavailable.Load(), len(inFlight))
}

// deliver posts a generic event signed now, as a sender does: a failed
// connection is an error to retry, not a test failure.
func deliver(t *testing.T, base string, b []byte) (int, map[string]any, error) {
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/webhooks/hr", bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(sources.SignatureHeader, sources.SignatureValue(time.Now(), b, []byte(hrSecret)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out, nil
}
