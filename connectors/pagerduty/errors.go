package pagerduty

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/offboarder/offboarder/vendorapi"
)

// readError reads PagerDuty's error body, {"error": {"message": "…",
// "code": N, "errors": ["…"]}} [errors][spec], into one short line, e.g.
// `Invalid Input Provided (code 2001): User Id is invalid`. A body that is
// not that shape gives "".
func readError(body []byte) string { return vendorapi.AsRead(decodeError(body)) }

// decodeError is readError before invalid UTF-8 is put back as read.
func decodeError(body []byte) string {
	var e struct {
		Error *struct {
			Message string   `json:"message"`
			Code    *int     `json:"code"`
			Errors  []string `json:"errors"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == nil {
		return ""
	}
	s := strings.TrimSpace(e.Error.Message)
	if e.Error.Code != nil {
		s = strings.TrimSpace(s + " (code " + strconv.Itoa(*e.Error.Code) + ")")
	}
	var details []string
	for _, d := range e.Error.Errors {
		if d = strings.TrimSpace(d); d != "" {
			details = append(details, d)
		}
	}
	if len(details) > 0 {
		if s != "" {
			s += ": "
		}
		s += strings.Join(details, "; ")
	}
	return s
}

// withResetWait returns a copy of hc (nil: the default connector client)
// whose answers carry PagerDuty's rate-limit wait where the shared client
// reads it: PagerDuty answers its rate limit 429 with ratelimit-reset, the
// seconds to wait [limits], which is not one of the headers
// vendorapi.Client reads. On a 429 without Retry-After, it is copied into
// Retry-After; nothing else is changed.
func withResetWait(hc *http.Client) *http.Client {
	if hc == nil {
		hc = vendorapi.NewHTTPClient()
	}
	own := *hc
	base := own.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	own.Transport = resetWait{base: base}
	return &own
}

type resetWait struct{ base http.RoundTripper }

func (t resetWait) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "" {
		return resp, err
	}
	if v := strings.TrimSpace(resp.Header.Get("ratelimit-reset")); v != "" {
		if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 {
			resp.Header.Set("Retry-After", v)
		}
	}
	return resp, nil
}
