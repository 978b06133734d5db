package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/internal/testenv"
	"github.com/offboarder/offboarder/simulator"
	"github.com/offboarder/offboarder/tasks"
)

// revokingCall tells, per vendor of the simulator, whether a call is the
// one that ends a person's access there: the call a revoke makes once.
var revokingCall = map[string]func(c simulator.Call) bool{
	// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserSessions/#tag/UserSessions/operation/revokeUserSessions
	"okta": func(c simulator.Call) bool {
		return c.Method == http.MethodDelete && strings.HasSuffix(c.Path, "/sessions")
	},
	// https://api.slack.com/methods/admin.users.session.reset
	"slack": func(c simulator.Call) bool { return c.Path == "/api/admin.users.session.reset" },
	// https://docs.github.com/enterprise-cloud@latest/rest/orgs/orgs#remove-a-saml-sso-authorization-for-an-organization
	"github": func(c simulator.Call) bool {
		return c.Method == http.MethodDelete && strings.Contains(c.Path, "/credential-authorizations/")
	},
	// https://lucid.readme.io/v1.0/reference/modifyuserpatch
	"lucid": func(c simulator.Call) bool {
		return c.Method == http.MethodPatch && strings.Contains(c.Path, "/Users/")
	},
}

// TestManyProcesses runs the shipped binary as two `serve` and three
// `work` processes on one PostgreSQL database and one Redis, sends 2,000
// leavers' webhooks spread over both servers, and kills one worker with
// SIGKILL while it has tasks in hand. asynq hands the dead worker's
// tasks on once their lease has been expired for 30 s (its recoverer looks
// once a minute). Then every case is completed; at each vendor every
// (person, system) was revoked once, or twice only where the killed worker
// had that revoke in flight; every entry's outcome was recorded once; and
// the audit chain verifies. It runs from `make test-faults`
// (OFFBOARDER_FAULT_TESTS=1) and logs the figures docs/SCALING.md quotes.
func TestManyProcesses(t *testing.T) {
	if os.Getenv("OFFBOARDER_FAULT_TESTS") == "" {
		t.Skip("SKIP: two to three minutes long; run with make test-faults (OFFBOARDER_FAULT_TESTS=1)")
	}
	const (
		leavers     = 2000
		servers     = 2
		workers     = 3
		concurrency = 16 // each worker's
		senders     = 8  // webhooks in flight, spread over the servers
		latency     = 20 * time.Millisecond
	)
	bin := buildOffboarder(t)
	dbURL := testenv.Postgres(t)
	e := start(t, dbURL, envOptions{noWorker: true, quiet: true})
	e.Sim.Tune(func(o *simulator.Options) { o.Latency = latency })
	emails := make([]string, leavers)
	for i := range emails {
		emails[i] = fmt.Sprintf("leaver%04d@example.com", i)
		e.Sim.AddUser(emails[i], 1)
	}
	cfg := writeConfig(t, map[string]any{
		"sources": []map[string]any{{"name": "hr", "type": "generic", "secret": hrSecret}},
		"worker":  map[string]any{"concurrency": concurrency, "shutdown_timeout": "2s"},
		// Two thousand cases in a minute on purpose: no blast-radius guard.
		"policy": map[string]any{"hold_after": map[string]any{"cases": 1000000, "within": "1s"}},
	}, unlimited([]connectors.Spec{
		{Name: "okta", Type: "okta", Settings: map[string]any{"base_url": e.SimURL + "/okta", "token": oktaToken}},
		{Name: "slack", Type: "slack", Settings: map[string]any{"base_url": e.SimURL + "/slack", "token": "sim-slack-token"}},
		{Name: "github", Type: "github", Settings: map[string]any{"base_url": e.SimURL + "/github", "org": "sim-github-org", "token": "sim-github-token"}},
		{Name: "lucid", Type: "scim", Settings: map[string]any{"base_url": e.SimURL + "/lucid/scim/v2", "token": "sim-lucid-token"}},
	}))
	procEnv := []string{"REDIS_URL=redis://" + e.Redis.Addr, "DATABASE_URL=" + dbURL, "OFFBOARDER_ADMIN_TOKEN=" + adminToken}
	launch := func(cmd string) (*proc, string) {
		addr := freeAddr(t)
		return startProc(t, bin, procEnv, cmd, "--config", cfg, "--addr", addr, "--log-level", "warn"), "http://" + addr
	}
	var urls, all []string // the servers'; every process's
	var procs []*proc
	for i := range servers + workers {
		cmd := "work"
		if i < servers {
			cmd = "serve"
		}
		p, url := launch(cmd)
		procs, all = append(procs, p), append(all, url)
	}
	urls = all[:servers]
	logs := func() string {
		var b strings.Builder
		for i, p := range procs {
			fmt.Fprintf(&b, "--- process %d (pid %d):\n%s", i, p.Pid(), p.Log)
		}
		return b.String()
	}
	for i, url := range all {
		waitReady(t, url, procs[i].Log)
	}
	victim := procs[servers] // the first worker
	db := openSQL(t, dbURL)
	finished := func() int {
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM entries WHERE finished_at IS NOT NULL").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Send: each webhook to one of the servers in turn.
	began := time.Now()
	var (
		next   atomic.Int64
		wg     sync.WaitGroup
		failed atomic.Int64
	)
	sends := make([]*sender, servers)
	for i, url := range urls {
		sends[i] = newSender(url, "many-")
	}
	for range senders {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < leavers; i = next.Add(1) - 1 {
				if _, err := sends[i%servers].post(i, emails[i]); err != nil {
					failed.Add(1)
					t.Errorf("webhook %d: %v", i, err)
				}
			}
		})
	}

	// Kill one worker once a quarter of the revokes is done: the queue is
	// full then, and each worker busy.
	total := leavers * len(revokingCall)
	deadline := time.Now().Add(90 * time.Second)
	for finished() < total/4 {
		if time.Now().After(deadline) {
			t.Fatalf("a quarter of the revokes never finished (%d of %d)\n%s", finished(), total, logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
	victim.Kill(t)
	killedAt, doneAtKill := time.Since(began), finished()
	inFlightAtKill := 0
	for _, c := range e.Sim.Calls() {
		if c.Status == 0 {
			inFlightAtKill++
		}
	}
	wg.Wait()
	sentIn := time.Since(began)
	if failed.Load() > 0 {
		t.Fatalf("%d webhooks were not accepted\n%s", failed.Load(), logs())
	}

	// Wait for every case to complete.
	deadline = time.Now().Add(150 * time.Second)
	for {
		var open int
		if err := db.QueryRow("SELECT COUNT(*) FROM cases WHERE state <> 'completed'").Scan(&open); err != nil {
			t.Fatal(err)
		}
		if open == 0 && finished() == total {
			break
		}
		if time.Now().After(deadline) {
			var states []string
			rows, _ := db.Query("SELECT state, COUNT(*) FROM cases GROUP BY state")
			for rows != nil && rows.Next() {
				var s string
				var n int
				_ = rows.Scan(&s, &n)
				states = append(states, fmt.Sprintf("%s %d", s, n))
			}
			t.Fatalf("cases left open after %s: %d (%s); revokes finished %d of %d\n%s",
				time.Since(began).Round(time.Second), open, strings.Join(states, ", "), finished(), total, logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
	wall := time.Since(began)

	// The dead worker's tasks: those asynq handed on after their lease
	// expired (kept with their last error for tasks.Retention).
	orphans := map[string]bool{}     // email + " " + connector
	orphanCases := map[string]bool{} // the cases of every task handed on
	var orphanOffboards int
	caseEmail := map[string]string{}
	rows, err := db.Query("SELECT id, email FROM cases")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, email string
		if err := rows.Scan(&id, &email); err != nil {
			t.Fatal(err)
		}
		caseEmail[id] = email
	}
	rows.Close()
	for _, q := range []string{tasks.QueueRevoke, tasks.QueueOffboard} {
		for page := 1; ; page++ {
			infos, err := e.Insp.ListCompletedTasks(q, asynq.PageSize(1000), asynq.Page(page))
			if err != nil {
				t.Fatal(err)
			}
			for _, ti := range infos {
				if !strings.Contains(ti.LastErr, asynq.ErrLeaseExpired.Error()) {
					continue
				}
				// ids: offboard:<case>:<effective unix>, revoke:<case>:<connector>
				rest := strings.TrimPrefix(strings.TrimPrefix(ti.ID, "offboard:"), "revoke:")
				i := strings.LastIndexByte(rest, ':')
				orphanCases[rest[:i]] = true
				if q == tasks.QueueOffboard {
					orphanOffboards++
					continue
				}
				orphans[caseEmail[rest[:i]]+" "+rest[i+1:]] = true
			}
			if len(infos) < 1000 {
				break
			}
		}
	}
	if len(orphans)+orphanOffboards == 0 {
		t.Fatalf("no task of the killed worker was handed on: it had nothing in flight\n%s", logs())
	}
	if len(orphans)+orphanOffboards > concurrency {
		t.Errorf("%d revoke and %d offboard tasks handed on after their lease expired: more than the killed worker's concurrency (%d)",
			len(orphans), orphanOffboards, concurrency)
	}
	// When the survivors had done everything but the handed-on cases.
	var steady time.Duration
	rows, err = db.Query("SELECT case_id, finished_at FROM entries")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var at int64
		if err := rows.Scan(&id, &at); err != nil {
			t.Fatal(err)
		}
		if !orphanCases[id] {
			steady = max(steady, time.UnixMicro(at).Sub(began))
		}
	}
	rows.Close()

	// Each (person, system) revoked at the vendor once; twice only where
	// the killed worker had it in flight.
	calls := e.Sim.Calls()
	effective := map[string]int{} // answered by the vendor
	sent := map[string]int{}      // every call, answered or not (499: the caller went away)
	var gone int
	for _, c := range calls {
		is, ok := revokingCall[c.Vendor]
		if !ok || !is(c) {
			continue
		}
		if c.User == "" {
			t.Errorf("a revoking call the simulator could not tie to a person: %+v", c)
			continue
		}
		k := c.User + " " + c.Vendor
		sent[k]++
		if c.Status == 0 || c.Status == 499 {
			gone++
			continue
		}
		effective[k]++
	}
	var doubles []string
	var resent int
	for _, email := range emails {
		for vendor := range revokingCall {
			k := email + " " + vendor
			if sent[k] > 1 {
				resent++
			}
			switch n := effective[k]; {
			case n == 1:
			case n == 2 && orphans[k]:
				doubles = append(doubles, k)
			case n == 2:
				t.Errorf("%s was revoked twice at the vendor, but the killed worker did not have it in flight", k)
			default:
				t.Errorf("%s was revoked %d times at the vendor", k, n)
			}
			if n := e.Sim.Sessions(vendor, email); n != 0 {
				t.Errorf("%s: %d sessions left", k, n)
			}
		}
	}
	slices.Sort(doubles)
	if len(doubles) > len(orphans) {
		t.Errorf("%d doubles, more than the %d revokes the killed worker had in flight", len(doubles), len(orphans))
	}

	// Every entry's outcome recorded once, and the audit chain whole.
	var twice int
	if err := db.QueryRow(`SELECT COUNT(*) FROM (SELECT case_id, connector FROM audit WHERE action = 'entry.outcome'
		GROUP BY case_id, connector HAVING COUNT(*) > 1) x`).Scan(&twice); err != nil {
		t.Fatal(err)
	}
	if twice != 0 {
		t.Errorf("%d entries have more than one recorded outcome", twice)
	}
	var outcomes int
	if err := db.QueryRow("SELECT COUNT(*) FROM audit WHERE action = 'entry.outcome'").Scan(&outcomes); err != nil {
		t.Fatal(err)
	}
	if outcomes != total {
		t.Errorf("%d recorded outcomes, want %d", outcomes, total)
	}
	head, err := e.Store.VerifyAudit(t.Context())
	if err != nil {
		t.Errorf("audit chain: %v", err)
	}
	verify := exec.Command(bin, "cases", "verify", "--url", urls[len(urls)-1])
	verify.Env = append(os.Environ(), "OFFBOARDER_ADMIN_TOKEN="+adminToken)
	if out, err := verify.CombinedOutput(); err != nil {
		t.Errorf("offboarder cases verify: %v\n%s", err, out)
	}

	t.Logf("%d serve + %d work processes (concurrency %d each), PostgreSQL, %d leavers × %d systems at %s a vendor call",
		servers, workers, concurrency, leavers, len(revokingCall), latency)
	t.Logf("webhooks sent in %s; worker pid %d killed at %s with %d of %d revokes finished (%d vendor calls in flight)",
		sentIn.Round(time.Millisecond), victim.Pid(), killedAt.Round(time.Millisecond), doneAtKill, total, inFlightAtKill)
	t.Logf("handed on after lease expiry: %d revoke and %d offboard tasks (%d cases); every other case done at %s (%.0f cases/s)",
		len(orphans), orphanOffboards, len(orphanCases), steady.Round(time.Millisecond), float64(leavers-len(orphanCases))/steady.Seconds())
	t.Logf("every case completed at %s (%.0f cases/s overall); recovery: %s after the kill",
		wall.Round(time.Millisecond), float64(leavers)/wall.Seconds(), (wall - killedAt).Round(time.Millisecond))
	t.Logf("revoking calls: %d pairs sent more than once, %d calls unanswered (caller gone), %d doubles at the vendor %v",
		resent, gone, len(doubles), doubles)
	t.Logf("audit chain verified: seq %d, %d outcomes recorded once each", head.Seq, outcomes)
}
