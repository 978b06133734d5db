package webhook

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/store"
)

// uiClient is a browser-like client of the operators' page: it keeps
// cookies and does not follow redirects.
type uiClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newUIClient(t *testing.T, base string) *uiClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &uiClient{t: t, base: base, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends one request; a form body is sent as a same-origin browser
// would send it (Sec-Fetch-Site: same-origin).
func (u *uiClient) do(method, path string, form url.Values, header http.Header) (*http.Response, string) {
	u.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(u.t.Context(), method, u.base+path, body)
	if err != nil {
		u.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := u.c.Do(req)
	if err != nil {
		u.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// login logs in with token and answers the response.
func (u *uiClient) login(token string) *http.Response {
	u.t.Helper()
	resp, _ := u.do(http.MethodPost, "/ui/login", url.Values{"token": {token}}, nil)
	return resp
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// csrf reads the form token from a page.
func (u *uiClient) csrf(path string) string {
	u.t.Helper()
	_, body := u.do(http.MethodGet, path, nil, nil)
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		u.t.Fatalf("no csrf token on %s:\n%s", path, body)
	}
	return m[1]
}

func TestUILogin(t *testing.T) {
	s := startSurface(t)
	u := newUIClient(t, s.url)

	resp, _ := u.do(http.MethodGet, "/ui/", nil, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/login" {
		t.Fatalf("GET /ui/ without a session: %d %s, want 303 to the login", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := u.login("not-the-token"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a wrong token: %d, want 401", resp.StatusCode)
	}
	resp = u.login(testAdminToken)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the token: %d, want 303", resp.StatusCode)
	}
	var ck *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == uiCookie {
			ck = c
		}
	}
	switch {
	case ck == nil:
		t.Fatal("no session cookie set")
	case !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/ui/":
		t.Fatalf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/ui/", ck)
	case ck.Secure:
		t.Fatalf("cookie Secure over plain HTTP at 127.0.0.1: browsers would drop it")
	case strings.Contains(ck.Value, testAdminToken):
		t.Fatal("the cookie carries the admin token")
	}
	if resp, body := u.do(http.MethodGet, "/ui/", nil, nil); resp.StatusCode != http.StatusOK || !strings.Contains(body, "<h1>Cases</h1>") {
		t.Fatalf("GET /ui/ logged in: %d\n%s", resp.StatusCode, body)
	}
	if strings.Contains(s.log.String(), testAdminToken) {
		t.Fatal("the admin token is in the log")
	}

	// The same login through a TLS-ending proxy gets a Secure cookie.
	other := newUIClient(t, s.url)
	resp, _ = other.do(http.MethodPost, "/ui/login", url.Values{"token": {testAdminToken}}, http.Header{"X-Forwarded-Proto": {"https"}})
	if len(resp.Cookies()) != 1 || !resp.Cookies()[0].Secure {
		t.Fatalf("behind https: cookies %v, want one Secure", resp.Cookies())
	}

	// Logging out ends the session: the old cookie no longer opens a page.
	old := u.c.Jar.Cookies(mustURL(t, s.url+"/ui/"))
	if resp, _ := u.do(http.MethodPost, "/ui/logout", url.Values{"csrf": {u.csrf("/ui/")}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	replay := newUIClient(t, s.url)
	replay.c.Jar.SetCookies(mustURL(t, s.url+"/ui/"), old)
	if resp, _ := replay.do(http.MethodGet, "/ui/", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a logged-out session's cookie: %d, want 303 to the login", resp.StatusCode)
	}
}

func TestUIForms(t *testing.T) {
	s := manualSurface(t)
	id := s.caseWith("carol@example.com", map[string]offboard.Outcome{"okta": offboard.Verified, "lucid": offboard.ManualRequired})
	u := newUIClient(t, s.url)
	u.login(testAdminToken)
	page := "/ui/cases/" + id
	attest := page + "/entries/lucid/attest"
	token := u.csrf(page)

	for _, tc := range []struct {
		name   string
		form   url.Values
		header http.Header
		want   int
	}{
		{"a form without the csrf token is refused", url.Values{"who": {"Mallory"}}, nil, http.StatusForbidden},
		{"a form with another csrf token is refused", url.Values{"who": {"Mallory"}, "csrf": {strings.Repeat("0", len(token))}}, nil, http.StatusForbidden},
		{"a form from another site is refused", url.Values{"who": {"Mallory"}, "csrf": {token}}, http.Header{"Sec-Fetch-Site": {"cross-site"}}, http.StatusForbidden},
		{"a form without who is 400", url.Values{"csrf": {token}}, nil, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if resp, body := u.do(http.MethodPost, attest, tc.form, tc.header); resp.StatusCode != tc.want {
				t.Fatalf("%d, want %d\n%s", resp.StatusCode, tc.want, body)
			}
		})
	}
	if got := getEntry(t, s, id, "lucid"); got != offboard.ManualRequired {
		t.Fatalf("a refused form changed the entry: %s", got)
	}

	stranger := newUIClient(t, s.url)
	if resp, _ := stranger.do(http.MethodPost, attest, url.Values{"who": {"Mallory"}, "csrf": {token}}, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a form without a session: %d, want 401", resp.StatusCode)
	}

	resp, _ := u.do(http.MethodPost, attest, url.Values{"who": {"Dana"}, "note": {"logged out"}, "csrf": {token}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("attest: %d, want 303", resp.StatusCode)
	}
	if got := getEntry(t, s, id, "lucid"); got != offboard.Attested {
		t.Fatalf("entry %s after the form, want attested", got)
	}
	if resp, body := u.do(http.MethodPost, attest, url.Values{"who": {"Dana"}, "csrf": {token}}, nil); resp.StatusCode != http.StatusConflict ||
		!strings.Contains(body, "attested, not manual_required") {
		t.Fatalf("attesting twice: %d, want 409 naming the outcome\n%s", resp.StatusCode, body)
	}
}

// TestUITokenChange: a server started with another token honours no
// session of the old one.
func TestUITokenChange(t *testing.T) {
	a, b := newUISessions("token-one"), newUISessions("token-two")
	w := &cookieRecorder{h: http.Header{}}
	r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/ui/login", nil)
	a.start(w, r)
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1/ui/", nil)
	req.Header.Set("Cookie", strings.Split(w.h.Get("Set-Cookie"), ";")[0])
	if a.session(req) == "" {
		t.Fatal("the session is not valid under its own token")
	}
	if b.session(req) != "" {
		t.Fatal("a session of the old token is valid under the new one")
	}
	a.now = func() time.Time { return time.Now().Add(uiSessionTTL + time.Minute) }
	if a.session(req) != "" {
		t.Fatal("an expired session is valid")
	}
}

type cookieRecorder struct{ h http.Header }

func (c *cookieRecorder) Header() http.Header         { return c.h }
func (c *cookieRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (c *cookieRecorder) WriteHeader(int)             {}

func getEntry(t *testing.T, s *surface, id, connector string) offboard.Outcome {
	t.Helper()
	cs, err := s.store.GetCase(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range cs.Entries {
		if e.Connector == connector {
			return e.Outcome
		}
	}
	t.Fatalf("no %s entry", connector)
	return ""
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// A pending entry the worker retries shows when it tries again.
func TestUICaseShowsTheNextAttempt(t *testing.T) {
	s := startSurface(t)
	id := s.deliver("next-1", "nora@example.com")
	ctx := t.Context()
	if _, err := s.store.FanOut(ctx, id, map[string]offboard.Outcome{"okta": offboard.Pending}, "worker"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.store.BeginAttempt(ctx, id, "okta"); err != nil {
		t.Fatal(err)
	}
	next := time.Now().Add(3 * time.Minute)
	if err := s.store.RecordAttemptRetry(ctx, store.Attempt{CaseID: id, Connector: "okta", N: 1, StartedAt: time.Now(), StatusCode: 503, Result: "retry"}, "okta: 503", next); err != nil {
		t.Fatal(err)
	}
	u := newUIClient(t, s.url)
	u.login(testAdminToken)
	_, body := u.do(http.MethodGet, "/ui/cases/"+id, nil, nil)
	if !strings.Contains(body, "Next attempt ") {
		t.Fatalf("the case page does not show the next attempt:\n%s", body)
	}
}
