// Package hibob is the hibob source: it receives HiBob (Bob) webhooks v2,
// answers Bob's ping test, authenticates each delivery by its Bob-Signature,
// turns leavers' events into id-only events, and resolves them in the worker
// through Bob's People API.
package hibob

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/vendorapi"
)

// The hibob source receives HiBob (Bob) webhooks v2 and asks Bob's People
// API who the employee is. Sources, each cited again where it decides:
//
//   - Working with webhooks (ping test, Bob-Signature HMAC SHA512):
//     https://apidocs.hibob.com/docs/working-with-webhooks
//   - Webhooks v2 events (companyId, type, triggeredBy, triggeredAt,
//     version, data; retries for up to 3 days):
//     https://apidocs.hibob.com/reference/webhook-events-v2
//   - Employee events: https://apidocs.hibob.com/docs/employee-data-webhooks
//   - employee.left: https://apidocs.hibob.com/reference/post_webhook_employee-left
//   - employee.inactivated: https://apidocs.hibob.com/reference/post_webhook_employee-inactivated
//   - employee.deleted (carries the work email): https://apidocs.hibob.com/reference/post_webhook_employee-deleted
//   - employee.access.revoked.immediately:
//     https://apidocs.hibob.com/reference/post_webhook_employee-access-revoked-immediately
//   - Read employee fields by id: https://apidocs.hibob.com/reference/post_people-identifier
//   - Authorization (service users): https://apidocs.hibob.com/reference/authorization
//   - Rate limiting: https://apidocs.hibob.com/reference/rate-limiting
//   - Error handling: https://apidocs.hibob.com/reference/error-handling

// SignatureHeader carries the base64 HMAC-SHA512 of the raw body under
// the webhook's secret.
// https://apidocs.hibob.com/docs/working-with-webhooks (Step 3: Authenticate your events)
const SignatureHeader = "Bob-Signature"

// HiBob event types the source maps by default.
// https://apidocs.hibob.com/docs/employee-data-webhooks
const (
	EmployeeLeft        = "employee.left"
	EmployeeInactivated = "employee.inactivated"
	EmployeeDeleted     = "employee.deleted"
	AccessRevokedAtOnce = "employee.access.revoked.immediately"
)

const (
	hibobPingText        = "Ping test"
	hibobMaxPing         = 256
	hibobMaxEventTypeLen = 64
	// hibobDefaultBaseURL is the production API without its version; the
	// sandbox is https://api.sandbox.hibob.com.
	// https://apidocs.hibob.com/reference/post_people-identifier (servers)
	hibobDefaultBaseURL = "https://api.hibob.com"
)

// hibobDefaultEvents maps Bob's event types to reasons; `events` adds to it
// and overrides it.
//
//   - employee.left: the lifecycle reached Terminated or Garden leave →
//     terminated.
//   - employee.inactivated: Bob access ended for a leave or a termination,
//     Bob does not say which → deactivated.
//   - employee.deleted: the record is gone; that it was a termination is not
//     known → deactivated.
//   - employee.access.revoked.immediately: a termination flow asked for
//     access to end now, before the termination date → security, never
//     scheduled later.
var hibobDefaultEvents = map[string]offboard.Reason{
	EmployeeLeft:        offboard.ReasonTerminated,
	EmployeeInactivated: offboard.ReasonDeactivated,
	EmployeeDeleted:     offboard.ReasonDeactivated,
	AccessRevokedAtOnce: offboard.ReasonSecurity,
}

// hibobEventTypeRE is the form of a Bob event type (employee.left).
var hibobEventTypeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+$`)

// Source is a HiBob webhooks v2 source. It answers Bob's ping test,
// authenticates every delivery by its Bob-Signature, turns the mapped event
// types into id-only events (IDs["hibob"]; employee.deleted keeps the email
// Bob sends with it) and resolves them in the worker through the People API.
type Source struct {
	name    string
	secrets [][]byte
	events  map[string]offboard.Reason
	now     func() time.Time
	client  *vendorapi.Client
}

var (
	_ sources.Source   = (*Source)(nil)
	_ sources.Resolver = (*Source)(nil)
)

// Name implements sources.Source.
func (h *Source) Name() string { return h.name }

// Type implements sources.Source.
func (h *Source) Type() string { return "hibob" }

// Handshake implements sources.Source: Bob checks a new webhook with a POST whose
// body is "Ping test", and, if that fails, {"text":"Ping test"}, and wants a
// 2xx at once. Either is answered 200 "ok", before and without any
// signature check (Bob does not say it signs the ping), and nothing is
// recorded. Any other request is not a handshake.
// https://apidocs.hibob.com/docs/working-with-webhooks (Step 2: Validate your connection)
func (h *Source) Handshake(r *sources.Request) (*sources.Response, bool) {
	if r.Method != http.MethodPost || !hibobPing(r.Body) {
		return nil, false
	}
	return &sources.Response{Status: http.StatusOK, ContentType: "text/plain; charset=utf-8", Body: []byte("ok")}, true
}

// hibobPing reports whether body is Bob's ping test: the text, the text as a
// JSON string, or {"text":"Ping test"}.
func hibobPing(body []byte) bool {
	b := bytes.TrimSpace(body)
	if len(b) == 0 || len(b) > hibobMaxPing || !bytes.Contains(b, []byte(hibobPingText)) {
		return false
	}
	if string(b) == hibobPingText {
		return true
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		return s == hibobPingText
	}
	var p struct {
		Text string `json:"text"`
	}
	return sources.DecodeStrict(b, &p) == nil && p.Text == hibobPingText
}

// Verify implements sources.Source: exactly one Bob-Signature header holding the
// base64 (padded or not) of HMAC-SHA512(secret, raw body) under one of the
// configured secrets, compared in constant time; every secret is tried.
// Bob signs no timestamp, and retries a delivery for up to 3 days with the
// same body, so replays are left to the event ids' deduplication.
// https://apidocs.hibob.com/docs/working-with-webhooks (Step 3: Authenticate your events)
func (h *Source) Verify(r *sources.Request) error {
	sig, err := sources.OneHeader(r.Header, SignatureHeader)
	if err != nil {
		return fmt.Errorf("hibob: %w", err)
	}
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		got, err = base64.RawStdEncoding.DecodeString(sig)
	}
	if err != nil || len(got) != sha512.Size {
		return fmt.Errorf("hibob: %w", sources.Unauthorized("malformed %s header: want the base64 of a SHA-512 HMAC", SignatureHeader))
	}
	matched := false
	for _, secret := range h.secrets {
		m := hmac.New(sha512.New, secret)
		m.Write(r.Body)
		if hmac.Equal(m.Sum(nil), got) {
			matched = true
		}
	}
	if !matched {
		return fmt.Errorf("hibob: %w", sources.Unauthorized("signature does not match"))
	}
	return nil
}
