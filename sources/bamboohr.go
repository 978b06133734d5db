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

// BambooHRConfig is the settings of a bamboohr source.
type BambooHRConfig struct {
	// Secret is the webhook's private key: one string, or a list during a
	// rotation.
	Secret Secrets `json:"secret"`
	// CompanyDomain is the company's subdomain (mycompany for
	// https://mycompany.bamboohr.com).
	CompanyDomain string `json:"company_domain"`
	// APIKey is an API key of a user who may read employees.
	APIKey vendorapi.Secret `json:"api_key"`
	// BaseURL replaces https://<company_domain>.bamboohr.com (tests, the
	// simulator).
	BaseURL string `json:"base_url"`
	// Tolerance is how far a signature's timestamp may be from now (default
	// 5m, between 1s and 1h).
	Tolerance string `json:"tolerance"`
}

// Validate implements Config. Every problem is reported, each naming its
// key and none echoing a value.
func (c *BambooHRConfig) Validate() error {
	var errs []error
	if err := c.Secret.Check(); err != nil {
		errs = append(errs, vendorapi.KeyErr("secret", err))
	}
	switch {
	case c.CompanyDomain == "":
		errs = append(errs, vendorapi.FieldErr("company_domain", "required (mycompany for https://mycompany.bamboohr.com)"))
	case !bambooHRDomainRE.MatchString(c.CompanyDomain):
		errs = append(errs, vendorapi.FieldErr("company_domain", "want the subdomain only (mycompany for https://mycompany.bamboohr.com)"))
	}
	if err := BasicCredential(string(c.APIKey)); err != nil {
		errs = append(errs, vendorapi.KeyErr("api_key", err))
	}
	if _, err := Tolerance(c.Tolerance); err != nil {
		errs = append(errs, vendorapi.KeyErr("tolerance", err))
	}
	return errors.Join(errs...)
}

// Open implements Config.
func (c *BambooHRConfig) Open(name string, d Deps) (Source, error) {
	tol, _ := Tolerance(c.Tolerance) // checked by Validate
	now := d.Now
	if now == nil {
		now = time.Now
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
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(string(c.APIKey)+":x"))
	client, err := vendorapi.NewClient("bamboohr", base, d.HTTPClient, vendorapi.ClientOptions{
		Auth:        func(h http.Header) { h.Set("Authorization", auth) },
		VendorError: bambooHRVendorError,
		Secrets:     []string{string(c.APIKey), auth},
	})
	if err != nil {
		return nil, vendorapi.KeyErr("base_url", Cause(err))
	}
	return &BambooHR{name: name, secrets: c.Secret.Bytes(), tolerance: tol, now: now, client: client}, nil
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
		return fmt.Errorf("bamboohr: %w", Unauthorized("malformed %s header: want 64 hex digits", BambooHRSignatureHeader))
	}
	at, ok := parseBambooHRTimestamp(ts)
	if !ok {
		return fmt.Errorf("bamboohr: %w", Unauthorized("malformed %s header", BambooHRTimestampHeader))
	}
	if d := b.now().Sub(at); d > b.tolerance || d < -b.tolerance {
		return fmt.Errorf("bamboohr: %w", Unauthorized("signature timestamp outside the %s tolerance", b.tolerance))
	}
	matched := false
	for _, secret := range b.secrets {
		if hmac.Equal(bambooHRSign(secret, r.Body, ts), got) {
			matched = true
		}
	}
	if !matched {
		return fmt.Errorf("bamboohr: %w", Unauthorized("signature does not match"))
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
		return "", Unauthorized("missing %s header", k)
	case len(vs) > 1:
		return "", Unauthorized("more than one %s header", k)
	case vs[0] == "":
		return "", Unauthorized("empty %s header", k)
	case len(vs[0]) > 1024:
		return "", Unauthorized("%s header too long", k)
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
