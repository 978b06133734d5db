package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/vendorapi"
)

// The System of a notification's *vendorapi.Error: the destination's kind,
// never its URL (a Slack hook's URL is its credential).
const (
	systemSlack   = "notify-slack"
	systemWebhook = "notify-webhook"
)

// newNotifyClient is the client notifications are posted with: bounded,
// no redirects (an answer is taken as it is).
func newNotifyClient(timeout time.Duration) *http.Client {
	hc := *vendorapi.NewHTTPClient()
	hc.Timeout = timeout
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &hc
}

// postSlack posts m to a Slack incoming webhook as a plain message: JSON with
// a "text" field in Slack's mrkdwn
// (https://api.slack.com/messaging/webhooks#posting_with_webhooks). Slack
// answers 200 "ok"; its errors are a status with a short code in the body —
// 400 invalid_payload, 403 action_prohibited, 404 no_service or
// channel_not_found, 410 channel_is_archived, 500 rollup_error
// (https://api.slack.com/messaging/webhooks#handling_errors) — and 429 with
// Retry-After past one message per second
// (https://api.slack.com/apis/rate-limits#incoming-webhooks).
func postSlack(ctx context.Context, hc *http.Client, hook string, m Message) error {
	body, err := json.Marshal(map[string]string{"text": slackText(m)})
	if err != nil {
		return &vendorapi.Error{System: systemSlack, Kind: vendorapi.Invalid, Msg: "cannot encode the message", Err: err}
	}
	return post(ctx, hc, systemSlack, hook, body, nil)
}

// slackText is the message in Slack's mrkdwn; the user-controlled values
// are escaped as Slack asks (&, <, >:
// https://api.slack.com/reference/surfaces/formatting#escaping).
func slackText(m Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*offboarder*: case `%s` for %s (%s) is *%s*", slackEscape(m.CaseID), slackEscape(m.Email), slackEscape(string(m.Reason)), slackEscape(m.State))
	for _, s := range m.Systems {
		fmt.Fprintf(&b, "\n• %s: %s", slackEscape(s.Connector), slackEscape(string(s.Outcome)))
	}
	if m.URL != "" {
		fmt.Fprintf(&b, "\n<%s|Open the case>", slackEscape(m.URL))
	}
	return b.String()
}

func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// postWebhook posts m as JSON to a generic receiver, signed as the generic
// source verifies: Offboarder-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret,
// "<t>.<body>")> (sources.SignatureValue, the one implementation). Any 2xx
// is delivery.
func postWebhook(ctx context.Context, hc *http.Client, target string, secret []byte, m Message) error {
	body, err := json.Marshal(m)
	if err != nil {
		return &vendorapi.Error{System: systemWebhook, Kind: vendorapi.Invalid, Msg: "cannot encode the message", Err: err}
	}
	h := http.Header{}
	h.Set(sources.SignatureHeader, sources.SignatureValue(time.Now(), body, secret))
	return post(ctx, hc, systemWebhook, target, body, h)
}

// post sends body and classifies the answer: network errors, 408 and 5xx
// are Transient, 429 RateLimited (with its Retry-After), 401/403 Auth and
// other 4xx Invalid — the same words the connectors' errors use, so the
// worker's retry policy treats them alike. No error text holds the URL.
func post(ctx context.Context, hc *http.Client, system, target string, body []byte, h http.Header) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return &vendorapi.Error{System: system, Kind: vendorapi.Invalid, Msg: "cannot build the request"}
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "offboarder")
	resp, err := hc.Do(req)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err // its text holds the URL
		}
		return &vendorapi.Error{System: system, Kind: vendorapi.Transient, Msg: "no answer from the receiver", Err: errors.New(strings.ReplaceAll(err.Error(), target, "<url>"))}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	e := &vendorapi.Error{System: system, Status: resp.StatusCode,
		Msg: fmt.Sprintf("receiver answered %d", resp.StatusCode)}
	if said := shortText(raw); said != "" {
		e.Msg += " " + strconv.Quote(said)
	}
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests:
		e.Kind = vendorapi.RateLimited
		if n, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && n >= 0 {
			e.RetryAfter = min(time.Duration(n)*time.Second, 15*time.Minute)
		}
	case s == http.StatusRequestTimeout || s >= 500:
		e.Kind = vendorapi.Transient
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		e.Kind = vendorapi.Auth
	default:
		e.Kind = vendorapi.Invalid
	}
	return e
}

// shortText is the start of a receiver's answer when it is a short printable
// word or phrase (Slack's "invalid_payload"); "" otherwise.
func shortText(raw []byte) string {
	s := strings.TrimSpace(string(raw))
	if s == "" || len(s) > 64 || strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return ""
	}
	return s
}

// retryable reports whether a notification is worth sending again.
func retryable(err error) bool { return vendorapi.Retryable(err) }
