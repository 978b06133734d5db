package webhook

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/tasks"
)

// TestCrossSiteWritesAreRefused: a foreign page cannot make a logged-in
// browser write through the dashboard or the admin API. The browser sends
// the Basic credentials it cached at the documented login with any Origin
// and a form content type (no preflight): that request, and one marked
// cross-site by Sec-Fetch-Site, is 403 and the revoke queue keeps running.
// The dashboard's own page (same origin) and a script with the Bearer token
// and neither header still write; reads are untouched.
func TestCrossSiteWritesAreRefused(t *testing.T) {
	s := startSurface(t)
	// A pending revoke task, so that asynq knows the queue (no worker runs).
	if _, err := tasks.NewQueue(s.client, tasks.Settings{}).Revoke(t.Context(), tasks.Revoke{CaseID: "c1", Connector: "okta"}); err != nil {
		t.Fatal(err)
	}
	paused := func() bool {
		t.Helper()
		info, err := s.insp.GetQueueInfo(tasks.QueueRevoke)
		if err != nil {
			t.Fatal(err)
		}
		return info.Paused
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("any:"+testAdminToken))
	form := func(extra ...string) http.Header {
		h := http.Header{"Authorization": {basic}, "Content-Type": {"application/x-www-form-urlencoded"}}
		for i := 0; i+1 < len(extra); i += 2 {
			h.Set(extra[i], extra[i+1])
		}
		return h
	}
	const pause = "/monitoring/api/queues/revoke:pause"

	// The attack as filed: curl -X POST -u any:$TOKEN -H 'Origin: https://evil.example' …
	if code, body := s.send(http.MethodPost, pause, form("Origin", "https://evil.example"), ""); code != http.StatusForbidden || !strings.Contains(body, "cross-site") {
		t.Fatalf("cross-site pause with a foreign Origin: want 403, got %d %s", code, body)
	}
	if code, _ := s.send(http.MethodPost, pause, form("Sec-Fetch-Site", "cross-site"), ""); code != http.StatusForbidden {
		t.Fatalf("pause marked Sec-Fetch-Site: cross-site: want 403, got %d", code)
	}
	if code, _ := s.send(http.MethodPost, pause, form("Sec-Fetch-Site", "same-site", "Origin", s.url), ""); code != http.StatusForbidden {
		t.Fatalf("pause from a sibling site (Sec-Fetch-Site wins over Origin): want 403, got %d", code)
	}
	if paused() {
		t.Fatal("the revoke queue was paused by a cross-site request")
	}
	if !strings.Contains(s.log.String(), "cross-site request refused") {
		t.Error("no log line for the refused requests")
	}
	if strings.Contains(s.log.String(), testAdminToken) {
		t.Error("the log holds the admin token")
	}

	// The dashboard's own page: same origin, by Origin (older browsers) or by Sec-Fetch-Site.
	if code, body := s.send(http.MethodPost, pause, form("Origin", s.url), ""); code != http.StatusNoContent {
		t.Fatalf("same-origin pause: want 204, got %d %s", code, body)
	}
	if !paused() {
		t.Fatal("the same-origin pause did not pause the queue")
	}
	if code, body := s.send(http.MethodPost, "/monitoring/api/queues/revoke:resume", form("Sec-Fetch-Site", "same-origin"), ""); code != http.StatusNoContent || paused() {
		t.Fatalf("same-origin resume: want 204 and the queue running, got %d %s", code, body)
	}
	// Without the token the same-origin write is still refused, by the token check.
	if code, _ := s.send(http.MethodPost, pause, http.Header{"Origin": {s.url}}, ""); code != http.StatusUnauthorized {
		t.Fatalf("same-origin pause without the token: want 401, got %d", code)
	}

	// The admin API: a cross-site manual trigger stores nothing; a script
	// with the Bearer token and neither header is served.
	bearer := http.Header{"Authorization": {"Bearer " + testAdminToken}, "Content-Type": {"text/plain"}}
	evil := bearer.Clone()
	evil.Set("Origin", "https://evil.example")
	offboard := `{"email":"erin@example.com","reason":"terminated"}`
	if code, _ := s.send(http.MethodPost, "/v1/offboard", evil, offboard); code != http.StatusForbidden {
		t.Fatalf("cross-site POST /v1/offboard: want 403, got %d", code)
	}
	if cs, err := s.store.ListCases(context.Background(), store.CaseFilter{}); err != nil || len(cs) != 0 {
		t.Fatalf("a cross-site POST /v1/offboard stored %d cases (%v)", len(cs), err)
	}
	if code, body := s.send(http.MethodGet, "/v1/cases", evil, ""); code != http.StatusOK {
		t.Fatalf("a read with a foreign Origin: want 200, got %d %s", code, body)
	}
	if code, body := s.send(http.MethodPost, "/v1/offboard", bearer, offboard); code != http.StatusAccepted {
		t.Fatalf("POST /v1/offboard with the Bearer token and neither header: want 202, got %d %s", code, body)
	}

	// The profiles: symbol lookups take POST.
	if code, _ := s.send(http.MethodPost, "/debug/pprof/symbol", evil, "0x1"); code != http.StatusForbidden {
		t.Fatalf("cross-site POST /debug/pprof/symbol: want 403, got %d", code)
	}
	if code, _ := s.send(http.MethodPost, "/debug/pprof/symbol", bearer, "0x1"); code != http.StatusOK {
		t.Fatalf("POST /debug/pprof/symbol with the Bearer token: want 200, got %d", code)
	}
}
