package webhook_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/offboarder/offboarder/webhook"
)

// The handler a worker-only process mounts next to its metrics refuses like
// the admin API does, and serves the runtime's profiles to the token's holder.
func TestProfileHandlerNeedsTheAdminToken(t *testing.T) {
	get := func(h http.Handler, path, auth string) (int, string) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		b, _ := io.ReadAll(rec.Body)
		return rec.Code, string(b)
	}
	closed := webhook.ProfileHandler("")
	if code, _ := get(closed, "/debug/pprof/", "Bearer anything"); code != http.StatusForbidden {
		t.Fatalf("no token configured: want 403, got %d", code)
	}
	h := webhook.ProfileHandler("s3cret-admin-token")
	for _, auth := range []string{"", "Bearer wrong", "Bearer ", "Basic b3BzOndyb25n", "s3cret-admin-token"} {
		if code, body := get(h, "/debug/pprof/goroutine?debug=1", auth); code != http.StatusUnauthorized || strings.Contains(body, "goroutine") {
			t.Errorf("auth %q: want 401, got %d", auth, code)
		}
	}
	if code, body := get(h, "/debug/pprof/goroutine?debug=1", "Bearer s3cret-admin-token"); code != http.StatusOK || !strings.Contains(body, "goroutine profile:") {
		t.Fatalf("goroutine profile: %d %.80q", code, body)
	}
	// ops:s3cret-admin-token
	if code, body := get(h, "/debug/pprof/", "Basic b3BzOnMzY3JldC1hZG1pbi10b2tlbg=="); code != http.StatusOK || !strings.Contains(body, "heap") {
		t.Fatalf("index with basic auth: %d %.80q", code, body)
	}
	if code, _ := get(h, "/debug/pprof/cmdline", "Bearer s3cret-admin-token"); code != http.StatusNotFound {
		t.Fatalf("cmdline: want 404, got %d", code)
	}
}
