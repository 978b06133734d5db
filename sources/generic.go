package sources

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// SignatureHeader is the header a generic source's sender signs with:
//
//	Offboarder-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
//
// Several v1 values may be sent (the sender signing with old and new secrets
// during a rotation); one match with any configured secret is enough.
const SignatureHeader = "Offboarder-Signature"

// Generic is the offboarder-native webhook: any HR or IdP tooling that can sign
// a small JSON body posts to it.
type Generic struct {
	name      string
	secrets   [][]byte
	tolerance time.Duration
	now       func() time.Time
}

var _ Source = (*Generic)(nil)

// GenericConfig is the settings of a generic source.
type GenericConfig struct {
	// Secret is the HMAC key: one string, or a list during a rotation.
	Secret Secrets `json:"secret"`
	// Tolerance is how far a signature's timestamp may be from now (default
	// 5m, between 1s and 1h).
	Tolerance string `json:"tolerance"`
}

// Validate implements Config.
func (c *GenericConfig) Validate() error {
	var errs []error
	if err := c.Secret.Check(); err != nil {
		errs = append(errs, vendorapi.KeyErr("secret", err))
	}
	if _, err := Tolerance(c.Tolerance); err != nil {
		errs = append(errs, vendorapi.KeyErr("tolerance", err))
	}
	return errors.Join(errs...)
}

// Open implements Config.
func (c *GenericConfig) Open(name string, d Deps) (Source, error) {
	tol, _ := Tolerance(c.Tolerance) // checked by Validate
	return &Generic{name: name, secrets: c.Secret.Bytes(), tolerance: tol, now: d.Now}, nil
}

// NewGeneric returns a generic source with the given HMAC secrets (at least one).
func NewGeneric(name string, secrets ...string) (*Generic, error) {
	c := &GenericConfig{}
	for _, s := range secrets {
		c.Secret = append(c.Secret, vendorapi.Secret(s))
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("sources[%s].%w", name, err)
	}
	src, _ := c.Open(name, Deps{Now: time.Now}) // Open of a generic source cannot fail
	return src.(*Generic), nil
}

// Name implements Source.
func (g *Generic) Name() string { return g.name }

// Type implements Source.
func (g *Generic) Type() string { return "generic" }

// Handshake implements Source: the generic source has none.
func (g *Generic) Handshake(*Request) (*Response, bool) { return nil, false }

// Verify checks the Offboarder-Signature header: a timestamp within the
// tolerance and at least one v1 value equal (in constant time) to the HMAC of
// "<t>.<body>" under one of the configured secrets.
func (g *Generic) Verify(r *Request) error {
	return VerifySignature(r.Header.Get(SignatureHeader), r.Body, g.secrets, g.now(), g.tolerance)
}

// VerifySignature checks a generic signature header against body; it is
// exported for the fuzz tests and for tools that send to a generic source.
func VerifySignature(header string, body []byte, secrets [][]byte, now time.Time, tolerance time.Duration) error {
	if header == "" {
		return Unauthorized("missing %s header", SignatureHeader)
	}
	if len(header) > 4096 {
		return Unauthorized("%s header too long", SignatureHeader)
	}
	var (
		ts   string
		sigs [][]byte
	)
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return Unauthorized("malformed %s header", SignatureHeader)
		}
		switch k {
		case "t":
			if ts != "" {
				return Unauthorized("malformed %s header: more than one t", SignatureHeader)
			}
			ts = v
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				continue // not ours to match; another scheme's value must not fail the rest
			}
			sigs = append(sigs, sig)
		}
	}
	if ts == "" || len(sigs) == 0 {
		return Unauthorized("malformed %s header: want t= and v1=", SignatureHeader)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(ts) > 12 {
		return Unauthorized("malformed %s header: bad timestamp", SignatureHeader)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return Unauthorized("signature timestamp outside the %s tolerance", tolerance)
	}
	matched := false
	for _, secret := range secrets {
		want := Sign(secret, ts, body)
		for _, sig := range sigs {
			// Every comparison runs; none stops early on a match.
			if hmac.Equal(want, sig) {
				matched = true
			}
		}
	}
	if !matched {
		return Unauthorized("signature does not match")
	}
	return nil
}

// Sign returns HMAC-SHA256(secret, "<ts>.<body>").
func Sign(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// SignatureValue returns the value of an Offboarder-Signature header for body
// signed at t with each of secrets.
func SignatureValue(t time.Time, body []byte, secrets ...[]byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	var b strings.Builder
	b.WriteString("t=" + ts)
	for _, s := range secrets {
		b.WriteString(",v1=" + hex.EncodeToString(Sign(s, ts, body)))
	}
	return b.String()
}

// GenericBody is the JSON body of a generic delivery and of POST /v1/offboard.
type GenericBody struct {
	ID          string          `json:"id"`
	Email       string          `json:"email"`
	Reason      offboard.Reason `json:"reason"`
	EffectiveAt string          `json:"effective_at,omitempty"`
	Systems     []string        `json:"systems,omitempty"`
	DryRun      bool            `json:"dry_run,omitempty"`
}

// Parse implements Source: one event per delivery.
func (g *Generic) Parse(r *Request) (Delivery, error) {
	ev, err := ParseGeneric(r.Body, true)
	if err != nil {
		return Delivery{}, err
	}
	return Delivery{Events: []Event{ev}}, nil
}

// ParseGeneric parses a generic body. Unknown fields, trailing data and bad
// values are refused with an error that names the field. When requireID is
// false (the admin API) a missing id is allowed and left empty.
func ParseGeneric(body []byte, requireID bool) (Event, error) {
	var b GenericBody
	if err := DecodeStrict(body, &b); err != nil {
		return Event{}, Malformed("%s", err)
	}
	ev := Event{ID: b.ID, Type: string(b.Reason), Reason: b.Reason, DryRun: b.DryRun}
	switch {
	case b.ID == "" && requireID:
		return Event{}, Malformed("id: required")
	case len(b.ID) > 200 || !Printable(b.ID):
		return Event{}, Malformed("id: at most 200 printable characters")
	}
	email, err := NormalizeEmail(b.Email)
	if err != nil {
		return Event{}, Malformed("email: %s", err)
	}
	ev.Email = email
	if !b.Reason.Valid() {
		return Event{}, Malformed("reason: want one of terminated, suspended, deactivated, security, manual")
	}
	if b.EffectiveAt != "" {
		t, err := time.Parse(time.RFC3339, b.EffectiveAt)
		if err != nil {
			return Event{}, Malformed("effective_at: want an RFC 3339 time such as 2026-01-02T15:04:05Z")
		}
		ev.EffectiveAt = t.UTC()
	}
	if b.Systems != nil {
		if len(b.Systems) == 0 {
			return Event{}, Malformed("systems: empty list (omit it to mean every connector)")
		}
		if len(b.Systems) > 200 {
			return Event{}, Malformed("systems: more than 200 names")
		}
		seen := map[string]bool{}
		for _, s := range b.Systems {
			// Only the shape of a name here; the webhook checks it against
			// the configured connectors.
			if len(s) > 64 || s == "" || strings.ContainsFunc(s, notNameChar) {
				return Event{}, Malformed("systems: %q is not a connector name", Truncate(s, 64))
			}
			if !seen[s] {
				seen[s] = true
				ev.Systems = append(ev.Systems, s)
			}
		}
	}
	return ev, nil
}

// notNameChar reports a character no connector name holds.
func notNameChar(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
}

// Printable reports whether s is valid UTF-8 without control characters.
func Printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// Truncate cuts s to at most n bytes, on a character boundary, marking the
// cut with "…".
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
