package webhook

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/rs/zerolog"
)

// The operators' page at /ui/: server-rendered HTML (html/template, the
// templates and the stylesheet embedded, no script), behind a login with
// the admin token (ui_session.go). Reading pages: the cases (filtered,
// paged, one chip per system), a case (its systems, events, timeline and
// related cases, with its buttons), the open manual steps, and the time
// to revoke per system. Every form posts back under /ui/ with the
// session's CSRF token, past the same cross-site refusal as /v1, and its
// handler calls the store function the matching /v1 route calls.

//go:embed ui
var uiFiles embed.FS

// uiForm is one write the pages offer: a POST route under /ui/ and the
// name a template asks for (.Can.name) before it shows the button.
type uiForm struct {
	name, path string
	handle     gin.HandlerFunc
}

// uiForms lists the writes the pages offer. A write is listed once its
// store function exists; a template shows a button only for what is
// listed here.
func (u *ui) forms() []uiForm {
	return []uiForm{
		{"attest", "/cases/:id/entries/:connector/attest", u.attest},
		{"retry", "/cases/:id/entries/:connector/retry", u.retry},
		{"cancel", "/cases/:id/cancel", u.cancel},
		{"approve", "/approvals", u.approve},
	}
}

// ui holds the page's templates and sessions.
type ui struct {
	s        *Server
	sessions *uiSessions
	pages    map[string]*template.Template
	can      map[string]bool
	css      []byte
}

// newUI parses the embedded templates (a broken one is a bug, caught by
// every test that builds a server).
func newUI(s *Server) *ui {
	u := &ui{s: s, sessions: newUISessions(s.opts.AdminToken), pages: map[string]*template.Template{}, can: map[string]bool{}}
	for _, p := range []string{"login", "cases", "case", "manual", "times"} {
		u.pages[p] = template.Must(template.New("layout.html").Funcs(uiFuncs).
			ParseFS(uiFiles, "ui/layout.html", "ui/"+p+".html"))
	}
	u.css, _ = uiFiles.ReadFile("ui/style.css")
	return u
}

// mountUI serves the operators' page under /ui/.
func (s *Server) mountUI() {
	u := newUI(s)
	g := s.engine.Group("/ui", refuseCrossSite(s.cop), uiHeaders)
	g.GET("/style.css", func(c *gin.Context) {
		c.Header("Cache-Control", "max-age=3600")
		c.Data(http.StatusOK, "text/css; charset=utf-8", u.css)
	})
	g.GET("/login", u.loginPage)
	g.POST("/login", u.login)
	in := g.Group("", u.requireSession)
	in.GET("/", u.casesPage)
	in.GET("/cases/:id", u.casePage)
	in.GET("/manual", u.manualPage)
	in.GET("/times", u.timesPage)
	in.POST("/logout", u.checkCSRF, u.logout)
	for _, f := range u.forms() {
		u.can[f.name] = true
		in.POST(f.path, u.checkCSRF, f.handle)
	}
}

// uiHeaders keeps the pages out of frames, caches and other origins'
// reach: no script runs, styles and forms stay on this origin.
func uiHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	c.Next()
}

// requireSession lets a request with a valid session through; a page
// asked for without one is sent to the login form, a form posted without
// one is refused (401).
func (u *ui) requireSession(c *gin.Context) {
	id := u.sessions.session(c.Request)
	if id == "" {
		if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
			c.Redirect(http.StatusSeeOther, "/ui/login")
			c.Abort()
			return
		}
		zerolog.Ctx(c.Request.Context()).Warn().Str("path", c.Request.URL.Path).Msg("ui form without a session refused")
		u.fail(c, http.StatusUnauthorized, "Log in first: this form needs a session.")
		return
	}
	c.Set("ui_session", id)
	c.Next()
}

// checkCSRF refuses a form whose csrf field is not the session's (403).
func (u *ui) checkCSRF(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 64<<10)
	if !u.sessions.checkCSRF(c.GetString("ui_session"), c.PostForm("csrf")) {
		zerolog.Ctx(c.Request.Context()).Warn().Str("path", c.Request.URL.Path).Msg("ui form with a bad csrf token refused")
		u.fail(c, http.StatusForbidden, "This form is stale or came from elsewhere: reload the page and try again.")
		return
	}
	c.Next()
}

// uiView is what every page's template gets.
type uiView struct {
	Title string
	Nav   string          // the menu item to mark
	CSRF  string          // the session's form token; "" when logged out
	Can   map[string]bool // the writes offered (uiForms)
	Error string          // a problem to show above the page
	Data  any
}

// render writes page with data, or a 500 if the template fails.
func (u *ui) render(c *gin.Context, status int, page string, v uiView) {
	if id := c.GetString("ui_session"); id != "" {
		v.CSRF = u.sessions.csrf(id)
	}
	v.Can = u.can
	var b bytes.Buffer
	if err := u.pages[page].Execute(&b, v); err != nil {
		zerolog.Ctx(c.Request.Context()).Error().Err(err).Str("page", page).Msg("render ui page")
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("internal error"))
		return
	}
	c.Data(status, "text/html; charset=utf-8", b.Bytes())
}

// fail answers a short page naming the problem.
func (u *ui) fail(c *gin.Context, status int, msg string) {
	u.render(c, status, "login", uiView{Title: http.StatusText(status), Error: msg, Data: loginData{Failed: true}})
	c.Abort()
}

// loginData tells the login template what to show.
type loginData struct {
	Failed   bool // a page shown for a refusal: no form, a link to the login
	NoToken  bool // the admin token is not set: nobody can log in
	LoggedIn bool
}

func (u *ui) loginPage(c *gin.Context) {
	d := loginData{NoToken: u.s.opts.AdminToken == "", LoggedIn: u.sessions.session(c.Request) != ""}
	u.render(c, http.StatusOK, "login", uiView{Title: "Log in", Data: d})
}

// login takes the admin token from the form (constant-time compare) and
// starts a session: 303 to the cases. A wrong token is 401; with no token
// configured, 403.
func (u *ui) login(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 16<<10)
	if u.s.opts.AdminToken == "" {
		u.render(c, http.StatusForbidden, "login", uiView{Title: "Log in", Data: loginData{NoToken: true}})
		return
	}
	if !checkToken(u.s.opts.AdminToken, c.PostForm("token")) {
		zerolog.Ctx(c.Request.Context()).Warn().Msg("ui login with a wrong token refused")
		u.render(c, http.StatusUnauthorized, "login", uiView{Title: "Log in", Error: "That is not the admin token.", Data: loginData{}})
		return
	}
	u.sessions.start(c.Writer, c.Request)
	zerolog.Ctx(c.Request.Context()).Info().Msg("ui session started")
	c.Redirect(http.StatusSeeOther, "/ui/")
}

func (u *ui) logout(c *gin.Context) {
	u.sessions.end(c.Writer, c.Request, c.GetString("ui_session"))
	c.Redirect(http.StatusSeeOther, "/ui/login")
}
