package vendorapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/sethvargo/go-retry"
	"golang.org/x/oauth2"
)

// Limits of the shared HTTP layer.
const (
	// DefaultTimeout bounds one request (connect, send, answer, body) when
	// ClientOptions.Timeout is zero.
	DefaultTimeout = 30 * time.Second
	// MaxShortWait is the longest rate-limit wait the Client sits out inside
	// one attempt; anything longer goes back to the job queue.
	MaxShortWait = 2 * time.Second
	// maxShortRetries is how many times one call is retried after a short wait.
	maxShortRetries = 2
	// minAttemptBudget is what must be left of the caller's deadline after a
	// short wait for the retry to be worth sending.
	minAttemptBudget = time.Second
	// maxBody caps a success body that is decoded; maxErrorBody caps an
	// error body read for the vendor's summary.
	maxBody      = 4 << 20
	maxErrorBody = 64 << 10
	userAgent    = "offboarder"
)

// ClientOptions are what a connector tells its Client.
type ClientOptions struct {
	// Timeout bounds each request; zero means DefaultTimeout.
	Timeout time.Duration
	// Auth sets the credentials on every request's headers.
	Auth func(h http.Header)
	// Token fetches an OAuth access token (e.g. clientcredentials.Config.Token,
	// or a jwt.Config's TokenSource(ctx).Token). When set, the Client caches
	// the token until a minute before it expires, sends it as
	// "Authorization: Bearer …", drops it on a 401, and classifies a failure
	// of the token endpoint like any answer (an *oauth2.RetrieveError's
	// status: 400/401 invalid_client → Auth, 5xx → Transient). ctx carries the
	// Client's *http.Client under oauth2.HTTPClient, so the token request
	// obeys the same timeouts and redirect rule.
	Token func(ctx context.Context) (*oauth2.Token, error)
	// Authorize puts Token's token on a request; nil sends it as
	// "Authorization: Bearer …". A DPoP-bound token needs a proof per
	// request (dpop.go).
	Authorize func(req *http.Request, tok *oauth2.Token) error
	// Answered sees the status and headers of every answer to a request
	// that carried Token's token; again true sends that request once more
	// at once (a 401 that asks for a DPoP nonce, dpop.go), and the token
	// is kept. Nil sees nothing.
	Answered func(status int, h http.Header) (again bool)
	// VendorError returns the short summary in a vendor's error body (e.g.
	// Okta's errorCode and errorSummary), or "" if there is none. Its answer
	// is sanitized and cut short before it reaches an error.
	VendorError func(body []byte) string
	// RateLimited reports whether an error answer other than a 429 is the
	// vendor's rate limit all the same, read from its status and body
	// (Google answers some rate limits 403 with reason rateLimitExceeded).
	// Such an answer is classified as a 429 would be (RateLimited, its wait
	// read from the same headers) and keeps its own status. Nil means that
	// only a 429 is a rate limit.
	RateLimited func(status int, body []byte) bool
	// NotFound reports whether an error answer other than a 404 is the
	// vendor's "no such thing" all the same, read from its status and body
	// (Dropbox answers 409 with an error tag such as member_not_found).
	// Such an answer is classified as a 404 would be (NotFound) and keeps
	// its own status. Nil means that only a 404 is.
	NotFound func(status int, body []byte) bool
	// Refine reads an error answer's body for what its status alone does
	// not tell (RFC 8935 answers every refused security event token 400,
	// with an "err" code saying why). When it answers ok, the error gets
	// kind and, in place of the shared layer's reason, why (the vendor's
	// summary is still appended); a retryAfter over zero replaces the
	// wait. Nil refines nothing.
	Refine func(status int, body []byte) (kind Kind, why string, retryAfter time.Duration, ok bool)
	// Secrets are values that must never appear in error text; they are
	// redacted from vendor summaries.
	Secrets []string
	// Logger is used when the request context carries no zerolog logger.
	Logger zerolog.Logger
}

// Client is the one HTTP client every connector uses. It only ever talks to
// its configured base URL (it refuses redirects), bounds each request, sends
// User-Agent "offboarder", decodes JSON answers, classifies every failure
// into an *Error and sits out short rate limits inside one attempt. It is
// safe for concurrent use.
type Client struct {
	name string
	base *url.URL
	hc   *http.Client
	o    ClientOptions

	mu  sync.Mutex // guards tok; held while fetching, so one fetch at a time
	tok *oauth2.Token
}

// Request is one call: a method, an escaped path below the base URL (e.g.
// "/api/v1/users/" + url.PathEscape(id)), a query and an optional body that
// is sent as JSON, or sent as it is when Raw is set.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Body   any
	// Raw, when not nil, is the body as it is sent (Body is then ignored),
	// with ContentType as its Content-Type, e.g. a signed token.
	Raw         []byte
	ContentType string
	// Answer, when not nil, receives the headers of a 2xx answer (Okta
	// pages by a Link header).
	Answer *http.Header
}

// maxIdlePerHost is how many connections to one vendor host a connector
// keeps open between calls. Revokes run side by side (the worker's
// concurrency, 100 by default), so after a burst that many connections
// were in use; with fewer kept, every burst dials again (and on a real
// vendor pays a TLS handshake per connection). Idle ones close after the
// transport's IdleConnTimeout (90 s).
const maxIdlePerHost = 100

// NewHTTPClient returns the default *http.Client for connectors: bounded
// dial, TLS handshake and header waits, connections kept for the next
// burst, and an outer timeout as a last guard.
func NewHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = DefaultTimeout
	t.MaxIdleConns = 2 * maxIdlePerHost // the API host and the token endpoint's
	t.MaxIdleConnsPerHost = maxIdlePerHost
	return &http.Client{Transport: t, Timeout: 2 * time.Minute}
}

// NewClient returns a Client for the connector name that talks only to
// baseURL, an absolute http or https URL without credentials, query or
// fragment. A nil hc means NewHTTPClient(). hc is copied, never changed.
func NewClient(name, baseURL string, hc *http.Client, o ClientOptions) (*Client, error) {
	if err := CheckURL(baseURL); err != nil {
		return nil, fmt.Errorf("%s: base_url: %w", name, err)
	}
	base, _ := url.Parse(baseURL) // checked above
	if hc == nil {
		hc = NewHTTPClient()
	}
	own := *hc
	// A redirect would take the credentials elsewhere: answer it as it is.
	own.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	return &Client{name: name, base: base, hc: &own, o: o}, nil
}

// Do sends r and, on a 2xx answer, decodes its JSON body into out (unless
// out is nil or the answer is 204). It returns the HTTP status and, for
// anything else, an *Error classified once, here. A 429 whose wait is at
// most MaxShortWait and fits the context deadline is waited out and retried
// at most twice; every other failure goes back to the caller at once. When
// ctx ends, Do returns promptly with an *Error wrapping ctx.Err().
func (c *Client) Do(ctx context.Context, r Request, out any) (int, error) {
	what := r.Method + " " + r.Path
	u, err := c.url(r.Path, r.Query)
	if err != nil {
		return 0, &Error{System: c.name, Kind: Invalid, Msg: what + ": " + err.Error()}
	}
	var body []byte
	contentType := "application/json"
	if r.Raw != nil {
		body, contentType = r.Raw, r.ContentType
	} else if r.Body != nil {
		if body, err = json.Marshal(r.Body); err != nil {
			return 0, &Error{System: c.name, Kind: Invalid, Msg: what + ": cannot encode the request body", Err: err}
		}
	}
	var status int
	var last *Error
	// A fresh backoff per call: go-retry backoffs are stateful.
	waits := retry.WithMaxRetries(maxShortRetries, retry.BackoffFunc(func() (time.Duration, bool) {
		return last.RetryAfter, false
	}))
	err = retry.Do(ctx, waits, func(ctx context.Context) error {
		var e *Error
		status, e = c.once(ctx, what, r.Method, u, body, contentType, out, r.Answer, false)
		switch {
		case e == nil:
			return nil
		case fitsShortWait(ctx, e):
			last = e
			c.Logger(ctx).Info().Str("connector", c.name).Dur("retry_after", e.RetryAfter).
				Msg("rate limited; waiting it out inside this attempt")
			return retry.RetryableError(e)
		}
		return e
	})
	var e *Error
	if err != nil && !errors.As(err, &e) {
		// ctx ended before a request or during a short wait.
		return status, &Error{System: c.name, Kind: Transient, Msg: what + ": stopped", Err: ctx.Err()}
	}
	return status, err
}

// once sends one request and classifies its result. An answer that
// ClientOptions.Answered wants sent again is, once (resent marks that
// second sending).
func (c *Client) once(ctx context.Context, what, method string, u *url.URL, body []byte, contentType string, out any, answer *http.Header, resent bool) (int, *Error) {
	rctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(rctx, method, u.String(), rd)
	if err != nil {
		// The error text would hold the URL; say only what failed.
		return 0, &Error{System: c.name, Kind: Invalid, Msg: what + ": cannot build the request"}
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "application/json")
	if body != nil && contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.o.Auth != nil {
		c.o.Auth(req.Header)
	}
	if c.o.Token != nil {
		tok, e := c.token(ctx, rctx, what)
		if e != nil {
			return 0, e
		}
		if c.o.Authorize == nil {
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		} else if err := c.o.Authorize(req, tok); err != nil {
			return 0, &Error{System: c.name, Kind: Invalid, Msg: what + ": cannot present the access token: " + err.Error()}
		}
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, c.netErr(ctx, rctx, what, err)
	}
	defer resp.Body.Close()
	c.Logger(ctx).Debug().Str("connector", c.name).Str("method", method).Str("path", u.EscapedPath()).
		Int("status_code", resp.StatusCode).Dur("duration", time.Since(start)).Msg("connector request")

	if c.o.Token != nil && c.o.Answered != nil && c.o.Answered(resp.StatusCode, resp.Header) && !resent {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody)) // keep the connection reusable
		return c.once(ctx, what, method, u, body, contentType, out, answer, true)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		vendor := ""
		if c.o.VendorError != nil && len(raw) > 0 {
			vendor = sanitize(c.o.VendorError(raw), c.o.Secrets)
		}
		if vendor == "" { // a refused token or proof may say why only in its challenge
			vendor = sanitize(challengeError(resp.Header.Get("WWW-Authenticate")), c.o.Secrets)
		}
		if resp.StatusCode == http.StatusUnauthorized {
			c.dropToken()
		}
		as := resp.StatusCode
		if c.o.RateLimited != nil && as != http.StatusTooManyRequests && c.o.RateLimited(as, raw) {
			as = http.StatusTooManyRequests
		} else if c.o.NotFound != nil && as != http.StatusNotFound && c.o.NotFound(as, raw) {
			as = http.StatusNotFound
		}
		e := classify(c.name, what, as, resp.Header, vendor, time.Now())
		e.Status = resp.StatusCode
		if c.o.Refine != nil {
			if kind, why, wait, ok := c.o.Refine(resp.StatusCode, raw); ok {
				e.Kind, e.Msg = kind, what+": "+why
				if vendor != "" {
					e.Msg += "; vendor said " + strconv.Quote(vendor)
				}
				if wait > 0 {
					e.RetryAfter = capWait(wait)
				}
			}
		}
		return resp.StatusCode, e
	}
	if answer != nil {
		*answer = resp.Header.Clone()
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody)) // keep the connection reusable
		return resp.StatusCode, nil
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return resp.StatusCode, c.netErr(ctx, rctx, what, err)
	}
	if len(raw) > maxBody {
		return resp.StatusCode, &Error{System: c.name, Kind: Invalid, Status: resp.StatusCode,
			Msg: what + ": answer larger than 4 MiB"}
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return resp.StatusCode, &Error{System: c.name, Kind: Invalid, Status: resp.StatusCode,
			Msg: what + ": answer is not the expected json; check base_url", Err: err}
	}
	return resp.StatusCode, nil
}

// netErr classifies a failure without an HTTP answer. *url.Error is
// unwrapped because its text holds the full URL, query and all.
func (c *Client) netErr(ctx, rctx context.Context, what string, err error) *Error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	if te, ok := Turn(err); ok && ctx.Err() == nil {
		// The connector's rate_limit gave no turn before the deadline:
		// nothing was sent; the work waits, like a vendor's 429.
		return &Error{System: c.name, Kind: RateLimited, RetryAfter: te.After, Msg: what + ": waiting for a turn (rate_limit)", Err: te}
	}
	e := &Error{System: c.name, Kind: Transient, Err: err}
	switch {
	case ctx.Err() != nil:
		e.Msg, e.Err = what+": stopped", ctx.Err()
	case rctx.Err() != nil:
		e.Msg, e.Err = fmt.Sprintf("%s: no answer within %s", what, c.o.Timeout), rctx.Err()
	default:
		e.Msg = what + ": request failed"
	}
	return e
}

// url joins an escaped path to the base URL. The path must be only a path:
// no scheme, host, query, fragment, "." or ".." segment can take a request
// away from the base URL.
func (c *Client) url(p string, q url.Values) (*url.URL, error) {
	ref, err := url.Parse(p)
	if err != nil || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") ||
		ref.Scheme != "" || ref.Host != "" || ref.User != nil || ref.RawQuery != "" || ref.Fragment != "" {
		return nil, errors.New("not a path below base_url")
	}
	for seg := range strings.SplitSeq(ref.Path, "/") {
		if seg == "." || seg == ".." {
			return nil, errors.New("not a path below base_url")
		}
	}
	u := *c.base
	u.Path = strings.TrimSuffix(c.base.Path, "/") + ref.Path
	u.RawPath = strings.TrimSuffix(c.base.EscapedPath(), "/") + ref.EscapedPath()
	u.RawQuery = q.Encode()
	return &u, nil
}

// logger is the request context's logger, or the Client's own.
// Logger returns the logger of ctx, or the ClientOptions.Logger when ctx
// carries none.
func (c *Client) Logger(ctx context.Context) *zerolog.Logger {
	if l := zerolog.Ctx(ctx); l.GetLevel() != zerolog.Disabled {
		return l
	}
	return &c.o.Logger
}

// fitsShortWait reports whether e is a rate limit short enough to sit out
// inside this attempt, with time left for the retry.
func fitsShortWait(ctx context.Context, e *Error) bool {
	if e.Kind != RateLimited || e.RetryAfter <= 0 || e.RetryAfter > MaxShortWait {
		return false
	}
	if _, ok := Turn(e); ok {
		return false // the rate_limit already waited as long as the deadline allows
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < e.RetryAfter+minAttemptBudget {
		return false
	}
	return true
}
