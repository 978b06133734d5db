package sources

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

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
	BambooHRSignatureHeader = "X-BambooHR-Signature"
	BambooHRTimestampHeader = "X-BambooHR-Timestamp"
)

// BambooHRMaxEmployees bounds the employees of one field-based delivery; a
// larger batch is malformed. BambooHR documents no batch size; this is far
// above what the webhook's 1 MiB body cap lets a real batch reach.
const BambooHRMaxEmployees = 1000

// bambooHRDomainRE is the form of a company subdomain (mycompany in
// https://mycompany.bamboohr.com): one DNS label.
var bambooHRDomainRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// BambooHR is a BambooHR webhook source. It authenticates deliveries by their
// HMAC signature and timestamp, turns employee changes that carry a
// termination into id-only events (IDs["bamboohr"], no email), and resolves
// them in the worker through the Get Employee API.
type BambooHR struct {
	name      string
	secrets   [][]byte
	tolerance time.Duration
	now       func() time.Time
	client    *vendorapi.Client
}

var (
	_ Source   = (*BambooHR)(nil)
	_ Resolver = (*BambooHR)(nil)
)

type bambooHRConfig struct {
	Secret        any    `json:"secret"` // one string, or a list during rotation
	CompanyDomain string `json:"company_domain"`
	APIKey        string `json:"api_key"`
	BaseURL       string `json:"base_url"`
	Tolerance     string `json:"tolerance"`
}

func newBambooHR(s Spec, path string) (Source, error) {
	return newBambooHRWithClient(s, path, nil)
}

// newBambooHRWithClient builds the source with hc for BambooHR's API (nil:
// vendorapi.NewHTTPClient). Every problem of the settings is reported, each
// naming its key and none echoing a value.
func newBambooHRWithClient(s Spec, path string, hc *http.Client) (*BambooHR, error) {
	var c bambooHRConfig
	if err := decodeSettings(s, path, &c); err != nil {
		return nil, err
	}
	var errs []error
	secrets, err := secretList(c.Secret)
	if err != nil {
		errs = append(errs, fmt.Errorf("%s.secret: %w", path, err))
	}
	switch {
	case c.CompanyDomain == "":
		errs = append(errs, fmt.Errorf("%s.company_domain: required (mycompany for https://mycompany.bamboohr.com)", path))
	case !bambooHRDomainRE.MatchString(c.CompanyDomain):
		errs = append(errs, fmt.Errorf("%s.company_domain: want the subdomain only (mycompany for https://mycompany.bamboohr.com)", path))
	}
	if err := hrBasicCredential(c.APIKey); err != nil {
		errs = append(errs, fmt.Errorf("%s.api_key: %w", path, err))
	}
	b := &BambooHR{name: s.Name, secrets: secrets, tolerance: DefaultTolerance, now: time.Now}
	if c.Tolerance != "" {
		d, err := time.ParseDuration(c.Tolerance)
		if err != nil || d < time.Second || d > time.Hour {
			errs = append(errs, fmt.Errorf("%s.tolerance: want a duration between 1s and 1h", path))
		}
		b.tolerance = d
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	// The current API hangs from the company's own host:
	// https://documentation.bamboohr.com/docs/api-details ("API requests are
	// made to a URL that begins with https://{companyDomain}.bamboohr.com/api/").
	base := c.BaseURL
	if base == "" {
		base = "https://" + strings.ToLower(c.CompanyDomain) + ".bamboohr.com"
	}
	// API keys are sent as HTTP Basic credentials, the key as the user name
	// and "x" as the password: https://documentation.bamboohr.com/docs/getting-started
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(c.APIKey+":x"))
	client, err := vendorapi.NewClient("bamboohr", base, hc, vendorapi.ClientOptions{
		Auth:        func(h http.Header) { h.Set("Authorization", auth) },
		VendorError: bambooHRVendorError,
		Secrets:     []string{c.APIKey, auth},
	})
	if err != nil {
		return nil, fmt.Errorf("%s.base_url: %w", path, hrUnwrap(err))
	}
	b.client = client
	return b, nil
}

// hrBasicCredential checks a credential sent as the user name (or password) of
// HTTP Basic authentication: present, printable, no colon, not padded.
func hrBasicCredential(v string) error {
	switch {
	case v == "":
		return errors.New("required")
	case len(v) > 4096:
		return errors.New("longer than 4096 bytes")
	case !printable(v) || strings.ContainsAny(v, ": \t") || strings.TrimSpace(v) != v:
		return errors.New("must be printable, without spaces or a colon")
	}
	return nil
}

// hrUnwrap returns the cause err wraps, or err itself: vendorapi.NewClient
// prefixes its own name and key, which the caller replaces with the key path.
func hrUnwrap(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return err
}

// Name implements Source.
func (b *BambooHR) Name() string { return b.name }

// Type implements Source.
func (b *BambooHR) Type() string { return "bamboohr" }

// Handshake implements Source: BambooHR sends no verification request.
func (b *BambooHR) Handshake(*Request) (*Response, bool) { return nil, false }

// Verify implements Source: exactly one X-BambooHR-Signature (64 hex digits)
// and one X-BambooHR-Timestamp within the tolerance of now, either way, and a
// signature equal, in constant time, to HMAC-SHA256(secret, body ‖ timestamp)
// under one of the configured secrets. Every secret is tried; none stops the
// loop early.
// https://documentation.bamboohr.com/docs/webhooks (Security)
func (b *BambooHR) Verify(r *Request) error {
	sig, err := hrOneHeader(r.Header, BambooHRSignatureHeader)
	if err != nil {
		return fmt.Errorf("bamboohr: %w", err)
	}
	ts, err := hrOneHeader(r.Header, BambooHRTimestampHeader)
	if err != nil {
		return fmt.Errorf("bamboohr: %w", err)
	}
	got, err := hex.DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("bamboohr: %w", unauthorized("malformed %s header: want 64 hex digits", BambooHRSignatureHeader))
	}
	at, ok := parseBambooHRTimestamp(ts)
	if !ok {
		return fmt.Errorf("bamboohr: %w", unauthorized("malformed %s header", BambooHRTimestampHeader))
	}
	if d := b.now().Sub(at); d > b.tolerance || d < -b.tolerance {
		return fmt.Errorf("bamboohr: %w", unauthorized("signature timestamp outside the %s tolerance", b.tolerance))
	}
	matched := false
	for _, secret := range b.secrets {
		if hmac.Equal(bambooHRSign(secret, r.Body, ts), got) {
			matched = true
		}
	}
	if !matched {
		return fmt.Errorf("bamboohr: %w", unauthorized("signature does not match"))
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

// hrOneHeader returns the one value of header k; none, several, an empty or an
// overlong value is unauthorized.
func hrOneHeader(h http.Header, k string) (string, error) {
	vs := h.Values(k)
	switch {
	case len(vs) == 0:
		return "", unauthorized("missing %s header", k)
	case len(vs) > 1:
		return "", unauthorized("more than one %s header", k)
	case vs[0] == "":
		return "", unauthorized("empty %s header", k)
	case len(vs[0]) > 1024:
		return "", unauthorized("%s header too long", k)
	}
	return vs[0], nil
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
