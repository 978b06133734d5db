package conformance

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/offboarder/offboarder/connectors"
)

// Step is one scripted exchange of a vendor fake: the request it expects and
// the answer it gives.
type Step struct {
	Method string
	Path   string     // escaped path, as on the wire
	Query  url.Values // the exact query; nil means none
	Status int
	Header map[string]string
	Body   string
	// Together marks a step the connector sends at the same time as the
	// step before it: the steps of such a group may arrive in any order.
	Together bool
	// Optional marks a step that may never arrive: a call sent together
	// with one that fails for good may be cancelled before it is sent.
	Optional bool
}

// With returns s as sent together with the step before it.
func (s Step) With() Step { s.Together = true; return s }

// Unsure returns s as possibly never sent: the first of a group whose
// other call may fail for good first and cancel it.
func Unsure(s Step) Step { s.Optional = true; return s }

// Maybe returns s as sent together with the step before it, and possibly
// cancelled before it is sent.
func (s Step) Maybe() Step { s.Together, s.Optional = true, true; return s }

// Script returns a vendor fake that serves steps in order (a group of
// steps marked together in any order). It fails t on any request out of
// script or on a wrong method, path, query or header (every request must
// carry want's headers), and, at cleanup, on unused steps that are not
// optional.
func Script(t *testing.T, want http.Header, steps ...Step) http.Handler {
	t.Helper()
	var mu sync.Mutex
	used := make([]bool, len(steps))
	next := 0 // the first unused step
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for i, s := range steps {
			if !used[i] && !s.Optional {
				t.Errorf("fake: scripted step %d unused: %s %s", i+1, s.Method, s.Path)
				return
			}
		}
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		_, _ = io.Copy(io.Discard, r.Body)
		match := func(j int) bool {
			return !used[j] && r.Method == steps[j].Method && r.URL.EscapedPath() == steps[j].Path
		}
		// group returns the end of the group that starts at from, and
		// whether every unused step in it is optional.
		group := func(from int) (end int, optional bool) {
			optional = true
			for end = from; end < len(steps) && (end == from || steps[end].Together); end++ {
				optional = optional && (used[end] || steps[end].Optional)
			}
			return end, optional
		}
		// The steps that may come now: the unused steps of the current
		// group; those of the next group if the rest of the current one
		// may have been cancelled; and a cancelled call's request that
		// reached the vendor late.
		i := -1
		end, optional := group(next)
		for j := next; j < end && i < 0; j++ {
			if match(j) {
				i = j
			}
		}
		if i < 0 && optional && end < len(steps) {
			end2, _ := group(end)
			for j := end; j < end2 && i < 0; j++ {
				if match(j) {
					i, next = j, end
				}
			}
		}
		for j := range steps {
			if i < 0 && steps[j].Optional && match(j) {
				i = j
			}
		}
		if i < 0 && next >= len(steps) {
			t.Errorf("fake: unexpected request %s %s", r.Method, r.URL.RequestURI())
			http.Error(w, "unexpected request", http.StatusTeapot)
			return
		}
		if i < 0 {
			i = next // out of script: reported below
		}
		used[i] = true
		for next < len(steps) && used[next] {
			next++
		}
		s := steps[i]
		if r.Method != s.Method || r.URL.EscapedPath() != s.Path {
			t.Errorf("fake step %d: got %s %s, want %s %s", i+1, r.Method, r.URL.EscapedPath(), s.Method, s.Path)
		}
		q := s.Query
		if q == nil {
			q = url.Values{}
		}
		if got := r.URL.Query(); got.Encode() != q.Encode() {
			t.Errorf("fake step %d: query = %q, want %q", i+1, got.Encode(), q.Encode())
		}
		for k := range want {
			if got := r.Header.Get(k); got != want.Get(k) {
				t.Errorf("fake step %d: header %s = %q, want %q", i+1, k, got, want.Get(k))
			}
		}
		for k, v := range s.Header {
			w.Header().Set(k, v)
		}
		if s.Body != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(s.Status)
		_, _ = io.WriteString(w, s.Body)
	})
}

// Hanging is a fake that never answers until the request's context is done.
// It reads the body first: net/http notices a client that left only once
// the body is read (a token request's form would keep it waiting).
func Hanging() http.Handler {
	return http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	})
}

// WantBuildErrors builds one connector of type typ from settings and fails
// the test unless Build, given types, refuses it with an error holding every
// string of want and none of secrets.
func WantBuildErrors(t *testing.T, types map[string]func() connectors.Config, typ string, settings map[string]any, want []string, secrets ...string) {
	t.Helper()
	_, err := connectors.Build([]connectors.Spec{{Name: typ, Type: typ, Settings: settings}}, types, connectors.Deps{})
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
