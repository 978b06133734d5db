package vendorapi

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// MaxRetryAfter caps any wait a vendor asks for, so that a wrong or hostile
// header cannot park a job for days.
const MaxRetryAfter = time.Hour

// maxSummary is the longest vendor summary an error carries, in runes.
const maxSummary = 200

// classify is the one classifier of HTTP answers: it turns a non-2xx status
// into an *Error. what is "METHOD /path" (never a query); vendor is the
// sanitized summary from the vendor's error body, or "".
//
//	network error, 408, 5xx → Transient (Retry-After honoured)
//	429                     → RateLimited (Retry-After, X-Rate-Limit-Reset, X-RateLimit-Reset)
//	401, 403                → Auth: a person must fix credentials or permissions
//	404                     → NotFound: the connector decides whether it means not_found
//	3xx                     → Invalid: redirects are refused (wrong base_url)
//	other 4xx               → Invalid
func classify(name, what string, status int, h http.Header, vendor string, now time.Time) *Error {
	e := &Error{System: name, Status: status}
	var why string
	switch {
	case status == http.StatusRequestTimeout || status >= 500:
		e.Kind, why = Transient, "the vendor failed to complete the request"
		e.RetryAfter = retryAfter(h, now, false)
	case status == http.StatusTooManyRequests:
		e.Kind = RateLimited
		e.RetryAfter = retryAfter(h, now, true)
		why = "rate limited by the vendor"
		if e.RetryAfter > 0 {
			why = "rate limited by the vendor; retry after " + e.RetryAfter.Round(time.Second).String()
		}
	case status == http.StatusUnauthorized:
		e.Kind, why = Auth, "credentials rejected: check that the configured token or client credentials are right for this base_url and are not expired or revoked"
	case status == http.StatusForbidden:
		e.Kind, why = Auth, "missing scope or permission: the credentials are valid but not allowed to do this; grant the admin role or scopes this connector needs"
	case status == http.StatusNotFound:
		e.Kind, why = NotFound, "not found"
	case status >= 300 && status < 400:
		e.Kind, why = Invalid, "unexpected redirect, which is refused: check base_url"
	default:
		e.Kind, why = Invalid, "request rejected as invalid; a person must look"
	}
	e.Msg = what + ": " + why
	if vendor != "" {
		e.Msg += "; vendor said " + strconv.Quote(vendor)
	}
	return e
}

// retryAfter reads the wait a vendor asks for: Retry-After (delta-seconds,
// fractional seconds rounded up, or an HTTP-date) first and, for a rate
// limit, the vendors' reset headers (X-Rate-Limit-Reset as Okta sends it,
// X-RateLimit-Reset), which hold the epoch second at which the window
// resets. A reset value below 1e9 is read as delta-seconds and one above
// 1e12 as epoch milliseconds, as some vendors send. A reset already past
// gives one second; every wait is capped at MaxRetryAfter. 0 means the
// vendor said nothing usable.
func retryAfter(h http.Header, now time.Time, rateLimited bool) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			return capWait(time.Duration(min(n, math.MaxInt64/int64(time.Second))) * time.Second)
		}
		// Microsoft Graph sends fractional seconds ("Retry-After: 2.128",
		// https://learn.microsoft.com/en-us/graph/throttling#sample-response):
		// wait them rounded up.
		if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return capWait(time.Duration(math.Ceil(math.Min(f, MaxRetryAfter.Seconds()))) * time.Second)
		}
		if t, err := http.ParseTime(v); err == nil {
			return capWait(max(t.Sub(now), time.Second))
		}
	}
	if !rateLimited {
		return 0
	}
	for _, k := range []string{"X-Rate-Limit-Reset", "X-RateLimit-Reset"} {
		v := strings.TrimSpace(h.Get(k))
		n, err := strconv.ParseFloat(v, 64)
		if v == "" || err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) {
			continue
		}
		if n < 1e9 { // delta-seconds
			return capWait(max(time.Duration(math.Min(n, MaxRetryAfter.Seconds())*float64(time.Second)), time.Second))
		}
		if n > 1e12 { // epoch milliseconds
			n /= 1000
		}
		if n > 1e11 { // far beyond any sane reset
			return MaxRetryAfter
		}
		sec, frac := math.Modf(n)
		return capWait(max(time.Unix(int64(sec), int64(frac*1e9)).Sub(now), time.Second))
	}
	return 0
}

func capWait(d time.Duration) time.Duration { return min(d, MaxRetryAfter) }

// sanitize makes a vendor's error summary fit for an error message: one line
// of printable text, secrets redacted, cut to maxSummary runes.
func sanitize(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "<redacted>")
		}
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return ' '
		}
		if !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxSummary {
		s = string(r[:maxSummary]) + "…"
	}
	return s
}

// IsKind reports whether err is an *Error of kind k.
func IsKind(err error, k Kind) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && e.Kind == k
}
