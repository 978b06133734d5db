package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offboarder/offboarder/simulator/fake/faketest"
	"github.com/offboarder/offboarder/simulator/okta"
)

const (
	oktaAuth = "SSWS " + okta.DefaultToken
	// statusClientGone is what the record shows for a call whose caller
	// went away unanswered; nginx's 499.
	statusClientGone = 499
)

// fixture is a Simulator served over real HTTP.
type fixture struct {
	sim *Simulator
	srv *httptest.Server
}

func start(t *testing.T, o Options) *fixture {
	t.Helper()
	sim := New(o)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return &fixture{sim: sim, srv: srv}
}

// send makes one request; auth "" sends no Authorization header.
func (f *fixture) send(ctx context.Context, method, path, auth, body string) (*http.Response, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, f.srv.URL+path, rd)
	if err != nil {
		return nil, nil, err
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func (f *fixture) do(t *testing.T, method, path, auth, body string) (*http.Response, []byte) {
	t.Helper()
	resp, b, err := f.send(t.Context(), method, path, auth, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp, b
}

// control calls the control API and decodes a JSON answer into out (if not nil).
func (f *fixture) control(t *testing.T, method, path, body string, wantStatus int, out any) {
	t.Helper()
	resp, b := f.do(t, method, path, "", body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s %s = %d %s, want %d", method, path, resp.StatusCode, b, wantStatus)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s Content-Type = %q", method, path, ct)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
}

func TestControlAPIRoundTrips(t *testing.T) {
	t.Run("a posted user shows in the users list with sessions per vendor", func(t *testing.T) {
		f := start(t, Options{})
		var created struct {
			Email    string         `json:"email"`
			Sessions map[string]int `json:"sessions"`
		}
		f.control(t, "POST", "/_sim/users", `{"email":"Dana@Example.com","sessions":3}`, http.StatusCreated, &created)
		if created.Email != "dana@example.com" || created.Sessions["okta"] != 3 {
			t.Errorf("created = %+v", created)
		}
		var users map[string]map[string]int
		f.control(t, "GET", "/_sim/users", "", http.StatusOK, &users)
		if users["dana@example.com"]["okta"] != 3 || len(users) != 1 {
			t.Errorf("users = %v", users)
		}
	})
	t.Run("options put are the options got, the token never shown", func(t *testing.T) {
		f := start(t, Options{OktaToken: "secret"})
		f.control(t, "PUT", "/_sim/options", `{"latency":"5ms","error_rate":0.25,"rate_limit":7,"seed":42}`, http.StatusOK, nil)
		var got map[string]any
		f.control(t, "GET", "/_sim/options", "", http.StatusOK, &got)
		want := map[string]any{"latency": "5ms", "error_rate": 0.25, "rate_limit": 7.0, "seed": 42.0}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %v, want %v", k, got[k], v)
			}
		}
		if len(got) != len(want) {
			t.Errorf("options show more than the knobs: %v", got)
		}
		if o := f.sim.options(); o.OktaToken != "secret" || o.Latency != 5*time.Millisecond {
			t.Errorf("options = %+v", o)
		}
	})
	t.Run("a partial options put keeps the other knobs", func(t *testing.T) {
		f := start(t, Options{Latency: time.Millisecond, RateLimit: 9})
		f.control(t, "PUT", "/_sim/options", `{"error_rate":0.5}`, http.StatusOK, nil)
		if o := f.sim.options(); o.Latency != time.Millisecond || o.RateLimit != 9 || o.ErrorRate != 0.5 {
			t.Errorf("options = %+v", o)
		}
	})
	t.Run("the calls read over HTTP are the record, and deleting them empties it", func(t *testing.T) {
		f := start(t, Options{})
		f.do(t, "GET", "/okta/api/v1/users?limit=1", "", "")
		var calls []Call
		f.control(t, "GET", "/_sim/calls", "", http.StatusOK, &calls)
		if len(calls) != 1 || calls[0].Status != http.StatusUnauthorized || calls[0].Path != "/api/v1/users" || calls[0].Query != "limit=1" {
			t.Errorf("calls = %+v", calls)
		}
		f.control(t, "DELETE", "/_sim/calls", "", http.StatusNoContent, nil)
		if n := len(f.sim.Calls()); n != 0 {
			t.Errorf("%d calls left", n)
		}
	})
	t.Run("a hold posted over HTTP blocks revokes until it is deleted", func(t *testing.T) {
		f := start(t, Options{})
		f.sim.AddUser("alice@example.com", 2)
		f.control(t, "POST", "/_sim/hold/okta", "", http.StatusOK, nil)
		t.Cleanup(func() { f.sim.Hold("okta")() }) // ends whatever hold is left
		done := make(chan int, 1)
		go func() {
			resp, _, err := f.send(context.Background(), "DELETE", "/okta/api/v1/users/"+okta.UserID("alice@example.com")+"/sessions", oktaAuth, "")
			if err != nil {
				done <- 0
				return
			}
			done <- resp.StatusCode
		}()
		faketest.Eventually(t, "the revoke is held", func() bool { return f.sim.srv.Blocked("okta") == 1 })
		if calls := f.sim.Calls(); len(calls) != 1 || calls[0].Status != 0 || calls[0].User != "alice@example.com" {
			t.Errorf("a held call should be on record as in flight: %+v", calls)
		}
		f.control(t, "DELETE", "/_sim/hold/okta", "", http.StatusOK, nil)
		if got := <-done; got != http.StatusNoContent {
			t.Errorf("revoke = %d, want 204", got)
		}
		if n := f.sim.Sessions("okta", "alice@example.com"); n != 0 {
			t.Errorf("sessions = %d after release", n)
		}
	})
}

func TestControlAPIRejectsBadInput(t *testing.T) {
	tests := []struct {
		name, method, path, body, want string
	}{
		{"a user without a body", "POST", "/_sim/users", "", "JSON object is required"},
		{"a user that is not JSON", "POST", "/_sim/users", `{email:`, "body:"},
		{"a user with an unknown field", "POST", "/_sim/users", `{"email":"a@b.c","sessions":1,"admin":true}`, `unknown field "admin"`},
		{"a user with trailing data", "POST", "/_sim/users", `{"email":"a@b.c","sessions":1} {}`, "unexpected data"},
		{"a user without an email", "POST", "/_sim/users", `{"sessions":1}`, "email is required"},
		{"a user whose email is no address", "POST", "/_sim/users", `{"email":"alice","sessions":1}`, `email "alice"`},
		{"a user with a display name", "POST", "/_sim/users", `{"email":"Alice <a@b.c>","sessions":1}`, "bare address"},
		{"a user without sessions", "POST", "/_sim/users", `{"email":"a@b.c"}`, "sessions is required"},
		{"a user with negative sessions", "POST", "/_sim/users", `{"email":"a@b.c","sessions":-1}`, "sessions must not be negative"},
		{"options with a bad latency", "PUT", "/_sim/options", `{"latency":"soon"}`, `latency "soon"`},
		{"options with a latency in bare numbers", "PUT", "/_sim/options", `{"latency":5}`, "latency"},
		{"options with a negative latency", "PUT", "/_sim/options", `{"latency":"-1s"}`, "latency"},
		{"options with an error rate over 1", "PUT", "/_sim/options", `{"error_rate":1.5}`, "error_rate must be within 0..1"},
		{"options with a negative rate limit", "PUT", "/_sim/options", `{"rate_limit":-2}`, "rate_limit must not be negative"},
		{"options with an unknown knob", "PUT", "/_sim/options", `{"okta_token":"x"}`, `unknown field "okta_token"`},
		{"a hold on an unknown vendor", "POST", "/_sim/hold/nope", "", `unknown vendor "nope" (known: okta, `},
		{"a release on an unknown vendor", "DELETE", "/_sim/hold/nope", "", `unknown vendor "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := start(t, Options{Latency: time.Millisecond})
			var got struct{ Error string }
			f.control(t, tt.method, tt.path, tt.body, http.StatusBadRequest, &got)
			if !strings.Contains(got.Error, tt.want) {
				t.Errorf("error = %q, want it to contain %q", got.Error, tt.want)
			}
			if o := f.sim.options(); o.Latency != time.Millisecond || o.ErrorRate != 0 || o.RateLimit != 0 {
				t.Errorf("a rejected request changed the options: %+v", o)
			}
			if len(f.sim.srv.Vendors()[0].Users()) != 0 {
				t.Error("a rejected request added a user")
			}
		})
	}
	t.Run("an unknown control path is a JSON 404", func(t *testing.T) {
		f := start(t, Options{})
		var got struct{ Error string }
		f.control(t, "GET", "/_sim/nothing", "", http.StatusNotFound, &got)
		if !strings.Contains(got.Error, "/_sim/nothing") {
			t.Errorf("error = %q", got.Error)
		}
	})
}

func TestUsers(t *testing.T) {
	t.Run("sessions of an unknown user or vendor are -1", func(t *testing.T) {
		sim := New(Options{})
		sim.AddUser("alice@example.com", 2)
		if n := sim.Sessions("okta", "nobody@example.com"); n != -1 {
			t.Errorf("unknown user: %d", n)
		}
		if n := sim.Sessions("nope", "alice@example.com"); n != -1 {
			t.Errorf("unknown vendor: %d", n)
		}
		if n := sim.Sessions("okta", " ALICE@example.com "); n != 2 {
			t.Errorf("emails should be case-insensitive: %d", n)
		}
	})
	t.Run("seed adds numbered users and the demo users with two sessions", func(t *testing.T) {
		sim := New(Options{})
		sim.Seed(3)
		for _, e := range []string{"user0001@example.com", "user0003@example.com", "alice@example.com", "bob@example.com", "carol@example.com"} {
			if n := sim.Sessions("okta", e); n != 2 {
				t.Errorf("%s: %d sessions", e, n)
			}
		}
		if n := len(sim.srv.Vendors()[0].Users()); n != 6 {
			t.Errorf("%d users, want 6", n)
		}
	})
	t.Run("adding a user again sets their sessions and keeps their id", func(t *testing.T) {
		sim := New(Options{})
		sim.AddUser("alice@example.com", 2)
		sim.AddUser("alice@example.com", 5)
		if n := sim.Sessions("okta", "alice@example.com"); n != 5 {
			t.Errorf("sessions = %d", n)
		}
		if n := len(sim.srv.Vendors()[0].Users()); n != 1 {
			t.Errorf("%d users", n)
		}
	})
	t.Run("reset clears the calls and keeps the users", func(t *testing.T) {
		f := start(t, Options{})
		f.sim.AddUser("alice@example.com", 1)
		f.do(t, "GET", "/okta/api/v1/users", oktaAuth, "")
		calls := f.sim.Calls()
		calls[0].Vendor = "changed"
		if f.sim.Calls()[0].Vendor != "okta" {
			t.Error("Calls should return a copy")
		}
		f.sim.Reset()
		if len(f.sim.Calls()) != 0 || f.sim.Sessions("okta", "alice@example.com") != 1 {
			t.Error("reset should clear calls only")
		}
	})
}

func TestSetOptionsClampsOutOfRangeValues(t *testing.T) {
	sim := New(Options{})
	sim.SetOptions(Options{Latency: -time.Second, ErrorRate: 3, RateLimit: -1})
	if o := sim.options(); o.Latency != 0 || o.ErrorRate != 1 || o.RateLimit != 0 || o.OktaToken != okta.DefaultToken {
		t.Errorf("options = %+v", o)
	}
}

func TestErrorRate(t *testing.T) {
	tests := []struct {
		name   string
		rate   float64
		status int
	}{
		{"an error rate of 1 fails every call", 1, http.StatusServiceUnavailable},
		{"an error rate of 0 fails none", 0, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := start(t, Options{ErrorRate: tt.rate})
			f.sim.AddUser("alice@example.com", 1)
			for range 50 {
				resp, body := f.do(t, "GET", "/okta/api/v1/users/alice@example.com", oktaAuth, "")
				if resp.StatusCode != tt.status {
					t.Fatalf("status = %d %s, want %d", resp.StatusCode, body, tt.status)
				}
				if tt.status != http.StatusOK {
					var e struct{ ErrorCode string }
					if err := json.Unmarshal(body, &e); err != nil || e.ErrorCode != "E0000010" {
						t.Fatalf("body %s, want Okta's error E0000010", body)
					}
				}
			}
		})
	}
	t.Run("a fixed seed draws the same failures", func(t *testing.T) {
		pattern := func() string {
			f := start(t, Options{ErrorRate: 0.5, Seed: 7})
			var b strings.Builder
			for range 40 {
				resp, _ := f.do(t, "GET", "/okta/api/v1/users", oktaAuth, "")
				b.WriteString(map[bool]string{true: "x", false: "."}[resp.StatusCode == http.StatusServiceUnavailable])
			}
			return b.String()
		}
		a, b := pattern(), pattern()
		if a != b || !strings.Contains(a, "x") || !strings.Contains(a, ".") {
			t.Errorf("patterns %s and %s", a, b)
		}
	})
}

func TestLatency(t *testing.T) {
	t.Run("latency is added to every vendor call", func(t *testing.T) {
		f := start(t, Options{Latency: 30 * time.Millisecond})
		began := time.Now()
		f.do(t, "GET", "/okta/api/v1/users", oktaAuth, "")
		if d := time.Since(began); d < 30*time.Millisecond {
			t.Errorf("answered in %v", d)
		}
	})
	t.Run("a caller that gives up is let go during the latency and recorded as 499", func(t *testing.T) {
		f := start(t, Options{Latency: time.Minute})
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		began := time.Now()
		_, _, err := f.send(ctx, "GET", "/okta/api/v1/users", oktaAuth, "")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
		if d := time.Since(began); d > 5*time.Second {
			t.Errorf("took %v", d)
		}
		faketest.Eventually(t, "the call is recorded as 499", func() bool {
			calls := f.sim.Calls()
			return len(calls) == 1 && calls[0].Status == statusClientGone
		})
	})
}

func TestHold(t *testing.T) {
	revoke := "/okta/api/v1/users/" + okta.UserID("alice@example.com") + "/sessions"
	t.Run("a hold blocks a revoke until release", func(t *testing.T) {
		f := start(t, Options{})
		f.sim.AddUser("alice@example.com", 2)
		release := f.sim.Hold("okta")
		t.Cleanup(release)
		done := make(chan int, 1)
		go func() {
			resp, _, err := f.send(context.Background(), "DELETE", revoke, oktaAuth, "")
			if err != nil {
				done <- 0
				return
			}
			done <- resp.StatusCode
		}()
		faketest.Eventually(t, "the revoke is held", func() bool { return f.sim.srv.Blocked("okta") == 1 })
		if resp, _ := f.do(t, "GET", "/okta/api/v1/users/alice@example.com", oktaAuth, ""); resp.StatusCode != http.StatusOK {
			t.Errorf("a read during a hold = %d, want 200", resp.StatusCode)
		}
		select {
		case got := <-done:
			t.Fatalf("the revoke was answered %d during the hold", got)
		default:
		}
		if n := f.sim.Sessions("okta", "alice@example.com"); n != 2 {
			t.Errorf("sessions = %d during the hold", n)
		}
		release()
		release() // a second release does nothing
		if got := <-done; got != http.StatusNoContent {
			t.Errorf("revoke = %d after release, want 204", got)
		}
		if n := f.sim.Sessions("okta", "alice@example.com"); n != 0 {
			t.Errorf("sessions = %d after release", n)
		}
	})
	t.Run("a cancelled request frees a held revoke and changes nothing", func(t *testing.T) {
		f := start(t, Options{})
		f.sim.AddUser("alice@example.com", 2)
		t.Cleanup(f.sim.Hold("okta"))
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() {
			_, _, err := f.send(ctx, "DELETE", revoke, oktaAuth, "")
			errc <- err
		}()
		faketest.Eventually(t, "the revoke is held", func() bool { return f.sim.srv.Blocked("okta") == 1 })
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v", err)
		}
		faketest.Eventually(t, "the held call lets go", func() bool { return f.sim.srv.Blocked("okta") == 0 })
		faketest.Eventually(t, "the call is recorded as 499", func() bool {
			calls := f.sim.Calls()
			return len(calls) == 1 && calls[0].Status == statusClientGone && calls[0].User == "alice@example.com"
		})
		if n := f.sim.Sessions("okta", "alice@example.com"); n != 2 {
			t.Errorf("sessions = %d, want 2", n)
		}
	})
}

// TestConcurrentUse is for the race detector.
func TestConcurrentUse(t *testing.T) {
	f := start(t, Options{RateLimit: 1000, ErrorRate: 0.1})
	f.sim.Seed(20)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 20 {
				id := okta.UserID(seedEmail(1 + (i+j)%20))
				f.send(t.Context(), "DELETE", "/okta/api/v1/users/"+id+"/sessions", oktaAuth, "")
				f.send(t.Context(), "GET", `/okta/api/v1/users?search=profile.login+sw+"user"`, oktaAuth, "")
				f.sim.SetOptions(Options{RateLimit: 1000, ErrorRate: 0.1, Seed: int64(j)})
				f.sim.AddUser(seedEmail(j+1), 3)
				f.sim.Hold("okta")()
				_ = f.sim.Sessions("okta", seedEmail(j+1))
				_ = f.sim.Calls()
			}
		})
	}
	wg.Wait()
	if n := len(f.sim.Calls()); n != 8*20*2 {
		t.Errorf("%d calls recorded, want %d", n, 8*20*2)
	}
}

// Tune changes a knob and keeps the vendors' credentials; SetOptions
// replaces them all.
func TestTuneKeepsTheOtherOptions(t *testing.T) {
	f := start(t, Options{OktaToken: "tuned-okta-token"})
	f.sim.Seed(0)
	f.sim.Tune(func(o *Options) { o.RateLimit = 1000 })
	if resp, _ := f.do(t, "GET", "/okta/api/v1/users?limit=1", "SSWS tuned-okta-token", ""); resp.StatusCode != 200 {
		t.Fatalf("after Tune: %d", resp.StatusCode)
	}
	f.sim.SetOptions(Options{RateLimit: 1000})
	if resp, _ := f.do(t, "GET", "/okta/api/v1/users?limit=1", "SSWS tuned-okta-token", ""); resp.StatusCode != 401 {
		t.Fatalf("after SetOptions the token is the default again: %d", resp.StatusCode)
	}
}

func TestPerVendorLimits(t *testing.T) {
	f := start(t, Options{})
	f.control(t, "PUT", "/_sim/options", `{"limits":{"okta":{"requests":2,"per":"24h"}}}`, http.StatusOK, nil)
	if o := f.sim.options(); o.Limits["okta"] != (Limit{Requests: 2, Per: 24 * time.Hour}) || len(o.Limits) != 1 {
		t.Fatalf("limits = %+v", o.Limits)
	}
	var shown map[string]any
	f.control(t, "GET", "/_sim/options", "", http.StatusOK, &shown)
	if l, _ := shown["limits"].(map[string]any)["okta"].(map[string]any); l["requests"] != 2.0 || l["per"] != "24h0m0s" {
		t.Errorf("options show limits %v", shown["limits"])
	}
	for i := 1; i <= 3; i++ {
		resp, _ := f.do(t, "GET", "/okta/api/v1/users?limit=1", oktaAuth, "")
		if want := map[bool]int{false: http.StatusOK, true: http.StatusTooManyRequests}[i == 3]; resp.StatusCode != want {
			t.Errorf("okta call %d = %d, want %d", i, resp.StatusCode, want)
		}
		if resp.Header.Get("X-Rate-Limit-Limit") != "2" {
			t.Errorf("okta call %d X-Rate-Limit-Limit = %q", i, resp.Header.Get("X-Rate-Limit-Limit"))
		}
	}
	for _, bad := range []string{
		`{"limits":{"nosuch":{"requests":1,"per":"1m"}}}`,
		`{"limits":{"okta":{"requests":0,"per":"1m"}}}`,
		`{"limits":{"okta":{"requests":1,"per":"soon"}}}`,
	} {
		f.control(t, "PUT", "/_sim/options", bad, http.StatusBadRequest, nil)
	}
	f.control(t, "PUT", "/_sim/options", `{"limits":{}}`, http.StatusOK, nil)
	if resp, _ := f.do(t, "GET", "/okta/api/v1/users?limit=1", oktaAuth, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("okta after the limits were removed = %d", resp.StatusCode)
	}
}
