package webhook

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func TestWellKnownDocuments(t *testing.T) {
	const adminToken = "admin-token-for-wellknown-test"
	jwks := []byte(`{"keys":[{"kty":"EC","kid":"k1"}]}`)
	var logs syncBuffer
	h := New(Options{AdminToken: adminToken, Logger: zerolog.New(&logs), WellKnown: []Document{
		{Path: "/.well-known/jwks.json", Body: jwks, MaxAge: 5 * time.Minute},
		{Path: "/.well-known/ssf-configuration", Body: []byte(`{"issuer":"https://x"}`)},
		{Path: "/keys.json", Body: []byte(`{}`)},
	}})
	t.Cleanup(func() { h.Close() })
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	do := func(method, path string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), method, srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	t.Run("a document is served to anyone, as given, with its cache time", func(t *testing.T) {
		resp, body := do("GET", "/.well-known/jwks.json")
		if resp.StatusCode != 200 || body != string(jwks) {
			t.Fatalf("GET = %d %q", resp.StatusCode, body)
		}
		if ct, cc := resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"); ct != "application/json" || cc != "public, max-age=300" {
			t.Errorf("Content-Type %q Cache-Control %q", ct, cc)
		}
	})
	t.Run("a document without a cache time is no-cache", func(t *testing.T) {
		resp, _ := do("GET", "/.well-known/ssf-configuration")
		if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-cache" {
			t.Fatalf("GET = %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
	})
	t.Run("only GET: a POST is 405", func(t *testing.T) {
		if resp, _ := do("POST", "/.well-known/jwks.json"); resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("POST = %d, want 405", resp.StatusCode)
		}
	})
	t.Run("an unknown document is 404", func(t *testing.T) {
		if resp, _ := do("GET", "/.well-known/openid-configuration"); resp.StatusCode != 404 {
			t.Fatalf("GET = %d, want 404", resp.StatusCode)
		}
	})
	t.Run("a document outside /.well-known/ is not served, and the mistake is logged", func(t *testing.T) {
		if resp, _ := do("GET", "/keys.json"); resp.StatusCode != 404 {
			t.Fatalf("GET /keys.json = %d, want 404", resp.StatusCode)
		}
		if !strings.Contains(logs.String(), "public document not served") {
			t.Errorf("log: %s", logs.String())
		}
	})
}
