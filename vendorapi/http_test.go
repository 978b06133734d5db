package vendorapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// answer is a fake that answers every request with status, headers and body.
func answer(status int, header map[string]string, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
}

// serve starts h on loopback and returns a Client for it and a request count.
func serve(t *testing.T, h http.Handler, o ClientOptions) (*Client, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := NewClient("test", srv.URL, nil, o)
	if err != nil {
		t.Fatal(err)
	}
	return c, &n
}

func TestStatusClassification(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name      string
		status    int
		header    map[string]string
		kind      Kind // 0: success
		retryable bool
		wait      [2]time.Duration // RetryAfter within [min, max]
	}{
		{"200 is success", 200, nil, 0, false, [2]time.Duration{}},
		{"204 is success", 204, nil, 0, false, [2]time.Duration{}},
		{"400 is a permanent invalid request", 400, nil, Invalid, false, [2]time.Duration{}},
		{"401 is a permanent auth error", 401, nil, Auth, false, [2]time.Duration{}},
		{"403 is a permanent auth error", 403, nil, Auth, false, [2]time.Duration{}},
		{"404 is a not-found error the connector interprets", 404, nil, NotFound, false, [2]time.Duration{}},
		{"408 is transient", 408, nil, Transient, true, [2]time.Duration{}},
		{"409 is a permanent invalid request", 409, nil, Invalid, false, [2]time.Duration{}},
		{"429 with Retry-After seconds waits that long", 429, map[string]string{"Retry-After": "7"},
			RateLimited, true, [2]time.Duration{7 * time.Second, 7 * time.Second}},
		{"429 with a Retry-After HTTP-date waits until then", 429,
			map[string]string{"Retry-After": now.Add(90 * time.Second).UTC().Format(http.TimeFormat)},
			RateLimited, true, [2]time.Duration{85 * time.Second, 90 * time.Second}},
		{"429 with Okta's X-Rate-Limit-Reset waits until the reset", 429,
			map[string]string{"X-Rate-Limit-Reset": fmt.Sprint(now.Add(40 * time.Second).Unix())},
			RateLimited, true, [2]time.Duration{35 * time.Second, 40 * time.Second}},
		{"429 with X-RateLimit-Reset waits until the reset", 429,
			map[string]string{"X-RateLimit-Reset": fmt.Sprint(now.Add(20 * time.Second).Unix())},
			RateLimited, true, [2]time.Duration{15 * time.Second, 20 * time.Second}},
		{"429 with a reset already past waits a second", 429,
			map[string]string{"X-Rate-Limit-Reset": fmt.Sprint(now.Add(-time.Minute).Unix())},
			RateLimited, true, [2]time.Duration{time.Second, time.Second}},
		{"429 with Graph's fractional Retry-After waits it rounded up", 429, map[string]string{"Retry-After": "2.128"},
			RateLimited, true, [2]time.Duration{3 * time.Second, 3 * time.Second}},
		{"429 with a huge Retry-After is capped", 429, map[string]string{"Retry-After": "999999999"},
			RateLimited, true, [2]time.Duration{MaxRetryAfter, MaxRetryAfter}},
		{"429 without a header is rate limited with no wait", 429, nil, RateLimited, true, [2]time.Duration{}},
		{"500 is transient", 500, nil, Transient, true, [2]time.Duration{}},
		{"502 is transient", 502, nil, Transient, true, [2]time.Duration{}},
		{"503 with Retry-After is transient and waits", 503, map[string]string{"Retry-After": "30"},
			Transient, true, [2]time.Duration{30 * time.Second, 30 * time.Second}},
		{"503 ignores a rate-limit reset, which says nothing of an outage", 503,
			map[string]string{"X-Rate-Limit-Reset": fmt.Sprint(now.Add(time.Minute).Unix())},
			Transient, true, [2]time.Duration{}},
		{"a redirect is refused as invalid", 302, map[string]string{"Location": "https://elsewhere.example/"},
			Invalid, false, [2]time.Duration{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := serve(t, answer(tt.status, tt.header, ""), ClientOptions{})
			status, err := c.Do(t.Context(), Request{Method: "GET", Path: "/x"}, nil)
			if status != tt.status {
				t.Errorf("status = %d, want %d", status, tt.status)
			}
			checkErr(t, err, tt.kind, tt.retryable, tt.wait)
			if e, ok := errors.AsType[*Error](err); ok && e.Status != tt.status {
				t.Errorf("Error.Status = %d, want %d", e.Status, tt.status)
			}
		})
	}

	t.Run("a network error is transient", func(t *testing.T) {
		srv := httptest.NewServer(answer(200, nil, ""))
		srv.Close() // nothing listens there any more
		c, err := NewClient("test", srv.URL, nil, ClientOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Do(t.Context(), Request{Method: "GET", Path: "/x"}, nil)
		checkErr(t, err, Transient, true, [2]time.Duration{})
	})
}

func checkErr(t *testing.T, err error, kind Kind, retryable bool, wait [2]time.Duration) {
	t.Helper()
	if kind == 0 {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	e, ok := errors.AsType[*Error](err)
	if !ok {
		t.Fatalf("error = %v (%T), want an *Error", err, err)
	}
	if e.Kind != kind {
		t.Errorf("kind = %v, want %v", e.Kind, kind)
	}
	if Retryable(err) != retryable {
		t.Errorf("Retryable = %v, want %v", Retryable(err), retryable)
	}
	if e.RetryAfter < wait[0] || e.RetryAfter > wait[1] {
		t.Errorf("RetryAfter = %v, want within %v", e.RetryAfter, wait)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "test: ") {
		t.Errorf("error %q is not prefixed with the connector", msg)
	}
}

func TestShortRateLimitWaits(t *testing.T) {
	limited := map[string]string{"Retry-After": "1"}
	t.Run("a one-second 429 is waited out and the call retried", func(t *testing.T) {
		var n atomic.Int64
		c, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				answer(429, limited, "").ServeHTTP(w, r)
				return
			}
			answer(200, nil, `{"ok":true}`).ServeHTTP(w, r)
		}), ClientOptions{})
		var out struct{ OK bool }
		if _, err := c.Do(t.Context(), Request{Method: "GET", Path: "/x"}, &out); err != nil || !out.OK {
			t.Fatalf("Do = %v, %+v; want success after one wait", err, out)
		}
	})
	t.Run("a 429 that persists is retried at most twice, then returned", func(t *testing.T) {
		c, n := serve(t, answer(429, limited, ""), ClientOptions{})
		_, err := c.Do(t.Context(), Request{Method: "GET", Path: "/x"}, nil)
		checkErr(t, err, RateLimited, true, [2]time.Duration{time.Second, time.Second})
		if n.Load() != 3 {
			t.Errorf("requests = %d, want 3", n.Load())
		}
	})
	t.Run("a wait that does not fit the deadline is returned at once", func(t *testing.T) {
		c, n := serve(t, answer(429, limited, ""), ClientOptions{})
		ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
		defer cancel()
		_, err := c.Do(ctx, Request{Method: "GET", Path: "/x"}, nil)
		checkErr(t, err, RateLimited, true, [2]time.Duration{time.Second, time.Second})
		if n.Load() != 1 {
			t.Errorf("requests = %d, want 1", n.Load())
		}
	})
	t.Run("a wait longer than the short-wait limit is returned at once", func(t *testing.T) {
		c, n := serve(t, answer(429, map[string]string{"Retry-After": "3"}, ""), ClientOptions{})
		_, err := c.Do(t.Context(), Request{Method: "GET", Path: "/x"}, nil)
		checkErr(t, err, RateLimited, true, [2]time.Duration{3 * time.Second, 3 * time.Second})
		if n.Load() != 1 {
			t.Errorf("requests = %d, want 1", n.Load())
		}
	})
	t.Run("a 503 is never waited out inside the attempt", func(t *testing.T) {
		c, n := serve(t, answer(503, limited, ""), ClientOptions{})
		_, err := c.Do(t.Context(), Request{Method: "GET", Path: "/x"}, nil)
		checkErr(t, err, Transient, true, [2]time.Duration{time.Second, time.Second})
		if n.Load() != 1 {
			t.Errorf("requests = %d, want 1", n.Load())
		}
	})
	t.Run("a context cancelled during the wait returns promptly with its error", func(t *testing.T) {
		c, _ := serve(t, answer(429, limited, ""), ClientOptions{})
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(100*time.Millisecond, cancel)
		start := time.Now()
		_, err := c.Do(ctx, Request{Method: "GET", Path: "/x"}, nil)
		if time.Since(start) > 900*time.Millisecond || !errors.Is(err, context.Canceled) {
			t.Fatalf("Do = %v after %v, want context.Canceled at once", err, time.Since(start))
		}
		if _, ok := errors.AsType[*Error](err); !ok {
			t.Errorf("error %v is not an *Error", err)
		}
	})
}

func TestNoSecretInErrors(t *testing.T) {
	const secret = "s3cr3t-t0ken-value"
	echo := func(body []byte) string { return string(body) } // a vendor that echoes everything
	o := ClientOptions{
		Auth:        func(h http.Header) { h.Set("Authorization", "Bearer "+secret) },
		VendorError: echo,
		Secrets:     []string{secret},
		Timeout:     200 * time.Millisecond,
	}
	q := url.Values{"api_key": {secret}} // some vendors want secrets in the query
	tests := []struct {
		name string
		h    http.Handler
	}{
		{"a 401 whose body echoes the token", answer(401, nil, `{"error":"bad token `+secret+`"}`)},
		{"a 500 whose body echoes the token", answer(500, nil, "token="+secret)},
		{"a redirect to a url holding the token", answer(302, map[string]string{"Location": "/login?t=" + secret}, "")},
		{"a vendor that never answers", http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() })},
		{"an answer that is not json", answer(200, nil, "<html>"+secret)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := serve(t, tt.h, o)
			var out map[string]any
			_, err := c.Do(t.Context(), Request{Method: "GET", Path: "/x", Query: q}, &out)
			if err == nil {
				t.Fatal("want an error")
			}
			for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				if strings.Contains(text, secret) || strings.Contains(text, "api_key") {
					t.Errorf("error text holds the secret or the query: %s", text)
				}
			}
		})
	}
	t.Run("a network error to a url whose query holds the token", func(t *testing.T) {
		srv := httptest.NewServer(answer(200, nil, ""))
		srv.Close()
		c, _ := NewClient("test", srv.URL, nil, o)
		_, err := c.Do(t.Context(), Request{Method: "GET", Path: "/x", Query: q}, nil)
		if err == nil || strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "api_key") {
			t.Errorf("error = %v, want one without the query", err)
		}
	})
}

func TestRequestsStayBelowTheBaseURL(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.URL.EscapedPath() + "|" + r.Header.Get("User-Agent"))
		w.WriteHeader(204)
	}))
	t.Cleanup(srv.Close)
	c, err := NewClient("test", srv.URL+"/prefix/", nil, ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(t.Context(), Request{Method: "GET", Path: "/api/v1/users/a%2Bb@x.example"}, nil); err != nil {
		t.Fatal(err)
	}
	if want := "/prefix/api/v1/users/a%2Bb@x.example|offboarder"; got.Load() != want {
		t.Errorf("request = %q, want %q", got.Load(), want)
	}
	for _, p := range []string{"//evil.example/x", "https://evil.example/x", "x", "/a/../../b", "/a/%2e%2e/b", "/a?x=1", "/a#f"} {
		if _, err := c.Do(t.Context(), Request{Method: "GET", Path: p}, nil); !IsKind(err, Invalid) {
			t.Errorf("path %q: error = %v, want an invalid-request error", p, err)
		}
	}
}

func TestNewClientRejectsBadBaseURLs(t *testing.T) {
	for _, u := range []string{"", "example.okta.com", "ftp://example.okta.com", "https://user:pw@example.okta.com",
		"https://example.okta.com?x=1", "https://example.okta.com#f", "https:///path"} {
		if _, err := NewClient("test", u, nil, ClientOptions{}); err == nil {
			t.Errorf("NewClient(%q) = nil error, want a base_url error", u)
		} else if strings.Contains(err.Error(), "pw") {
			t.Errorf("NewClient(%q) error echoes credentials: %v", u, err)
		}
	}
}

func TestSanitize(t *testing.T) {
	got := sanitize("line one\nline\ttwo\x00 tok-12345 "+strings.Repeat("x", 300), []string{"tok-12345"})
	if strings.ContainsAny(got, "\n\t\x00") || strings.Contains(got, "tok-12345") || len([]rune(got)) > maxSummary+1 {
		t.Errorf("sanitize = %q", got)
	}
	if !strings.HasPrefix(got, "line one line two <redacted> xxx") {
		t.Errorf("sanitize = %q", got)
	}
}

// TestConnectionsAreKeptBetweenBursts: after a burst of calls as wide as
// the worker's concurrency, the next burst reuses the connections instead
// of dialing the vendor again.
func TestConnectionsAreKeptBetweenBursts(t *testing.T) {
	const burst = 48
	var dialed atomic.Int64
	var release atomic.Pointer[chan struct{}] // the current burst's
	var arrived atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		// Hold each call until the whole burst is in, so that the burst
		// needs burst connections at once.
		ch := *release.Load()
		if arrived.Add(1)%burst == 0 {
			close(ch)
		}
		<-ch
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			dialed.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c, err := NewClient("vendor", srv.URL, nil, ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		ch := make(chan struct{})
		release.Store(&ch)
		var wg sync.WaitGroup
		for range burst {
			wg.Go(func() {
				if _, err := c.Do(t.Context(), Request{Method: http.MethodGet, Path: "/x"}, nil); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if round == 0 {
			if n := dialed.Load(); n != burst {
				t.Fatalf("first burst dialed %d connections, want %d", n, burst)
			}
			time.Sleep(50 * time.Millisecond) // every connection back in the pool
		}
	}
	if n := dialed.Load() - burst; n > burst/8 {
		t.Errorf("the second burst dialed %d new connections, want the first burst's reused", n)
	}
}
