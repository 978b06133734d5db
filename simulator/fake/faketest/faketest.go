// Package faketest serves one vendor fake alone over real HTTP, behind the
// knobs and with the call record, as the simulator serves it: for the
// vendor packages' own tests.
package faketest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

// Server is one vendor fake with its Config C, served by a fake.Server
// (users, knobs, holds, the record) over a loopback httptest.Server. Create
// it with Start.
type Server[C any] struct {
	*fake.Server
	HTTP   *httptest.Server
	Vendor fake.Vendor

	mu     sync.Mutex
	config C
	now    func() time.Time
}

// Start serves the vendor that open makes, with the knobs k and the config
// c, until t ends. open gets the config as the vendor should read it (on
// every call: SetConfig changes it) and the server's clock (time.Now until
// SetClock).
func Start[C any](t testing.TB, k fake.Knobs, c C, open func(config func() C, now func() time.Time) fake.Vendor) *Server[C] {
	t.Helper()
	s := &Server[C]{config: c, now: time.Now}
	s.Vendor = open(s.currentConfig, s.clock)
	s.Server = fake.NewServer(k, s.clock, s.Vendor)
	s.HTTP = httptest.NewServer(s.Handler())
	t.Cleanup(s.HTTP.Close)
	return s
}

// SetConfig replaces the vendor's config.
func (s *Server[C]) SetConfig(c C) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.config = c
}

// SetClock replaces the clock of rate-limit windows and the record.
func (s *Server[C]) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

func (s *Server[C]) currentConfig() C {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.config
}

func (s *Server[C]) clock() time.Time {
	s.mu.Lock()
	now := s.now
	s.mu.Unlock()
	return now()
}

// Seed adds n users user0001@example.com… and the demo users
// alice@example.com, bob@example.com and carol@example.com, each with 2
// active sessions, as the simulator's Seed does.
func (s *Server[C]) Seed(n int) {
	for i := 1; i <= n; i++ {
		s.AddUser(fmt.Sprintf("user%04d@example.com", i), 2)
	}
	for _, name := range []string{"alice", "bob", "carol"} {
		s.AddUser(name+"@example.com", 2)
	}
}

// Send makes one request to path; auth "" sends no Authorization header.
func (s *Server[C]) Send(ctx context.Context, method, path, auth, body string) (*http.Response, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.HTTP.URL+path, rd)
	if err != nil {
		return nil, nil, err
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := s.HTTP.Client().Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// Do is Send that fails t on a transport error.
func (s *Server[C]) Do(t testing.TB, method, path, auth, body string) (*http.Response, []byte) {
	t.Helper()
	resp, b, err := s.Send(t.Context(), method, path, auth, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp, b
}

// PostForm posts form to path and returns the status and the decoded JSON.
func (s *Server[C]) PostForm(t testing.TB, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := s.HTTP.Client().PostForm(s.HTTP.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("POST %s: answer is not JSON: %v", path, err)
	}
	return resp.StatusCode, out
}

// Eventually polls cond until it holds or a few seconds pass.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
