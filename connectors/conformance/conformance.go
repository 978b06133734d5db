// Package conformance is the one suite every connector passes, each against
// an httptest fake shaped from its vendor's documentation. A connector's
// tests (package okta_test, …) call Run with a Harness, and shape their
// fakes with Script: a scripted vendor that fails the test on any request
// out of script and on any step left unused.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// Scenario is one vendor behaviour the suite needs a fake for.
type Scenario int

// The scenarios a Harness must serve. A RateLimited wait of at most
// vendorapi.MaxShortWait would be sat out inside the attempt and retried,
// so the fake asks for longer (e.g. Okta's reset 30s ahead) and the error
// comes back at once.
const (
	Success      Scenario = iota + 1 // the subject exists and the revoke succeeds
	NotFound                         // the subject has no account
	RateLimited                      // 429 with the vendor's rate-limit headers asking for a wait over vendorapi.MaxShortWait
	ServerError                      // 5xx with the vendor's error body
	Unauthorized                     // 401 with the vendor's error body
	Hang                             // never answers until the request's context is done
)

// String names the scenario in test output.
func (s Scenario) String() string {
	switch s {
	case Success:
		return "success"
	case NotFound:
		return "not found"
	case RateLimited:
		return "rate limited"
	case ServerError:
		return "server error"
	case Unauthorized:
		return "unauthorized"
	case Hang:
		return "hang"
	}
	return fmt.Sprintf("scenario(%d)", int(s))
}

// Harness is what a connector gives the suite.
type Harness struct {
	// New opens the connector against baseURL, configured with Secret.
	New func(baseURL string) (connectors.Connector, error)
	// Secret is the credential New configures; it must never appear in
	// any error text.
	Secret string
	// Subject is a subject that exists in the Success scenario.
	Subject offboard.Subject
	// Handler returns the vendor-shaped fake for a scenario. It may fail t
	// on an unexpected request (and, through t.Cleanup, on unused steps).
	// A connector that never looks the subject up (a push to a receiver
	// that answers the same for any subject) returns nil for NotFound, and
	// the suite skips that scenario, saying so.
	Handler func(t *testing.T, s Scenario) http.Handler
}

// hangBound is how long a revoke may take once its context is done. It is
// a hang check, not a speed assertion.
const hangBound = 5 * time.Second

// callTimeout bounds every other revoke in the suite.
const callTimeout = 30 * time.Second

// Run runs the suite as subtests of t.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil || h.Handler == nil || h.Secret == "" {
		t.Fatal("conformance: the harness needs New, Handler and Secret")
	}

	t.Run("success gives a final outcome that is not failed", func(t *testing.T) {
		out, err := revoke(t, h, Success, callTimeout)
		if err != nil {
			t.Fatalf("revoke: unexpected error: %v", err)
		}
		if !out.Final() || out == offboard.Failed {
			t.Fatalf("outcome = %q, want a final outcome other than failed", out)
		}
	})

	t.Run("an absent user gives not_found and no error", func(t *testing.T) {
		out, err := revoke(t, h, NotFound, callTimeout)
		if err != nil {
			t.Fatalf("revoke: unexpected error: %v", err)
		}
		if out != offboard.NotFound {
			t.Fatalf("outcome = %q, want %q", out, offboard.NotFound)
		}
	})

	t.Run("a 429 gives a retryable rate-limited error with a wait", func(t *testing.T) {
		_, err := revoke(t, h, RateLimited, callTimeout)
		e := wantError(t, err, vendorapi.RateLimited, true)
		if e.RetryAfter <= 0 {
			t.Errorf("RetryAfter = %v, want > 0 from the vendor's rate-limit headers", e.RetryAfter)
		}
	})

	t.Run("a 5xx gives a retryable transient error", func(t *testing.T) {
		_, err := revoke(t, h, ServerError, callTimeout)
		if e := wantError(t, err, vendorapi.Transient, true); e.Status < 500 {
			t.Errorf("Status = %d, want the vendor's 5xx", e.Status)
		}
	})

	t.Run("a 401 gives a permanent auth error a person can act on", func(t *testing.T) {
		_, err := revoke(t, h, Unauthorized, callTimeout)
		wantError(t, err, vendorapi.Auth, false)
		if !strings.Contains(err.Error(), "credentials") {
			t.Errorf("error %q does not tell a person to look at the credentials", err)
		}
	})

	t.Run("a short deadline against a hanging vendor returns promptly", func(t *testing.T) {
		start := time.Now()
		_, err := revoke(t, h, Hang, 200*time.Millisecond)
		if d := time.Since(start); d > hangBound {
			t.Errorf("revoke took %v after a 200ms deadline, want under %v", d, hangBound)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error = %v, want one wrapping context.DeadlineExceeded", err)
		}
		if !vendorapi.Retryable(err) {
			t.Errorf("a timed-out call should be retryable: %v", err)
		}
	})

	t.Run("a cancelled context returns promptly", func(t *testing.T) {
		start := time.Now()
		_, err := revoke(t, h, Hang, 0)
		if d := time.Since(start); d > hangBound {
			t.Errorf("revoke took %v with a cancelled context, want under %v", d, hangBound)
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error = %v, want one wrapping context.Canceled", err)
		}
	})

	t.Run("the secret never appears in any error text", func(t *testing.T) {
		for _, s := range []Scenario{RateLimited, ServerError, Unauthorized, Hang} {
			_, err := revoke(t, h, s, 300*time.Millisecond)
			if err == nil {
				t.Errorf("%v: want an error", s)
				continue
			}
			for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				if strings.Contains(text, h.Secret) {
					t.Errorf("%v: error text holds the secret: %q", s, text)
				}
			}
		}
	})
}

// revoke serves scenario s on a loopback httptest server and revokes the
// harness's subject under a context that ends after timeout; a zero timeout
// means a context cancelled before the call. It fails t if a scenario that
// should reach the vendor did not.
func revoke(t *testing.T, h Harness, s Scenario, timeout time.Duration) (offboard.Outcome, error) {
	t.Helper()
	var calls atomic.Int64
	fake := h.Handler(t, s)
	switch {
	case fake == nil && s == NotFound:
		t.Skip("the connector never looks the subject up: it has no not_found")
	case fake == nil:
		t.Fatalf("conformance: no fake for scenario %v", s)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	c, err := h.New(srv.URL)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	if timeout == 0 {
		ctx, cancel = context.WithCancel(t.Context())
		cancel()
	}
	defer cancel()
	out, err := c.Revoke(ctx, h.Subject)
	if timeout != 0 && calls.Load() == 0 {
		t.Errorf("%v: the connector made no request to the fake", s)
	}
	return out, err
}

// wantError checks that err is an *Error of kind k with the given
// retryability, and returns it.
func wantError(t *testing.T, err error, k vendorapi.Kind, retryable bool) *vendorapi.Error {
	t.Helper()
	e, ok := errors.AsType[*vendorapi.Error](err)
	if !ok {
		t.Fatalf("error = %v (%T), want a *Error", err, err)
	}
	if e.Kind != k {
		t.Errorf("Kind = %v, want %v (error: %v)", e.Kind, k, err)
	}
	if got := vendorapi.Retryable(err); got != retryable {
		t.Errorf("Retryable = %v, want %v (error: %v)", got, retryable, err)
	}
	if e.System == "" || !strings.HasPrefix(err.Error(), e.System+": ") {
		t.Errorf("error %q is not prefixed with the connector name", err)
	}
	return e
}
