package conformance

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

// CallLog wraps a vendor fake: every request is held 30 ms, and the log
// keeps when each request came into the fake and when it was answered, so
// a test can tell which requests were in flight at once. A request is named
// by its method and the last segment of its path ("POST logout").
type CallLog struct {
	mu     sync.Mutex
	events []callEvent
}

type callEvent struct {
	start bool
	name  string
}

// Wrap returns h holding and logging every request.
func (l *CallLog) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.Method + " " + path.Base(r.URL.Path)
		l.add(callEvent{start: true, name: name})
		time.Sleep(30 * time.Millisecond)
		h.ServeHTTP(w, r)
		// Recorded before the answer leaves: net/http sends it once the
		// handler has returned.
		l.add(callEvent{name: name})
	})
}

func (l *CallLog) add(e callEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

// Top is the most requests that were in the fake at once.
func (l *CallLog) Top() int {
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

// StartedDuring reports whether a request named b came in while one named a
// was in the fake.
func (l *CallLog) StartedDuring(a, b string) bool {
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

// LastStartAfterEnd reports whether the last request named b came in after
// a request named a was answered.
func (l *CallLog) LastStartAfterEnd(a, b string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	end := slices.IndexFunc(l.events, func(e callEvent) bool { return !e.start && e.name == a })
	last := -1
	for i, e := range l.events {
		if e.start && e.name == b {
			last = i
		}
	}
	return end >= 0 && last > end
}

// SentTogether is one case of a connector's check that the calls of one
// revoke that the vendor's docs let run independently are sent together,
// at most four at once, and the calls whose order matters are not.
type SentTogether struct {
	Name  string
	Open  func(baseURL string) (connectors.Connector, error)
	Fake  func(t *testing.T) http.Handler // the scripted vendor
	Who   string                          // the subject's email
	Want  offboard.Outcome
	Top   int // requests that must have been in the fake at once
	Check func(t *testing.T, l *CallLog)
}

// RunSentTogether revokes each case's subject against its fake wrapped in a
// CallLog, as subtests of t: it fails a case whose revoke does not answer
// Want, whose fake never held Top requests at once, or whose Check fails.
// Time to revoke is the longest chain of calls that depend on each other,
// not their sum; concurrency is counted, never timed.
func RunSentTogether(t *testing.T, tests []SentTogether) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			var l CallLog
			srv := httptest.NewServer(l.Wrap(tt.Fake(t)))
			defer srv.Close()
			c, err := tt.Open(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			out, err := c.Revoke(t.Context(), offboard.Subject{Email: tt.Who})
			if err != nil || out != tt.Want {
				t.Fatalf("Revoke = %q, %v; want %q", out, err, tt.Want)
			}
			if got := l.Top(); got < tt.Top {
				t.Errorf("at most %d requests at once, want %d: independent calls were sent one after another", got, tt.Top)
			}
			tt.Check(t, &l)
		})
	}
}
