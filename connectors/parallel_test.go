package connectors_test

import (
	"net/http"
	"net/http/httptest"
	"path"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
)

// vendorLog wraps a vendor fake: every request is held 30 ms, and the log
// keeps when each request came into the fake and when it was answered, so
// a test can tell which requests were in flight at once. A request is named
// by its method and the last segment of its path ("POST logout").
type vendorLog struct {
	mu     sync.Mutex
	events []vendorEvent
}

type vendorEvent struct {
	start bool
	name  string
}

func (l *vendorLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.Method + " " + path.Base(r.URL.Path)
		l.add(vendorEvent{start: true, name: name})
		time.Sleep(30 * time.Millisecond)
		h.ServeHTTP(w, r)
		// Recorded before the answer leaves: net/http sends it once the
		// handler has returned.
		l.add(vendorEvent{name: name})
	})
}

func (l *vendorLog) add(e vendorEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

// top is the most requests that were in the fake at once.
func (l *vendorLog) top() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	now, top := 0, 0
	for _, e := range l.events {
		if e.start {
			now++
		} else {
			now--
		}
		top = max(top, now)
	}
	return top
}

// startedDuring reports whether a request named b came in while one named a
// was in the fake.
func (l *vendorLog) startedDuring(a, b string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	open := 0
	for _, e := range l.events {
		switch {
		case e.name == a && e.start:
			open++
		case e.name == a:
			open--
		case e.name == b && e.start && open > 0:
			return true
		}
	}
	return false
}

// lastStartAfterEnd reports whether the last request named b came in after
// a request named a was answered.
func (l *vendorLog) lastStartAfterEnd(a, b string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	end := slices.IndexFunc(l.events, func(e vendorEvent) bool { return !e.start && e.name == a })
	last := -1
	for i, e := range l.events {
		if e.start && e.name == b {
			last = i
		}
	}
	return end >= 0 && last > end
}

// kcOtherOffline is a second client holding the user's offline tokens.
const kcOtherOffline = `{"clientId":"desktop-app","grantedClientScopes":[],"createdDate":null,"lastUpdatedDate":null,"additionalGrants":[{"client":"d4e5","key":"Offline Token"}]}`

// The calls of one revoke that the vendor's docs let run independently are
// sent together, at most four at once; the calls whose order matters are
// not. Time to revoke is the longest chain of calls that depend on each
// other, not their sum. Concurrency is counted, never timed.
func TestIndependentCallsAreSentTogether(t *testing.T) {
	appA, appB, appC := "app-a.apps.googleusercontent.com", "app-b.apps.googleusercontent.com", "app-c.apps.googleusercontent.com"
	var many []string // more tokens than the bound of calls in flight
	for _, c := range "defghi" {
		many = append(many, "app-"+string(c)+".apps.googleusercontent.com")
	}
	tests := []struct {
		name  string
		open  func(base string) (connectors.Connector, error)
		fake  func(t *testing.T) http.Handler
		who   string
		want  offboard.Outcome
		top   int // requests in the fake at once
		check func(t *testing.T, l *vendorLog)
	}{{
		name: "auth0: both deletions together, then both read-backs together",
		open: func(base string) (connectors.Connector, error) { return openAuth0(base, nil) },
		fake: func(t *testing.T) http.Handler {
			return auth0Fake(t, auth0TokenAnswer{}, append([]step{byEmail(200, auth0Users(auth0ID))}, auth0Revoked(auth0IDPath)...)...)
		},
		who: auth0Email, want: offboard.Verified, top: 2,
		check: func(t *testing.T, l *vendorLog) {
			if !l.startedDuring("DELETE sessions", "DELETE refresh-tokens") && !l.startedDuring("DELETE refresh-tokens", "DELETE sessions") {
				t.Error("the two deletions were sent one after the other")
			}
			if !l.startedDuring("GET sessions", "GET refresh-tokens") && !l.startedDuring("GET refresh-tokens", "GET sessions") {
				t.Error("the two read-backs were sent one after the other")
			}
		},
	}, {
		name: "google: the sign-out with the first listing, then every token's deletion together",
		open: func(base string) (connectors.Connector, error) { return openGoogle(base, nil) },
		fake: func(t *testing.T) http.Handler {
			return googleFake(t, googleTokenAnswer{},
				signOut(googleEmail, 204, ""), listTokens(googleEmail, 200, googleTokenList(appA, appB, appC)).With(),
				deleteToken(googleEmail, appA, 204, ""), deleteToken(googleEmail, appB, 204, "").With(), deleteToken(googleEmail, appC, 204, "").With(),
				listTokens(googleEmail, 200, googleTokenList()))
		},
		who: googleEmail, want: offboard.Verified, top: 3,
		check: func(t *testing.T, l *vendorLog) {
			if !l.startedDuring("POST signOut", "GET tokens") && !l.startedDuring("GET tokens", "POST signOut") {
				t.Error("the sign-out and the first listing were sent one after the other")
			}
			if !l.lastStartAfterEnd("POST signOut", "GET tokens") {
				t.Error("the listing that decides the outcome started before the sign-out answered")
			}
		},
	}, {
		name: "google: no more than four deletions at once",
		open: func(base string) (connectors.Connector, error) { return openGoogle(base, nil) },
		fake: func(t *testing.T) http.Handler {
			steps := []step{signOut(googleEmail, 204, ""), listTokens(googleEmail, 200, googleTokenList(many...)).With()}
			for i, app := range many {
				s := deleteToken(googleEmail, app, 204, "")
				s.Together = i > 0
				steps = append(steps, s)
			}
			return googleFake(t, googleTokenAnswer{}, append(steps, listTokens(googleEmail, 200, googleTokenList()))...)
		},
		who: googleEmail, want: offboard.Verified, top: 2,
		check: func(t *testing.T, l *vendorLog) {
			if got := l.top(); got > 4 {
				t.Errorf("%d requests at once, want at most 4", got)
			}
		},
	}, {
		name: "google: a user without tokens is listed again once the sign-out answered",
		open: func(base string) (connectors.Connector, error) { return openGoogle(base, nil) },
		fake: func(t *testing.T) http.Handler {
			return googleFake(t, googleTokenAnswer{}, signedOutNoTokens(googleEmail)...)
		},
		who: googleEmail, want: offboard.Verified, top: 2,
		check: func(t *testing.T, l *vendorLog) {
			if !l.lastStartAfterEnd("POST signOut", "GET tokens") {
				t.Error("no listing started after the sign-out answered")
			}
		},
	}, {
		name: "keycloak: the logout and a first listing go together; the read-back's listing starts after the logout answered",
		open: func(base string) (connectors.Connector, error) { return openKeycloak(base, nil) },
		fake: func(t *testing.T) http.Handler {
			return keycloakFake(t, kcToken{},
				kcSearch(200, kcUsers(kcID)), kcLogout(kcID, 204, ""),
				kcConsents(kcID, 200, "["+kcAppOffline+","+kcOtherOffline+"]").With(),
				kcRevokeConsent(kcID, "mobile-app", 204, ""), kcRevokeConsent(kcID, "desktop-app", 204, "").With(),
				kcSessions(kcID, 200, "[]"), kcConsents(kcID, 200, "[]").With())
		},
		who: kcEmail, want: offboard.Verified, top: 2,
		check: func(t *testing.T, l *vendorLog) {
			if !l.startedDuring("POST logout", "GET consents") && !l.startedDuring("GET consents", "POST logout") {
				t.Error("the logout and the first listing were sent one after the other")
			}
			if !l.lastStartAfterEnd("POST logout", "GET consents") {
				t.Error("no listing of the consents started after the logout answered")
			}
			if !l.startedDuring("DELETE mobile-app", "DELETE desktop-app") && !l.startedDuring("DELETE desktop-app", "DELETE mobile-app") {
				t.Error("the consent revocations were sent one after the other")
			}
			if !l.startedDuring("GET sessions", "GET consents") && !l.startedDuring("GET consents", "GET sessions") {
				t.Error("the two read-backs were sent one after the other")
			}
		},
	}, {
		name: "keycloak: a user without offline tokens costs three round trips, the last listing after the logout",
		open: func(base string) (connectors.Connector, error) { return openKeycloak(base, nil) },
		fake: func(t *testing.T) http.Handler {
			return keycloakFake(t, kcToken{}, append([]step{kcSearch(200, kcUsers(kcID))}, kcLoggedOut(kcID)...)...)
		},
		who: kcEmail, want: offboard.Verified, top: 2,
		check: func(t *testing.T, l *vendorLog) {
			if !l.lastStartAfterEnd("POST logout", "GET consents") {
				t.Error("no listing of the consents started after the logout answered")
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l vendorLog
			srv := httptest.NewServer(l.wrap(tt.fake(t)))
			defer srv.Close()
			c, err := tt.open(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			out, err := c.Revoke(t.Context(), offboard.Subject{Email: tt.who})
			if err != nil || out != tt.want {
				t.Fatalf("Revoke = %q, %v; want %q", out, err, tt.want)
			}
			if got := l.top(); got < tt.top {
				t.Errorf("at most %d requests at once, want %d: independent calls were sent one after another", got, tt.top)
			}
			tt.check(t, &l)
		})
	}
}
