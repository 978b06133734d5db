package connectors_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/offboarder/offboarder/connectors"
)

// step is one scripted exchange of a vendor fake: the request it expects and
// the answer it gives.
type step struct {
	method string
	path   string     // escaped path, as on the wire
	query  url.Values // the exact query; nil means none
	status int
	header map[string]string
	body   string
}

// script returns a vendor fake that serves steps in order. It fails t on any
// request out of script or on a wrong method, path, query or header (every
// request must carry want's headers), and, at cleanup, on unused steps.
func script(t *testing.T, want http.Header, steps ...step) http.Handler {
	t.Helper()
	var mu sync.Mutex
	next := 0
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if next < len(steps) {
			t.Errorf("fake: %d scripted step(s) unused, the first: %s %s", len(steps)-next, steps[next].method, steps[next].path)
		}
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		_, _ = io.Copy(io.Discard, r.Body)
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
		for k := range want {
			if got := r.Header.Get(k); got != want.Get(k) {
				t.Errorf("fake step %d: header %s = %q, want %q", next, k, got, want.Get(k))
			}
		}
		for k, v := range s.header {
			w.Header().Set(k, v)
		}
		if s.body != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(s.status)
		_, _ = io.WriteString(w, s.body)
	})
}

// hang is a fake that never answers until the request's context is done.
// It reads the body first: net/http notices a client that left only once
// the body is read (a token request's form would keep it waiting).
func hang() http.Handler {
	return http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	})
}

// wantBuildErrors builds one connector of type typ from settings and fails
// the test unless Build refuses it with an error holding every string of
// want and none of secrets.
func wantBuildErrors(t *testing.T, typ string, settings map[string]any, want []string, secrets ...string) {
	t.Helper()
	_, err := connectors.Build([]connectors.Spec{{Name: typ, Type: typ, Settings: settings}}, connectors.Deps{})
	if err == nil {
		t.Fatal("Build succeeded, want errors")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error:\n%v\ndoes not contain %q", err, w)
		}
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error echoes a secret: %v", err)
		}
	}
}
