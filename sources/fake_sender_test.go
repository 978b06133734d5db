package sources

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Test helpers of the sources that call their sender's API (entra, google, bamboohr, hibob).

// apiStep is one scripted exchange of a sender's fake API: the request it
// expects and the answer it gives.
type apiStep struct {
	method string
	path   string     // escaped path, as on the wire
	query  url.Values // the exact query; nil means none
	auth   string     // the Authorization the request must carry; "" means any
	// check looks at the request further (its body, its form); it reports
	// with t.Errorf.
	check  func(t *testing.T, r *http.Request, body []byte)
	status int
	header map[string]string
	body   string
}

// fakeSender returns a sender's fake API that serves steps in order. It
// fails t on any request out of script or unlike its step, and, at cleanup,
// on unused steps.
func fakeSender(t *testing.T, steps ...apiStep) *httptest.Server {
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
		if r.Method != s.method || r.URL.EscapedPath() != s.path {
			t.Errorf("fake step %d: got %s %s, want %s %s", next, r.Method, r.URL.EscapedPath(), s.method, s.path)
		}
		q := s.query
		if q == nil {
			q = url.Values{}
		}
		if got := r.URL.Query(); got.Encode() != q.Encode() {
			t.Errorf("fake step %d: query = %q, want %q", next, got.Encode(), q.Encode())
		}
		if s.auth != "" && r.Header.Get("Authorization") != s.auth {
			t.Errorf("fake step %d: Authorization = %q, want %q", next, r.Header.Get("Authorization"), s.auth)
		}
		if s.check != nil {
			s.check(t, r, body)
		}
		for k, v := range s.header {
			w.Header().Set(k, v)
		}
		if s.body != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(s.status)
		_, _ = io.WriteString(w, s.body)
	}))
	t.Cleanup(func() {
		srv.Close()
		mu.Lock()
		defer mu.Unlock()
		if next < len(steps) {
			t.Errorf("fake: %d scripted step(s) unused, the first: %s %s", len(steps)-next, steps[next].method, steps[next].path)
		}
	})
	return srv
}

// stateMap is an in-memory State.
type stateMap struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *stateMap) Get(_ context.Context, key string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	return v, ok, nil
}

func (s *stateMap) Put(_ context.Context, key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.m[key] = append([]byte(nil), value...)
	return nil
}

// hangingSender is a sender that never answers until the request's context
// is done. It reads the body first: net/http notices a client that left
// only once the body is read (a token request's form would keep it waiting).
func hangingSender(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	return srv
}

// testdataFile reads testdata/<sender>/<name>, the deliveries rebuilt from a
// sender's documentation.
func testdataFile(t testing.TB, sender, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", sender, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
