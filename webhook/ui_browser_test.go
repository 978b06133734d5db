package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/tasks"
)

// The operators' page in a real browser: Debian's chromium, driven over the
// DevTools protocol by chromedp. make test installs chromium where it is
// missing (as it does redis-server); OFFBOARDER_CHROMIUM names another
// binary. UI_SCREENSHOT=path saves the case page's screenshot there (the
// README's docs/case-page.png).

// chromium finds the browser, or skips the test saying why.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("OFFBOARDER_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH (make test installs Debian's chromium with apt-get; OFFBOARDER_CHROMIUM names another binary): browser tests skipped")
	return ""
}

// browser starts a headless chromium for the test and answers a context
// that drives its first tab.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, // tests may run as root, where chromium's sandbox refuses to start
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("lang", "en-US"),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(cancelTab)
	ctx, cancelTime := context.WithTimeout(ctx, 45*time.Second)
	t.Cleanup(cancelTime)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// run runs browser actions or fails the test naming the step.
func run(t *testing.T, ctx context.Context, step string, actions ...chromedp.Action[chromedp.Void]) string {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatalf("%s: read the page: %v", step, err)
	}
	return text
}

// deliver sends the hr source a signed webhook for email, as a sender
// would, and answers the case id.
func (s *surface) deliver(id, email string) string {
	s.t.Helper()
	b, _ := json.Marshal(sources.GenericBody{ID: id, Email: email, Reason: offboard.ReasonTerminated})
	code, body := s.send(http.MethodPost, "/webhooks/hr", http.Header{"Content-Type": {"application/json"},
		sources.SignatureHeader: {sources.SignatureValue(time.Now(), b, []byte(testHRSecret))}}, string(b))
	var res struct {
		CaseID string `json:"case_id"`
	}
	if err := json.Unmarshal([]byte(body), &res); code != http.StatusAccepted || err != nil {
		s.t.Fatalf("webhook: %d %s", code, body)
	}
	return res.CaseID
}

// work does to a case what the worker would: an entry per system, each
// attempted and answered as given (a failure after a retry).
func (s *surface) work(id string, outcomes map[string]offboard.Outcome, details map[string]string) {
	s.t.Helper()
	ctx := s.t.Context()
	pending := map[string]offboard.Outcome{}
	for k := range outcomes {
		pending[k] = offboard.Pending
	}
	if _, err := s.store.FanOut(ctx, id, pending, "worker"); err != nil {
		s.t.Fatal(err)
	}
	for k, o := range outcomes {
		if _, _, err := s.store.BeginAttempt(ctx, id, k); err != nil {
			s.t.Fatal(err)
		}
		if o == offboard.Failed {
			if err := s.store.RecordRetry(ctx, id, k, k+": 503 Service Unavailable, retrying"); err != nil {
				s.t.Fatal(err)
			}
			if _, _, err := s.store.BeginAttempt(ctx, id, k); err != nil {
				s.t.Fatal(err)
			}
		}
		if _, err := s.store.RecordOutcome(ctx, id, k, o, details[k]); err != nil {
			s.t.Fatal(err)
		}
	}
}

func TestUIInBrowser(t *testing.T) {
	s := startSurfaceWith(t, func(o *Options) {
		o.Connectors = []string{"okta", "google", "slack", "github", "lucid-logout"}
	})
	alice := s.deliver("hr-1001", "alice@example.com")
	s.work(alice, map[string]offboard.Outcome{
		"okta": offboard.Verified, "google": offboard.Verified, "slack": offboard.Acknowledged,
		"github": offboard.Failed, "lucid-logout": offboard.ManualRequired,
	}, map[string]string{
		"okta":         "ended 3 sessions; re-read: none left",
		"google":       "signed out of 2 devices; re-read: none left",
		"slack":        "sessions reset",
		"github":       "github: 403 Forbidden: the token lacks admin:org (give it the scope, then retry)",
		"lucid-logout": "Lucid admin panel → Users → select the user → Log out user",
	})
	bob := s.deliver("hr-1002", "bob@example.com")
	s.work(bob, map[string]offboard.Outcome{"okta": offboard.Verified, "lucid-logout": offboard.ManualRequired},
		map[string]string{"lucid-logout": "Lucid admin panel → Users → Log out user"})

	ctx := browser(t)
	var text string

	// Without the token: the pages send the browser to the login, and a
	// wrong token is refused.
	text = run(t, ctx, "open the page logged out",
		chromedp.Navigate(s.url+"/ui/cases/"+alice), chromedp.WaitVisible(chromedp.ID("token")))
	if strings.Contains(text, "alice@example.com") {
		t.Fatalf("a case shown without a session:\n%s", text)
	}
	text = run(t, ctx, "log in with a wrong token",
		chromedp.SendKeys(chromedp.ID("token"), "not-the-token"), chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.CSS(".error")))
	if !strings.Contains(text, "not the admin token") {
		t.Fatalf("a wrong token: page says\n%s", text)
	}

	// Logged in: the cases, one chip per system.
	text = run(t, ctx, "log in",
		chromedp.SendKeys(chromedp.ID("token"), testAdminToken), chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.CSS("table.cases")))
	for _, want := range []string{"alice@example.com", "bob@example.com", "needs_attention", "github", "lucid-logout"} {
		if !strings.Contains(text, want) {
			t.Fatalf("cases page lacks %q:\n%s", want, text)
		}
	}
	text = run(t, ctx, "filter by email",
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "bob@example.com"), chromedp.Submit(chromedp.CSS(`input[name="email"]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="email"][value="bob@example.com"]`)))
	if strings.Contains(text, "alice@example.com") || !strings.Contains(text, "bob@example.com") {
		t.Fatalf("filtered by bob: page says\n%s", text)
	}

	// A case: attest its manual step.
	text = run(t, ctx, "open alice's case",
		chromedp.Navigate(s.url+"/ui/cases/"+alice), chromedp.WaitVisible(chromedp.CSS("table.entries")))
	for _, want := range []string{"the token lacks admin:org", "503 Service Unavailable", "entry.outcome", "Attest lucid-logout"} {
		if !strings.Contains(text, want) {
			t.Fatalf("case page lacks %q:\n%s", want, text)
		}
	}
	text = run(t, ctx, "attest the manual step",
		chromedp.SendKeys(chromedp.CSS(`form.attest input[name="who"]`), "Dana Ops"),
		chromedp.SendKeys(chromedp.CSS(`form.attest input[name="note"]`), "logged out in the Lucid admin panel"),
		chromedp.Click(chromedp.CSS(`form.attest button`)),
		chromedp.WaitVisible(chromedp.CSS(".done")))
	if getEntry(t, s, alice, "lucid-logout") != offboard.Attested || !strings.Contains(text, "Dana Ops") {
		t.Fatalf("after attesting: entry %s, page\n%s", getEntry(t, s, alice, "lucid-logout"), text)
	}
	// Retry the failed entry: pending again, its revoke queued.
	text = run(t, ctx, "retry the failed entry",
		chromedp.Navigate(s.url+"/ui/cases/"+alice), chromedp.WaitVisible(chromedp.CSS("table.entries")),
		chromedp.SendKeys(chromedp.CSS(`form[action$="/github/retry"] input[name="who"]`), "Dana Ops"),
		chromedp.Click(chromedp.CSS(`form[action$="/github/retry"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".done")))
	if getEntry(t, s, alice, "github") != offboard.Pending || !strings.Contains(text, "Queued again") {
		t.Fatalf("after retrying: entry %s, page\n%s", getEntry(t, s, alice, "github"), text)
	}
	if _, err := s.insp.GetTaskInfo(tasks.QueueRevoke, tasks.RevokeID(alice, "github")); err != nil {
		t.Fatalf("the retried revoke is not queued: %v", err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot the case page: %v", err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("screenshot is not an image (%d bytes)", len(png))
	}
	if p := os.Getenv("UI_SCREENSHOT"); p != "" {
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// A form on a page of another origin (another port on loopback)
	// posting to /ui/, even with the right form token, is refused.
	token := strings.TrimPrefix(csrfRE.FindString(s.pageHTML(t, ctx)), `name="csrf" value="`)
	token = strings.TrimSuffix(token, `"`)
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><form method="post" action="%s/ui/cases/%s/entries/lucid-logout/attest">
<input type="hidden" name="csrf" value="%s"><input type="hidden" name="who" value="Mallory">
<button id="go" type="submit">win a prize</button></form>`, s.url, bob, token)
	}))
	t.Cleanup(evil.Close)
	run(t, ctx, "open another origin's page", chromedp.Navigate(evil.URL))
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("go")))
	if err != nil {
		t.Fatalf("post from another origin: %v", err)
	}
	text = run(t, ctx, "read the answer")
	if resp.Status != http.StatusForbidden || !strings.Contains(text, "cross-site request refused") ||
		getEntry(t, s, bob, "lucid-logout") != offboard.ManualRequired {
		t.Fatalf("a cross-origin form: %d, entry %s, page\n%s", resp.Status, getEntry(t, s, bob, "lucid-logout"), text)
	}

	// The manual steps, the chart, and logging out.
	text = run(t, ctx, "open the manual steps",
		chromedp.Navigate(s.url+"/ui/manual"), chromedp.WaitVisible(chromedp.CSS("main table")))
	if !strings.Contains(text, "bob@example.com") || strings.Contains(text, "alice@example.com") {
		t.Fatalf("manual steps page:\n%s", text)
	}
	text = run(t, ctx, "open the time to revoke",
		chromedp.Navigate(s.url+"/ui/times"), chromedp.WaitVisible(chromedp.CSS("svg.chart")))
	if !strings.Contains(text, "okta") {
		t.Fatalf("time to revoke page:\n%s", text)
	}
	run(t, ctx, "log out",
		chromedp.Click(chromedp.CSS("form.logout button")), chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.Navigate(s.url+"/ui/cases/"+alice), chromedp.WaitVisible(chromedp.ID("token")))
}

// pageHTML is the current page's HTML.
func (s *surface) pageHTML(t *testing.T, ctx context.Context) string {
	t.Helper()
	h, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		t.Fatalf("read the page: %v", err)
	}
	return h
}

// TestUIApprovesAHeldBatch: the blast-radius guard held two cases; a person
// logs in, lists the cases awaiting approval and releases them with the
// page's button: both are pending again, their offboard tasks queued.
func TestUIApprovesAHeldBatch(t *testing.T) {
	s := startSurface(t)
	s.store.SetGuard(&store.Guard{Cases: 0, Within: time.Hour})
	ids := []string{s.deliver("hr-2001", "dave@example.com"), s.deliver("hr-2002", "erin@example.com")}
	for _, id := range ids {
		if c, err := s.store.GetCase(t.Context(), id); err != nil || c.State != offboard.StateAwaitingApproval {
			t.Fatalf("case %s before approval: %v, %v", id, c, err)
		}
	}
	ctx := browser(t)
	run(t, ctx, "log in",
		chromedp.Navigate(s.url+"/ui/login"), chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), testAdminToken), chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.CSS("table.cases")))
	text := run(t, ctx, "list the held cases",
		chromedp.Navigate(s.url+"/ui/?state=awaiting_approval"), chromedp.WaitVisible(chromedp.CSS("form.approve")))
	if !strings.Contains(text, "dave@example.com") || !strings.Contains(text, "erin@example.com") {
		t.Fatalf("held cases page:\n%s", text)
	}
	run(t, ctx, "release them",
		chromedp.SendKeys(chromedp.CSS(`form.approve input[name="who"]`), "Dana Ops"),
		chromedp.Click(chromedp.CSS(`form.approve button`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="email"][value=""]`)))
	for _, id := range ids {
		c, err := s.store.GetCase(t.Context(), id)
		if err != nil || c.State != offboard.StatePending {
			t.Fatalf("case %s after approval: %v, %v", id, c, err)
		}
		if _, err := s.insp.GetTaskInfo(tasks.QueueOffboard, tasks.OffboardID(id, c.EffectiveAt)); err != nil {
			t.Errorf("case %s: offboard task not queued: %v", id, err)
		}
	}
}
