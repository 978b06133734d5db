package ratelimit

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/offboarder/offboarder/internal/testenv"
	"github.com/offboarder/offboarder/vendorapi"
)

// client is one process's connection to a Redis at addr.
func client(t *testing.T, addr string) redis.UniversalClient {
	t.Helper()
	rc := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = rc.Close() })
	return rc
}

// counter is a vendor that keeps the time of every call it answers.
type counter struct {
	mu    sync.Mutex
	times []time.Time
}

func (c *counter) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	c.mu.Lock()
	c.times = append(c.times, time.Now())
	c.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// busiest is the most calls the vendor saw in any window of length per
// (each window starting at a call).
func (c *counter) busiest(per time.Duration) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	ts := slices.Clone(c.times)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	most, j := 0, 0
	for i := range ts {
		for j < len(ts) && ts[j].Sub(ts[i]) < per {
			j++
		}
		most = max(most, j-i)
	}
	return most
}

// hammer has three processes (three Redis clients, three limiters, three
// HTTP clients) call srv as fast as they may for run, eight goroutines
// each; redisAddrs[i] is process i's Redis.
func hammer(t *testing.T, srv *httptest.Server, l Limit, redisAddrs [3]string, run time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), run)
	defer cancel()
	var wg sync.WaitGroup
	for p := range 3 {
		hc := New("okta", l, Options{Redis: client(t, redisAddrs[p]), Reserve: time.Millisecond}).Client(srv.Client())
		for range 8 {
			wg.Go(func() {
				for ctx.Err() == nil {
					req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
					if resp, err := hc.Do(req); err == nil {
						resp.Body.Close()
					}
				}
			})
		}
	}
	wg.Wait()
}

func TestThreeProcessesTogetherStayUnderOneLimit(t *testing.T) {
	l := Limit{Requests: 20, Per: time.Second}
	r := testenv.StartRedis(t)
	vendor := &counter{}
	srv := httptest.NewServer(vendor)
	defer srv.Close()

	hammer(t, srv, l, [3]string{r.Addr, r.Addr, r.Addr}, 2500*time.Millisecond)

	t.Logf("vendor: %d calls in 2.5 s, at most %d in any %s", len(vendor.times), vendor.busiest(l.Per), l.Per)
	if got := vendor.busiest(l.Per); got > l.Requests+1 {
		t.Errorf("the vendor saw %d calls in one %s, want at most %d (+1 for arrival jitter)", got, l.Per, l.Requests)
	}
	if n := len(vendor.times); n < 2*l.Requests {
		t.Errorf("the vendor saw %d calls in 2.5 s, want at least %d: the limit should let its rate through", n, 2*l.Requests)
	}
}

// A limit each process kept for itself (here: each on its own Redis)
// triples what the vendor sees; the check above catches it.
func TestLimitsKeptPerProcessWouldTripleTheCalls(t *testing.T) {
	l := Limit{Requests: 20, Per: time.Second}
	a, b, c := testenv.StartRedis(t), testenv.StartRedis(t), testenv.StartRedis(t)
	vendor := &counter{}
	srv := httptest.NewServer(vendor)
	defer srv.Close()

	hammer(t, srv, l, [3]string{a.Addr, b.Addr, c.Addr}, 1500*time.Millisecond)

	t.Logf("vendor: at most %d calls in any %s", vendor.busiest(l.Per), l.Per)
	if got := vendor.busiest(l.Per); got <= l.Requests+1 {
		t.Errorf("per-process limits let the vendor see only %d calls in one %s; the shared-limit test could not tell them apart", got, l.Per)
	}
}

func TestAPriorityCallerGoesBeforeTheNormalOnesInLine(t *testing.T) {
	r := testenv.StartRedis(t)
	// One call per 200 ms, no burst: every caller after the first waits.
	lim := New("okta", Limit{Requests: 5, Per: time.Second}, Options{Redis: client(t, r.Addr)})
	ctx := t.Context()
	if err := lim.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	order := make(chan string, 4)
	var wg sync.WaitGroup
	for _, name := range []string{"normal-1", "normal-2", "normal-3"} {
		wg.Go(func() {
			if err := lim.Wait(ctx); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			order <- name
		})
	}
	for lim.waiting.Load() < 3 { // all three in line (one of them asking Redis)
		time.Sleep(time.Millisecond)
	}
	wg.Go(func() {
		if err := lim.Wait(WithPriority(ctx)); err != nil {
			t.Errorf("priority: %v", err)
		}
		order <- "priority"
	})
	wg.Wait()
	close(order)
	var got []string
	for name := range order {
		got = append(got, name)
	}
	if len(got) != 4 || got[0] != "priority" {
		t.Errorf("served in the order %v, want the priority caller first", got)
	}
}

func TestATurnBeyondTheDeadlineIsGivenBackAtOnce(t *testing.T) {
	r := testenv.StartRedis(t)
	// One call per 30 s: the second caller's turn is far beyond its deadline.
	lim := New("okta", Limit{Requests: 2, Per: time.Minute}, Options{Redis: client(t, r.Addr), Reserve: time.Second})
	if err := lim.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	start := time.Now()
	err := lim.Wait(ctx)
	te, ok := vendorapi.Turn(err)
	if !ok {
		t.Fatalf("Wait = %v, want a *vendorapi.TurnError", err)
	}
	if te.After < 20*time.Second || te.System != "okta" {
		t.Errorf("TurnError = %+v, want the okta turn about 30 s away", te)
	}
	if ctx.Err() != nil || time.Since(start) > 4*time.Second {
		t.Error("the caller waited out its deadline for a turn that could not come in it")
	}
}

func TestAShortDeadlineStillWaitsForANearTurn(t *testing.T) {
	r := testenv.StartRedis(t)
	// One call a second; the caller has 3 s in all (a read-back's own
	// deadline), less than the default Reserve: half of it is its to wait.
	lim := New("entra", Limit{Requests: 2, Per: 2 * time.Second}, Options{Redis: client(t, r.Addr)})
	if err := lim.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	if err := lim.Wait(ctx); err != nil {
		t.Errorf("Wait = %v, want the turn about a second away, inside half the deadline", err)
	}
}

func TestACallerBeyondAFullLineIsGivenBack(t *testing.T) {
	r := testenv.StartRedis(t)
	lim := New("okta", Limit{Requests: 2, Per: time.Minute}, Options{Redis: client(t, r.Addr), MaxWaiters: 1})
	if err := lim.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- lim.Wait(ctx) }() // waits 30 s for its turn, in line
	for lim.waiting.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	if _, ok := vendorapi.Turn(lim.Wait(t.Context())); !ok {
		t.Error("a caller beyond a full line waited, want a TurnError at once")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("the waiting caller, cancelled: %v", err)
	}
}

func TestACallerUnderWayIsNotTurnedAwayForAFullLine(t *testing.T) {
	r := testenv.StartRedis(t)
	// One call every 100 ms; a line of one.
	lim := New("okta", Limit{Requests: 10, Per: time.Second}, Options{Redis: client(t, r.Addr), MaxWaiters: 1})
	revoke := WithCaller(t.Context())
	if err := lim.Wait(revoke); err != nil { // its first call: a turn
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() { _ = lim.Wait(ctx) }() // another caller fills the line
	for lim.waiting.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	if _, ok := vendorapi.Turn(lim.Wait(WithCaller(t.Context()))); !ok {
		t.Error("a caller that has not started, beyond a full line: want a TurnError at once")
	}
	if err := lim.Wait(revoke); err != nil {
		t.Errorf("the revoke's second call, beyond a full line: %v, want its turn", err)
	}
}

func TestARequestWithoutATurnIsNotSent(t *testing.T) {
	r := testenv.StartRedis(t)
	vendor := &counter{}
	srv := httptest.NewServer(vendor)
	defer srv.Close()
	hc := New("okta", Limit{Requests: 1, Per: time.Hour}, Options{Redis: client(t, r.Addr)}).Client(srv.Client())
	for i := range 2 {
		ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		resp, err := hc.Do(req)
		cancel()
		if i == 0 {
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			continue
		}
		if _, ok := vendorapi.Turn(err); !ok {
			t.Errorf("second request: %v, want a TurnError", err)
		}
	}
	if len(vendor.times) != 1 {
		t.Errorf("the vendor saw %d calls, want 1", len(vendor.times))
	}
}

func TestAFreeTurnIsTakenHoweverLittleTimeIsLeft(t *testing.T) {
	r := testenv.StartRedis(t)
	lim := New("okta", Limit{Requests: 2, Per: time.Minute}, Options{Redis: client(t, r.Addr)})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second) // less than the 10 s reserve
	defer cancel()
	if err := lim.Wait(ctx); err != nil {
		t.Errorf("Wait with a free turn and 2 s left: %v, want nil", err)
	}
}
