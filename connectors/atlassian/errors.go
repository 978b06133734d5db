package atlassian

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/offboarder/offboarder/vendorapi"
)

// readError reads the error bodies of Atlassian's admin APIs into one
// short line:
//
//   - the organizations API's {"errors":[{"code":"ADMIN-UAM-404-2",
//     "title":"Organization not found","detail":"…"}]} [org-users] gives
//     "ADMIN-UAM-404-2: Organization not found: …" (each error, "; "-joined);
//   - the user-management lifecycle API's [{"code":"…","message":"…"}]
//     [um-lifecycle] and the gateway's {"code":401,"message":"Unauthorized"}
//     give "code: message";
//   - the user-management API's {"key":"forbidden.unclaimedDomain",
//     "context":{"domain":"…"}} (the account is not managed: its domain is
//     not verified by the organization [um-intro]) gives the key and the
//     domain.
//
// Anything else gives "".
func readError(body []byte) string { return vendorapi.AsRead(decodeError(body)) }

// decodeError is readError before invalid UTF-8 is put back as read.
func decodeError(body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		var list []apiError
		if json.Unmarshal(body, &list) != nil {
			return ""
		}
		return joinErrors(list)
	}
	var e struct {
		apiError
		Errors  []apiError `json:"errors"`
		Key     string     `json:"key"`
		Context struct {
			Domain string `json:"domain"`
		} `json:"context"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	switch {
	case len(e.Errors) > 0:
		return joinErrors(e.Errors)
	case e.Key != "" && e.Context.Domain != "":
		return e.Key + " (" + e.Context.Domain + ")"
	case e.Key != "":
		return e.Key
	}
	return e.line()
}

// apiError is one error of either shape; Code is a string in the admin
// APIs and a number in the gateway's answer.
type apiError struct {
	Code    json.RawMessage `json:"code"`
	Title   string          `json:"title"`
	Detail  string          `json:"detail"`
	Message string          `json:"message"`
}

// line is "code: title: detail" or "code: message", leaving out what is empty.
func (e apiError) line() string {
	var code string
	if json.Unmarshal(e.Code, &code) != nil {
		var n json.Number
		if json.Unmarshal(e.Code, &n) == nil {
			code = n.String()
		}
	}
	var parts []string
	for _, s := range []string{code, e.Title, e.Detail, e.Message} {
		if s = strings.TrimSpace(s); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ": ")
}

func joinErrors(list []apiError) string {
	var lines []string
	for _, e := range list {
		if l := e.line(); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "; ")
}

// readReset turns an X-RateLimit-Reset that holds an ISO 8601 time
// [access-intro] into Retry-After seconds from now, rounded up, at least
// 1. A reset of another form (a number, which the shared classifier
// reads) or none gives false.
func readReset(v string, now time.Time) (string, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", false
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, v); err == nil {
			secs := math.Ceil(t.Sub(now).Seconds())
			secs = max(1, min(secs, time.Hour.Seconds()))
			return strconv.Itoa(int(secs)), true
		}
	}
	return "", false
}
