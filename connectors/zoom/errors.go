package zoom

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/offboarder/offboarder/vendorapi"
)

// readError reads Zoom's error body, {"code":1001,"message":"User does not
// exist: …"} [errors], into "code 1001: User does not exist: …"; "" when
// the body is not one. The shared client sanitizes and shortens it.
func readError(body []byte) string { return vendorapi.AsRead(decodeError(body)) }

// decodeError is readError before invalid UTF-8 is put back as read.
func decodeError(body []byte) string {
	var e struct {
		Code    json.RawMessage `json:"code"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	code := ""
	if n, err := strconv.ParseInt(string(e.Code), 10, 64); err == nil {
		code = "code " + strconv.FormatInt(n, 10)
	}
	msg := strings.TrimSpace(e.Message)
	if len(msg) > 300 {
		msg = msg[:300]
	}
	switch {
	case code != "" && msg != "":
		return code + ": " + msg
	case code != "":
		return code
	}
	return msg
}

// qpsWait is the wait of a per-second (QPS) rate limit answered without
// Retry-After: Zoom counts those limits per second [rate-limits].
const qpsWait = "1"

// withZoomWaits returns hc with a transport that puts Zoom's rate-limit
// answers in the form the shared client reads [rate-limits]: the
// Retry-After of a daily limit, a date such as 2020-05-31T00:00:00Z, is
// rewritten as an HTTP-date; a per-second limit without Retry-After gets
// one second. Every other answer passes unchanged. A nil hc is the shared
// default client.
func withZoomWaits(hc *http.Client) *http.Client {
	if hc == nil {
		hc = vendorapi.NewHTTPClient()
	}
	own := *hc
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	own.Transport = zoomWaits{base: base}
	return &own
}

type zoomWaits struct{ base http.RoundTripper }

// RoundTrip sends req and rewrites the wait of a 429 answer.
func (z zoomWaits) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := z.base.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests {
		return resp, err
	}
	ra := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if t, err := time.Parse(time.RFC3339, ra); err == nil {
		resp.Header.Set("Retry-After", t.UTC().Format(http.TimeFormat))
	} else if ra == "" && strings.EqualFold(resp.Header.Get("X-RateLimit-Type"), "QPS") {
		resp.Header.Set("Retry-After", qpsWait)
	}
	return resp, nil
}
