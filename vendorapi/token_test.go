package vendorapi

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

	"golang.org/x/oauth2/clientcredentials"
)

// tokenServer is an OAuth 2.0 token endpoint (RFC 6749 §4.4, errors §5.2)
// and an API that wants its bearer token.
func tokenServer(t *testing.T, tokenStatus int) (*httptest.Server, *atomic.Int32, *atomic.Int32) {
	t.Helper()
	var issued, apiCalls atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch tokenStatus {
		case http.StatusOK:
		case http.StatusBadRequest:
			w.WriteHeader(tokenStatus)
			fmt.Fprint(w, `{"error":"invalid_client","error_description":"Client authentication failed"}`)
			return
		default:
			w.WriteHeader(tokenStatus)
			fmt.Fprint(w, `{"error":"temporarily_unavailable"}`)
			return
		}
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
			t.Errorf("token request: %v %v", err, r.PostForm)
		}
		n := issued.Add(1)
		fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"Bearer","expires_in":3600}`, n)
	})
	mux.HandleFunc("GET /api/thing", func(w http.ResponseWriter, r *http.Request) {
		apiCalls.Add(1)
		if r.Header.Get("Authorization") != fmt.Sprintf("Bearer tok-%d", issued.Load()) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &issued, &apiCalls
}

func tokenClient(t *testing.T, base string) *Client {
	t.Helper()
	cc := &clientcredentials.Config{ClientID: "id", ClientSecret: "TOKEN-TEST-SECRET", TokenURL: base + "/oauth/token"}
	c, err := NewClient("vendor", base, nil, ClientOptions{Token: cc.Token, Secrets: []string{"TOKEN-TEST-SECRET"}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClientToken(t *testing.T) {
	t.Run("one token serves many calls", func(t *testing.T) {
		srv, issued, _ := tokenServer(t, http.StatusOK)
		c := tokenClient(t, srv.URL)
		for range 3 {
			if _, err := c.Do(t.Context(), Request{Method: http.MethodGet, Path: "/api/thing"}, &struct{}{}); err != nil {
				t.Fatal(err)
			}
		}
		if n := issued.Load(); n != 1 {
			t.Fatalf("want 1 token fetched, got %d", n)
		}
	})
	t.Run("a 401 drops the token so the next call fetches a new one", func(t *testing.T) {
		srv, issued, _ := tokenServer(t, http.StatusOK)
		c := tokenClient(t, srv.URL)
		if _, err := c.Do(t.Context(), Request{Method: http.MethodGet, Path: "/api/thing"}, nil); err != nil {
			t.Fatal(err)
		}
		issued.Add(1) // the vendor revokes it: the cached token is now stale
		_, err := c.Do(t.Context(), Request{Method: http.MethodGet, Path: "/api/thing"}, nil)
		if e, ok := errors.AsType[*Error](err); !ok || e.Kind != Auth {
			t.Fatalf("want an Auth error, got %v", err)
		}
		if _, err := c.Do(t.Context(), Request{Method: http.MethodGet, Path: "/api/thing"}, nil); err != nil {
			t.Fatalf("after a 401 a fresh token must be fetched: %v", err)
		}
	})
	t.Run("a rejected client is an auth error naming the vendor's code", func(t *testing.T) {
		srv, _, apiCalls := tokenServer(t, http.StatusBadRequest)
		_, err := tokenClient(t, srv.URL).Do(t.Context(), Request{Method: http.MethodGet, Path: "/api/thing"}, nil)
		e, ok := errors.AsType[*Error](err)
		if !ok || e.Kind != Auth || Retryable(err) || !strings.Contains(err.Error(), "invalid_client") {
			t.Fatalf("want a permanent Auth error naming invalid_client, got %v", err)
		}
		if strings.Contains(err.Error(), "TOKEN-TEST-SECRET") {
			t.Fatal("the client secret is in the error")
		}
		if apiCalls.Load() != 0 {
			t.Fatal("the API was called without a token")
		}
	})
	t.Run("a failing token endpoint is transient", func(t *testing.T) {
		srv, _, _ := tokenServer(t, http.StatusServiceUnavailable)
		_, err := tokenClient(t, srv.URL).Do(t.Context(), Request{Method: http.MethodGet, Path: "/api/thing"}, nil)
		if e, ok := errors.AsType[*Error](err); !ok || e.Kind != Transient || !Retryable(err) {
			t.Fatalf("want a Transient error, got %v", err)
		}
	})
	t.Run("a hanging token endpoint returns when the context ends", func(t *testing.T) {
		stop := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// The unread form body keeps net/http from noticing the client
			// leave, so the test ends the hang itself.
			select {
			case <-r.Context().Done():
			case <-stop:
			}
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { close(stop) })
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		done := make(chan error, 1)
		go func() {
			_, err := tokenClient(t, srv.URL).Do(ctx, Request{Method: http.MethodGet, Path: "/api/thing"}, nil)
			done <- err
		}()
		select {
		case err := <-done:
			if !Retryable(err) {
				t.Fatalf("want a retryable error, got %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Do did not return after its context ended")
		}
	})
}
