package connectors_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/offboarder/offboarder/connectors"
)

// overlap wraps a vendor fake: every request is held 30 ms, and top reports
// the most requests that were in the fake at once.
func overlap(h http.Handler) (http.Handler, func() int) {
	var (
		mu       sync.Mutex
		now, top int
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			now++
			top = max(top, now)
			mu.Unlock()
			time.Sleep(30 * time.Millisecond)
			h.ServeHTTP(w, r)
			mu.Lock()
			now--
			mu.Unlock()
		}), func() int {
			mu.Lock()
			defer mu.Unlock()
			return top
		}
}

// The calls of one revoke that the vendor's docs let run independently are
// sent together: the time to revoke is the longest chain of calls that
// depend on each other, not their sum.
func TestIndependentCallsAreSentTogether(t *testing.T) {
	appA, appB, appC := "app-a.apps.googleusercontent.com", "app-b.apps.googleusercontent.com", "app-c.apps.googleusercontent.com"
	tests := []struct {
		name string
		open func(base string) (connectors.Connector, error)
		fake func(t *testing.T) http.Handler
		who  string
		want int // requests in flight at once
	}{{
		name: "auth0: both deletions, then both read-backs",
		open: func(base string) (connectors.Connector, error) { return openAuth0(base, nil) },
		fake: func(t *testing.T) http.Handler {
			return auth0Fake(t, auth0TokenAnswer{}, append([]step{byEmail(200, auth0Users(auth0ID))}, auth0Revoked(auth0IDPath)...)...)
		},
		who:  auth0Email,
		want: 2,
	}, {
		name: "google: sign-out with the token listing, then every token's deletion",
		open: func(base string) (connectors.Connector, error) { return openGoogle(base, nil) },
		fake: func(t *testing.T) http.Handler {
			return googleFake(t, googleTokenAnswer{},
				signOut(googleEmail, 204, ""), listTokens(googleEmail, 200, googleTokenList(appA, appB, appC)).with(),
				deleteToken(googleEmail, appA, 204, ""), deleteToken(googleEmail, appB, 204, "").with(), deleteToken(googleEmail, appC, 204, "").with(),
				listTokens(googleEmail, 200, googleTokenList()))
		},
		who:  googleEmail,
		want: 3,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, top := overlap(tt.fake(t))
			srv := httptest.NewServer(h)
			defer srv.Close()
			c, err := tt.open(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			out, err := c.Revoke(t.Context(), connectors.Subject{Email: tt.who})
			if err != nil || out != connectors.Verified {
				t.Fatalf("Revoke = %q, %v", out, err)
			}
			if got := top(); got < tt.want {
				t.Errorf("at most %d requests at once, want %d: independent calls were sent one after another", got, tt.want)
			}
		})
	}
}
