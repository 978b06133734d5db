// Package conformance is what every sender's tests share: the fake of a
// sender's API that serves scripted exchanges (FakeSender), an in-memory
// State, a sender that never answers, and the suites every source passes on
// its own paths (Emails: one person's address is one subject on every path
// an email takes into offboarder). A sender's _test.go calls them; the
// registry-wide checks live in package sources_test.
package conformance

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
)

// APIStep is one scripted exchange of a sender's fake API: the request it
// expects and the answer it gives.
type APIStep struct {
	Method string
	Path   string     // escaped path, as on the wire
	Query  url.Values // the exact query; nil means none
	Auth   string     // the Authorization the request must carry; "" means any
	// Check looks at the request further (its body, its form); it reports
	// with t.Errorf.
	Check  func(t *testing.T, r *http.Request, body []byte)
	Status int
	Header map[string]string
	Body   string
}

// FakeSender returns a sender's fake API that serves steps in order. It
// fails t on any request out of script or unlike its step, and, at cleanup,
// on unused steps.
func FakeSender(t *testing.T, steps ...APIStep) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	next := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		if next >= len(steps) {
			t.Errorf("fake: unexpected request %s %s", r.Method, r.URL.RequestURI())
			http.Error(w, "unexpected request", http.StatusTeapot)
			return
		}
		s := steps[next]
		next++
		if r.Method != s.Method || r.URL.EscapedPath() != s.Path {
			t.Errorf("fake step %d: got %s %s, want %s %s", next, r.Method, r.URL.EscapedPath(), s.Method, s.Path)
		}
		q := s.Query
		if q == nil {
			q = url.Values{}
		}
		if got := r.URL.Query(); got.Encode() != q.Encode() {
			t.Errorf("fake step %d: query = %q, want %q", next, got.Encode(), q.Encode())
		}
		if s.Auth != "" && r.Header.Get("Authorization") != s.Auth {
			t.Errorf("fake step %d: Authorization = %q, want %q", next, r.Header.Get("Authorization"), s.Auth)
		}
		if s.Check != nil {
			s.Check(t, r, body)
		}
		for k, v := range s.Header {
			w.Header().Set(k, v)
		}
		if s.Body != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(s.Status)
		_, _ = io.WriteString(w, s.Body)
	}))
	t.Cleanup(func() {
		srv.Close()
		mu.Lock()
		defer mu.Unlock()
		if next < len(steps) {
			t.Errorf("fake: %d scripted step(s) unused, the first: %s %s", len(steps)-next, steps[next].Method, steps[next].Path)
		}
	})
	return srv
}

// StateMap is an in-memory sources.State.
type StateMap struct {
	mu     sync.Mutex
	Values map[string][]byte // by key; nil is empty
}

// Get implements sources.State.
func (s *StateMap) Get(_ context.Context, key string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.Values[key]
	return v, ok, nil
}

// Put implements sources.State.
func (s *StateMap) Put(_ context.Context, key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Values == nil {
		s.Values = map[string][]byte{}
	}
	s.Values[key] = append([]byte(nil), value...)
	return nil
}

// HangingSender is a sender that never answers until the request's context
// is done. It reads the body first: net/http notices a client that left
// only once the body is read (a token request's form would keep it waiting).
func HangingSender(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Headers is an http.Header of key, value pairs, each added in order.
func Headers(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// RoundTripFunc is an http.RoundTripper of a function.
type RoundTripFunc func(*http.Request) (*http.Response, error)

// RoundTrip calls f.
func (f RoundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
