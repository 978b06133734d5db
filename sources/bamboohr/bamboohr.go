// Package bamboohr is the bamboohr source: it receives BambooHR webhooks,
// authenticates each by its HMAC signature and timestamp, turns employee
// changes that carry a termination into id-only events, and resolves them
// in the worker through BambooHR's Get Employee API.
package bamboohr

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/vendorapi"
)

// The bamboohr source receives BambooHR webhooks and asks BambooHR's API who
// the employee is. Sources, each cited again where it decides:
//
//   - Webhooks and their security (signature headers, HMAC-SHA256):
//     https://documentation.bamboohr.com/docs/webhooks
//   - Event-based webhooks (employee.created / updated / deleted):
//     https://documentation.bamboohr.com/docs/event-based-webhooks
//   - Field-based (global) webhooks (employees[] with action, fields):
//     https://documentation.bamboohr.com/docs/field-based-webhooks
//   - Employee updated event: https://documentation.bamboohr.com/reference/employee-updated-webhook
//   - Get Employee: https://documentation.bamboohr.com/reference/get-employee
//   - Technical overview (base URL, status codes, throttling):
//     https://documentation.bamboohr.com/docs/api-details
//   - Field names: https://documentation.bamboohr.com/docs/list-of-field-names

// Headers BambooHR signs a delivery with. The signature is the lower-case hex
// HMAC-SHA256, under the webhook's private key, of the raw body immediately
// followed by the timestamp header's value (body first, no separator), as in
// the PHP verification sample of https://documentation.bamboohr.com/docs/webhooks
// ("calculated using the payload, the timestamp, and your private key").
const (
	SignatureHeader = "X-BambooHR-Signature"
	TimestampHeader = "X-BambooHR-Timestamp"
)

// MaxEmployees bounds the employees of one field-based delivery; a
// larger batch is malformed. BambooHR documents no batch size; this is far
// above what the webhook's 1 MiB body cap lets a real batch reach.
const MaxEmployees = 1000

// bambooHRDomainRE is the form of a company subdomain (mycompany in
// https://mycompany.bamboohr.com): one DNS label.
var bambooHRDomainRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// Source is a BambooHR webhook source. It authenticates deliveries by their
// HMAC signature and timestamp, turns employee changes that carry a
// termination into id-only events (IDs["bamboohr"], no email), and resolves
// them in the worker through the Get Employee API.
type Source struct {
	name      string
	secrets   [][]byte
	tolerance time.Duration
	now       func() time.Time
	client    *vendorapi.Client
}

var (
	_ sources.Source   = (*Source)(nil)
	_ sources.Resolver = (*Source)(nil)
)

// Name implements sources.Source.
func (b *Source) Name() string { return b.name }

// Type implements sources.Source.
func (b *Source) Type() string { return "bamboohr" }

// Handshake implements sources.Source: BambooHR sends no verification request.
func (b *Source) Handshake(*sources.Request) (*sources.Response, bool) { return nil, false }

// Verify implements sources.Source: exactly one X-BambooHR-Signature (64 hex digits)
// and one X-BambooHR-Timestamp within the tolerance of now, either way, and a
// signature equal, in constant time, to HMAC-SHA256(secret, body ‖ timestamp)
// under one of the configured secrets. Every secret is tried; none stops the
// loop early.
// https://documentation.bamboohr.com/docs/webhooks (Security)
func (b *Source) Verify(r *sources.Request) error {
	sig, err := sources.OneHeader(r.Header, SignatureHeader)
	if err != nil {
		return fmt.Errorf("bamboohr: %w", err)
	}
	ts, err := sources.OneHeader(r.Header, TimestampHeader)
	if err != nil {
		return fmt.Errorf("bamboohr: %w", err)
	}
	got, err := hex.DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("bamboohr: %w", sources.Unauthorized("malformed %s header: want 64 hex digits", SignatureHeader))
	}
	at, ok := parseBambooHRTimestamp(ts)
	if !ok {
		return fmt.Errorf("bamboohr: %w", sources.Unauthorized("malformed %s header", TimestampHeader))
	}
	if d := b.now().Sub(at); d > b.tolerance || d < -b.tolerance {
		return fmt.Errorf("bamboohr: %w", sources.Unauthorized("signature timestamp outside the %s tolerance", b.tolerance))
	}
	matched := false
	for _, secret := range b.secrets {
		if hmac.Equal(bambooHRSign(secret, r.Body, ts), got) {
			matched = true
		}
	}
	if !matched {
		return fmt.Errorf("bamboohr: %w", sources.Unauthorized("signature does not match"))
	}
	return nil
}

// bambooHRSign returns HMAC-SHA256(secret, body ‖ ts).
func bambooHRSign(secret, body []byte, ts string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	m.Write([]byte(ts))
	return m.Sum(nil)
}

// parseBambooHRTimestamp reads X-BambooHR-Timestamp. BambooHR documents it
// only as "the timestamp when the request was sent"; deliveries carry Unix
// seconds. An ISO 8601 time (RFC 3339, or the +0000 offset form BambooHR's
// payloads use) is accepted as well.
func parseBambooHRTimestamp(s string) (time.Time, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || len(s) > 12 {
			return time.Time{}, false
		}
		return time.Unix(n, 0), true
	}
	return hrISOTime(s)
}

// hrISOTime reads an ISO 8601 date-time with a zone: RFC 3339 or the
// "2026-01-31T18:42:00+0000" form.
func hrISOTime(s string) (time.Time, bool) {
	if len(s) > 64 {
		return time.Time{}, false
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05-0700", "2006-01-02T15:04:05.999999999-0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
