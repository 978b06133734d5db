package e2e

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/tasks"
)

func TestSignedWebhookRevokesSessions(t *testing.T) {
	dialects(t, func(t *testing.T, dbURL func(*testing.T) string) {
		e := start(t, dbURL(t), envOptions{})
		code, res := e.post("hr", body("evt-1", "Alice@Example.com"), "")
		if code != http.StatusAccepted {
			t.Fatalf("want 202, got %d %v", code, res)
		}
		id, _ := res["case_id"].(string)
		if id == "" || res["duplicate"] != false {
			t.Fatalf("bad answer: %v", res)
		}
		c := e.waitCase(id)
		if c.State != offboard.StateCompleted || len(c.Entries) != 1 {
			t.Fatalf("case: %+v", c)
		}
		en := c.Entries[0]
		if en.Connector != "okta" || en.Outcome != "acknowledged" || en.Attempts != 1 || en.StartedAt == nil || en.FinishedAt == nil {
			t.Fatalf("entry: %+v", en)
		}
		if c.Email != "alice@example.com" || c.Reason != "terminated" || c.ClosedAt == nil {
			t.Fatalf("case: %+v", c)
		}
		if n := e.Sim.Sessions("okta", "alice@example.com"); n != 0 {
			t.Fatalf("simulator still holds %d sessions for alice", n)
		}
		if n := e.Sim.Sessions("okta", "bob@example.com"); n != 1 {
			t.Fatalf("bob's sessions were touched: %d", n)
		}
		var revokes int
		for _, call := range e.Sim.Calls() {
			if call.Method == http.MethodDelete && strings.HasSuffix(call.Path, "/sessions") {
				revokes++
				if !strings.Contains(call.Query, "oauthTokens=true") {
					t.Errorf("revoke without oauthTokens=true: %+v", call)
				}
			}
		}
		if revokes != 1 {
			t.Fatalf("want 1 session revocation at the vendor, got %d", revokes)
		}
		// The admin API shows the same case with its audit trail.
		code, got := e.admin(http.MethodGet, "/v1/cases/"+id, adminToken, nil)
		if code != http.StatusOK || got["state"] != string(offboard.StateCompleted) {
			t.Fatalf("GET /v1/cases/%s: %d %v", id, code, got)
		}
		if audit, _ := got["audit"].([]any); len(audit) < 3 {
			t.Fatalf("want an audit trail, got %v", got["audit"])
		}
		if _, err := e.Store.VerifyAudit(t.Context()); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(e.Log.String(), oktaToken) || strings.Contains(e.Log.String(), hrSecret) {
			t.Fatal("a secret appears in the log")
		}
	})
}

func TestBadDeliveriesChangeNothing(t *testing.T) {
	e := start(t, "sqlite:"+t.TempDir()+"/o.db", envOptions{noWorker: true})
	good := body("evt-2", "alice@example.com")
	big := bytes.Repeat([]byte("a"), 2<<20)
	tests := []struct {
		name   string
		source string
		body   []byte
		sig    string
		want   int
	}{
		{"a bad signature is refused", "hr", good, sources.SignatureValue(time.Now(), good, []byte("another-secret-0123456789")), 401},
		{"a stale timestamp is refused", "hr", good, sources.SignatureValue(time.Now().Add(-10*time.Minute), good, []byte(hrSecret)), 401},
		{"a missing signature header is refused", "hr", good, "-", 401},
		{"a signature over another body is refused", "hr", body("evt-3", "bob@example.com"), sources.SignatureValue(time.Now(), good, []byte(hrSecret)), 401},
		{"malformed JSON is a 400", "hr", []byte(`{"id":"x",`), "", 400},
		{"an unknown reason is a 400", "hr", []byte(`{"id":"x","email":"a@example.com","reason":"fired"}`), "", 400},
		{"an unknown system is a 400", "hr", body("evt-4", "a@example.com", `"systems":["nope"]`), "", 400},
		{"an unknown source is a 404", "payroll", good, "", 404},
		{"a 2 MiB body is a 413", "hr", big, "", 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, res := e.post(tt.source, tt.body, tt.sig)
			if code != tt.want {
				t.Fatalf("want %d, got %d %v", tt.want, code, res)
			}
			if msg, _ := res["error"].(string); msg == "" {
				t.Fatalf("want an error message, got %v", res)
			}
			if n := len(e.cases()); n != 0 {
				t.Fatalf("%d cases stored", n)
			}
			if n := e.queued(tasks.QueueOffboard); n != 0 {
				t.Fatalf("%d tasks enqueued", n)
			}
		})
	}
	// Headers over 64 KiB are refused before any handler runs.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.URL+"/webhooks/hr", bytes.NewReader(good))
	req.Header.Set(sources.SignatureHeader, sources.SignatureValue(time.Now(), good, []byte(hrSecret)))
	req.Header.Set("X-Padding", strings.Repeat("a", 100<<10))
	if code, _ := e.do(req); code != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("100 KiB of headers: want 431, got %d", code)
	}
	if n := len(e.cases()); n != 0 {
		t.Fatalf("%d cases stored", n)
	}
	// The 400 names the problem.
	_, res := e.post("hr", []byte(`{"id":"x","email":"a@example.com","reason":"fired"}`), "")
	if msg, _ := res["error"].(string); !strings.Contains(msg, "reason") {
		t.Fatalf("400 does not name the field: %v", res)
	}
}

func TestDuplicateDeliveriesMakeOneCase(t *testing.T) {
	dialects(t, func(t *testing.T, dbURL func(*testing.T) string) {
		e := start(t, dbURL(t), envOptions{noWorker: true})
		b := body("evt-dup", "carol@example.com")
		sig := sources.SignatureValue(time.Now(), b, []byte(hrSecret))
		code, first := e.post("hr", b, sig)
		if code != http.StatusAccepted || first["duplicate"] != false {
			t.Fatalf("first: %d %v", code, first)
		}
		code, second := e.post("hr", b, sig)
		if code != http.StatusAccepted || second["duplicate"] != true || second["case_id"] != first["case_id"] {
			t.Fatalf("second: %d %v (first %v)", code, second, first)
		}

		// Concurrent identical deliveries of a new event.
		b2 := body("evt-dup-2", "dave@example.com")
		sig2 := sources.SignatureValue(time.Now(), b2, []byte(hrSecret))
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			ids   = map[string]int{}
			fresh int
		)
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, res := e.post("hr", b2, sig2)
				mu.Lock()
				defer mu.Unlock()
				if code != http.StatusAccepted {
					t.Errorf("concurrent delivery: %d %v", code, res)
					return
				}
				ids[res["case_id"].(string)]++
				if res["duplicate"] == false {
					fresh++
				}
			}()
		}
		wg.Wait()
		if len(ids) != 1 || fresh != 1 {
			t.Fatalf("want one case and one fresh answer, got cases %v, fresh %d", ids, fresh)
		}
		if n := len(e.cases()); n != 2 {
			t.Fatalf("want 2 cases in all, got %d", n)
		}
		if n := e.queued(tasks.QueueOffboard); n != 2 {
			t.Fatalf("want one offboard task per case (2), got %d", n)
		}
	})
}

func TestStoreDownAnswers503(t *testing.T) {
	e := start(t, "sqlite:"+t.TempDir()+"/o.db", envOptions{noWorker: true})
	e.Store.Close()
	code, res := e.post("hr", body("evt-5", "alice@example.com"), "")
	if code != http.StatusServiceUnavailable {
		t.Fatalf("want 503, got %d %v", code, res)
	}
	if n := e.queued(tasks.QueueOffboard); n != 0 {
		t.Fatalf("%d tasks enqueued without a commit", n)
	}
	code, _ = e.admin(http.MethodGet, "/readyz", "", nil)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("readyz with the store down: want 503, got %d", code)
	}
}

func TestRedisDownStillAcceptsAndRelayCatchesUp(t *testing.T) {
	dialects(t, func(t *testing.T, dbURL func(*testing.T) string) {
		e := start(t, dbURL(t), envOptions{relay: 200 * time.Millisecond})
		e.Redis.Stop()
		code, res := e.post("hr", body("evt-6", "alice@example.com"), "")
		if code != http.StatusAccepted {
			t.Fatalf("want 202 with Redis down (the event is committed), got %d %v", code, res)
		}
		id := res["case_id"].(string)
		if c, err := e.Store.GetCase(t.Context(), id); err != nil || c.State != offboard.StatePending {
			t.Fatalf("case not committed as pending: %+v %v", c, err)
		}
		code, _ = e.admin(http.MethodGet, "/readyz", "", nil)
		if code != http.StatusServiceUnavailable {
			t.Fatalf("readyz with Redis down: want 503, got %d", code)
		}
		e.Redis.Restart() // empty, as after a crash without persistence
		c := e.waitCase(id)
		if c.State != offboard.StateCompleted || c.Entries[0].Outcome != "acknowledged" {
			t.Fatalf("case after Redis came back: %+v", c)
		}
		if n := e.Sim.Sessions("okta", "alice@example.com"); n != 0 {
			t.Fatalf("sessions left: %d", n)
		}
	})
}

func TestDryRunRevokesNothing(t *testing.T) {
	e := start(t, "sqlite:"+t.TempDir()+"/o.db", envOptions{})
	code, res := e.post("hr", body("evt-7", "alice@example.com", `"dry_run":true`), "")
	if code != http.StatusAccepted {
		t.Fatalf("%d %v", code, res)
	}
	c := e.waitCase(res["case_id"].(string))
	if c.Entries[0].Outcome != "skipped" || c.State != offboard.StateCompleted {
		t.Fatalf("case: %+v", c)
	}
	if n := e.Sim.Sessions("okta", "alice@example.com"); n != 2 {
		t.Fatalf("a dry run revoked sessions: %d left", n)
	}
}

func TestAdminAPIAuth(t *testing.T) {
	e := start(t, "sqlite:"+t.TempDir()+"/o.db", envOptions{noWorker: true})
	routes := []struct{ method, path string }{
		{http.MethodGet, "/v1/cases"},
		{http.MethodGet, "/v1/cases/x"},
		{http.MethodPost, "/v1/offboard"},
		{http.MethodGet, "/v1/audit/verify"},
		{http.MethodGet, "/monitoring/"},
		{http.MethodGet, "/monitoring/api/queues"},
		{http.MethodDelete, "/monitoring/api/queues/revoke"},
		{http.MethodGet, "/debug/pprof/"},
		{http.MethodGet, "/debug/pprof/heap"},
		{http.MethodGet, "/debug/pprof/profile?seconds=1"},
	}
	for _, r := range routes {
		for _, tok := range []string{"", "wrong-token", " "} {
			code, _ := e.admin(r.method, r.path, tok, nil)
			if code != http.StatusUnauthorized {
				t.Errorf("%s %s with token %q: want 401, got %d", r.method, r.path, tok, code)
			}
		}
	}
	if code, _ := e.admin(http.MethodGet, "/v1/cases", adminToken, nil); code != http.StatusOK {
		t.Fatalf("right token: %d", code)
	}
	req, _ := http.NewRequest(http.MethodGet, e.URL+"/monitoring/", nil)
	req.SetBasicAuth("ops", adminToken)
	if code, _ := e.do(req); code != http.StatusOK {
		t.Fatalf("dashboard with basic auth: %d", code)
	}
	// The runtime's profiles, for an operator chasing CPU or memory: a
	// heap profile is gzip'd protobuf; the command line is not served.
	if code, res := e.admin(http.MethodGet, "/debug/pprof/heap", adminToken, nil); code != http.StatusOK || !strings.HasPrefix(res["_raw"].(string), "\x1f\x8b") {
		t.Fatalf("heap profile with the token: %d, %.40q", code, res["_raw"])
	}
	if code, _ := e.admin(http.MethodGet, "/debug/pprof/cmdline", adminToken, nil); code != http.StatusNotFound {
		t.Fatalf("cmdline: want 404, got %d", code)
	}
	code, res := e.admin(http.MethodPost, "/v1/offboard", adminToken, []byte(`{"email":"erin@example.com","reason":"manual"}`))
	if code != http.StatusAccepted || res["case_id"] == "" {
		t.Fatalf("manual trigger: %d %v", code, res)
	}
	code, res = e.admin(http.MethodGet, "/v1/cases?email=ERIN@example.com", adminToken, nil)
	if list, _ := res["cases"].([]any); code != http.StatusOK || len(list) != 1 {
		t.Fatalf("filter by email: %d %v", code, res)
	}

	empty := ""
	closed := start(t, "sqlite:"+t.TempDir()+"/o.db", envOptions{noWorker: true, adminToken: &empty})
	for _, r := range routes {
		for _, tok := range []string{"", "anything"} {
			code, _ := closed.admin(r.method, r.path, tok, nil)
			if code != http.StatusForbidden {
				t.Errorf("no token configured: %s %s: want 403, got %d", r.method, r.path, code)
			}
		}
	}
}

func TestSixIdentityProvidersRevokeOneLeaver(t *testing.T) {
	e := start(t, "sqlite:"+t.TempDir()+"/o.db", envOptions{allConnectors: true})
	e.Sim.AddUser("dana@example.com", 2)
	code, res := e.post("hr", body("evt-six", "dana@example.com"), "")
	if code != http.StatusAccepted {
		t.Fatalf("%d %v", code, res)
	}
	c := e.waitCase(res["case_id"].(string))
	if c.State != offboard.StateCompleted || len(c.Entries) != 6 {
		t.Fatalf("case: %s with %d entries: %+v", c.State, len(c.Entries), c.Entries)
	}
	want := map[string]offboard.Outcome{"auth0": "verified", "entra": "verified", "google": "verified", "keycloak": "verified", "okta": "acknowledged", "onelogin": "acknowledged"}
	for _, en := range c.Entries {
		if want[en.Connector] != en.Outcome {
			t.Errorf("%s: outcome %s, want %s (%s)", en.Connector, en.Outcome, want[en.Connector], en.LastError)
		}
	}
	for _, vendor := range []string{"okta", "entra", "google", "auth0", "keycloak", "onelogin"} {
		if n := e.Sim.Sessions(vendor, "dana@example.com"); n != 0 {
			t.Errorf("%s still holds %d sessions", vendor, n)
		}
	}
}
