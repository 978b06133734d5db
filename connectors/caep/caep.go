// Package caep is the caep connector: offboarder as an OpenID Shared
// Signals (SSF 1.0) transmitter. For each configured receiver it pushes a
// signed CAEP session-revoked Security Event Token (a SET, RFC 8417) by
// RFC 8935 push delivery; each receiver ends the subject's sessions by its
// own policy. It publishes its keys and transmitter metadata through
// Publish, which the HTTP server serves under /.well-known/.
//
// Okta's SSF Security Event Tokens API (Identity Threat Protection) is the
// documented first receiver: offboarder is registered there as a Security
// Events Provider by its well-known URL, or by its issuer and JWKS URL.
package caep

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// The specifications and Okta's documentation, cited below by these names:
//
//	[RFC 8417]      https://www.rfc-editor.org/rfc/rfc8417 (Security Event Token)
//	[RFC 8935]      https://www.rfc-editor.org/rfc/rfc8935 (push delivery: §2 the request, §2.2 202, §2.3 the error body, §2.4 the codes)
//	[iana-errors]   https://www.iana.org/assignments/secevent (Security Event Token Error Codes)
//	[RFC 9493]      https://www.rfc-editor.org/rfc/rfc9493 (subject identifiers; §3.2.2 the email format)
//	[ssf]           https://openid.net/specs/openid-sharedsignals-framework-1_0.html
//	                (SSF 1.0: §3.1 sub_id, §4.1 the SET profile, §6.1.1 push, §7 transmitter metadata;
//	                source: github.com/openid/sharedsignals openid-sharedsignals-framework-1_0.md)
//	[caep]          https://openid.net/specs/openid-caep-1_0.html (§2 optional event claims, §3.1 session-revoked)
//	[interop]       https://openid.net/specs/openid-caep-interoperability-profile-1_0.html (reason_admin non-empty; RS256, 2048 bits)
//	[okta-set]      https://developer.okta.com/docs/api/openapi/okta-management/management/tag/SSFSecurityEventToken/
//	                (POST /security/api/v1/security-events, application/secevent+jwt; 202 Accepted; 400 SecurityEventTokenError)
//	[okta-openapi]  github.com/okta/okta-sdk-golang .generator/okta-management-APIs-oasv3-noEnums-inheritance.yaml
//	                (SecurityEventTokenRequestJwtHeader/Body, CaepSessionRevokedEvent, SecurityEventSubject, SecurityEventTokenError)
//	[okta-provider] https://developer.okta.com/docs/api/openapi/okta-management/management/tag/SSFReceiver/
//	                (a Security Events Provider: well_known_url, or issuer and jwks_url)
//	[okta-itp]      https://help.okta.com/oie/en-us/Content/topics/itp/shared-signals.htm
//	                (what Okta does with a received SET: an entity risk detection; the entity risk
//	                policy then starts Workflows, session revocation or Universal Logout)

// Config is the settings of a caep connector.
type Config struct {
	// Receivers are where the SETs are pushed, each a mapping with:
	//   url            the receiver's RFC 8935 push endpoint, e.g. Okta's
	//                  https://{yourOktaDomain}/security/api/v1/security-events [okta-set];
	//                  https (http only to a loopback host)
	//   token          optional; sent as "Authorization: Bearer …" (SSF 1.0
	//                  §6.1.1's authorization_header); Okta's endpoint takes
	//                  none: the SET's signature authenticates it [okta-openapi]
	//   audience       optional; the SET's aud; default the url. Okta's example
	//                  audience is the org URL, e.g. https://acme.okta.com/ [okta-openapi]
	//   subject_format optional; sub_id (default) or event_subject (Okta's shape)
	Receivers []map[string]any `json:"receivers"`
	// Issuer is the SETs' iss and the transmitter's issuer: the public base
	// URL at which offboarder serves /.well-known/ (https, no path), e.g.
	// https://offboarder.example.com. The jwks_uri is derived from it
	// (Issuer + /.well-known/jwks.json), and a receiver reads the metadata
	// at Issuer + /.well-known/ssf-configuration [ssf §7.2].
	Issuer string `json:"issuer"`
	// SigningKey is a PEM private key, EC P-256 (ES256) or RSA of 2048 bits
	// or more (RS256), or a list of them during a rotation: the first
	// signs, all are published. signing_key_file reads them from files.
	SigningKey any `json:"signing_key"`

	parsed *settings // Validate's result, for Open
}

// receiver is one configured receiver.
type receiver struct {
	url      string // as configured
	label    string // host and path, for messages
	token    vendorapi.Secret
	audience string
	format   string
}

// settings are the checked settings.
type settings struct {
	receivers []*receiver
	keys      []signingKey
}

// Validate reports every problem with the settings, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	s := &settings{}
	if err := checkIssuer(c.Issuer); err != nil {
		errs = append(errs, vendorapi.KeyErr("issuer", err))
	}
	keys, kerrs := parseKeys(c.SigningKey)
	s.keys, errs = keys, append(errs, kerrs...)
	if len(c.Receivers) == 0 {
		errs = append(errs, vendorapi.FieldErr("receivers", "required: a list of receivers, each with a url"))
	}
	seen := map[string]int{}
	for i, m := range c.Receivers {
		r, rerrs := parseReceiver(fmt.Sprintf("receivers[%d]", i), m)
		errs = append(errs, rerrs...)
		if r == nil {
			continue
		}
		if j, dup := seen[r.url+"\x00"+r.audience]; dup {
			errs = append(errs, vendorapi.FieldErr(fmt.Sprintf("receivers[%d].url", i), "duplicate of receivers[%d]", j))
			continue
		}
		seen[r.url+"\x00"+r.audience] = i
		s.receivers = append(s.receivers, r)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	c.parsed = s
	return nil
}

// checkIssuer: an https URL (http only on a loopback host, for tests and
// the demo) without a path, query or fragment [ssf §7.1], so that the
// /.well-known/ documents offboarder serves at its root are the issuer's.
func checkIssuer(s string) error {
	if err := checkURL(s); err != nil {
		return err
	}
	if u, _ := url.Parse(s); u.Path != "" && u.Path != "/" {
		return errors.New("must be the public base URL where offboarder serves /.well-known/, without a path")
	}
	return nil
}

// checkURL is vendorapi.CheckURL plus https, except to a loopback host.
func checkURL(s string) error {
	if err := vendorapi.CheckURL(s); err != nil {
		return err
	}
	u, _ := url.Parse(s)
	if h := u.Hostname(); u.Scheme != "https" && h != "localhost" && h != "127.0.0.1" && h != "::1" {
		return errors.New("must be an https url (http only to localhost)")
	}
	return nil
}

// parseKeys reads signing_key: one PEM string or a list of them.
func parseKeys(v any) ([]signingKey, []error) {
	var texts []string
	switch v := v.(type) {
	case nil:
		return nil, []error{vendorapi.FieldErr("signing_key", "required: a PEM private key (EC P-256 or RSA), or a list of them")}
	case string:
		texts = []string{v}
	case []any:
		for _, t := range v {
			s, _ := t.(string)
			texts = append(texts, s)
		}
	default:
		return nil, []error{vendorapi.FieldErr("signing_key", "must be a PEM private key or a list of them")}
	}
	if len(texts) == 0 {
		return nil, []error{vendorapi.FieldErr("signing_key", "required: the list is empty")}
	}
	var keys []signingKey
	var errs []error
	seen := map[string]int{}
	for i, t := range texts {
		key := "signing_key"
		if _, list := v.([]any); list {
			key = fmt.Sprintf("signing_key[%d]", i)
		}
		k, err := parseKey(t)
		if err != nil {
			errs = append(errs, vendorapi.KeyErr(key, err))
			continue
		}
		if j, dup := seen[k.kid]; dup {
			errs = append(errs, vendorapi.FieldErr(key, "the same key as signing_key[%d]", j))
			continue
		}
		seen[k.kid] = i
		keys = append(keys, k)
	}
	return keys, errs
}

// parseReceiver reads one receiver's mapping, naming its keys under at.
func parseReceiver(at string, m map[string]any) (*receiver, []error) {
	var errs []error
	str := func(k string) string {
		v, ok := m[k]
		if !ok || v == nil {
			return ""
		}
		s, ok := v.(string)
		if !ok {
			errs = append(errs, vendorapi.FieldErr(at+"."+k, "must be a string"))
		}
		return s
	}
	for k := range m {
		switch k {
		case "url", "token", "audience", "subject_format":
		default:
			errs = append(errs, vendorapi.FieldErr(at+"."+k, "unknown key (known: audience, subject_format, token, url)"))
		}
	}
	r := &receiver{url: str("url"), token: vendorapi.Secret(str("token")), audience: str("audience"), format: str("subject_format")}
	if err := checkURL(r.url); err != nil {
		errs = append(errs, vendorapi.KeyErr(at+".url", err))
	} else {
		u, _ := url.Parse(r.url)
		r.label = u.Host + u.EscapedPath()
	}
	if r.audience == "" {
		r.audience = r.url
	}
	switch r.format {
	case "":
		r.format = FormatSubID
	case FormatSubID, FormatEventSubject:
	default:
		errs = append(errs, vendorapi.FieldErr(at+".subject_format", "want sub_id (SSF 1.0) or event_subject (Okta)"))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return r, nil
}

// Open returns the *Connector named name.
func (c *Config) Open(name string, d connectors.Deps) (connectors.Connector, error) {
	if c.parsed == nil {
		if err := c.Validate(); err != nil {
			return nil, err
		}
	}
	conn := &Connector{name: name, issuer: c.Issuer, keys: c.parsed.keys, now: time.Now}
	for _, r := range c.parsed.receivers {
		u, _ := url.Parse(r.url) // checked
		base := u.Scheme + "://" + u.Host
		o := vendorapi.ClientOptions{VendorError: summary, Refine: refine, Logger: d.Logger}
		if r.token != "" {
			tok := string(r.token)
			o.Auth = func(h http.Header) { h.Set("Authorization", "Bearer "+tok) }
			o.Secrets = []string{tok}
		}
		api, err := vendorapi.NewClient(name, base, d.HTTPClient, o)
		if err != nil {
			return nil, err
		}
		path := u.EscapedPath()
		if path == "" {
			path = "/"
		}
		conn.receivers = append(conn.receivers, push{receiver: r, api: api, path: path})
	}
	return conn, nil
}

// Connector pushes a CAEP session-revoked SET to every configured receiver.
//
// It has no Check: RFC 8935 gives a receiver nothing to read, and a probe
// would have to push an event, which a receiver acts on.
type Connector struct {
	name      string
	issuer    string
	keys      []signingKey // the first signs; all are published
	receivers []push
	now       func() time.Time

	mu          sync.Mutex
	keyRefusals map[string]int // invalid_key answers per jti, this process
}

// push is one receiver and the client that posts to it.
type push struct {
	*receiver
	api  *vendorapi.Client
	path string
}

var _ connectors.Connector = (*Connector)(nil)

// Name returns the configured connector name.
func (c *Connector) Name() string { return c.name }

// Revoke pushes a session-revoked SET for s to every receiver at once and
// answers Acknowledged when each has accepted it: a receiver takes the
// event and acts on it by its own policy, and nothing can be read back.
// Okta records it as an entity risk detection, and its entity risk policy
// decides what follows: Workflows, session revocation or Universal Logout
// [okta-itp]. Each receiver's answer is in the entry's detail.
//
// A receiver's failure does not stop the others: every receiver is sent
// its SET on every attempt, the same jti each time (see jti), so one that
// accepted before recognises it. When some receivers fail and any of the
// failures is retryable, the error is retryable (with the longest wait
// asked for); when all are permanent, the first is returned.
func (c *Connector) Revoke(ctx context.Context, s offboard.Subject) (offboard.Outcome, error) {
	email := strings.TrimSpace(s.Email)
	if email == "" {
		return "", &vendorapi.Error{System: c.name, Kind: vendorapi.Invalid, Msg: "subject has no email"}
	}
	s.Email = email
	errs := make([]error, len(c.receivers))
	sent := make([]bool, len(c.receivers))
	calls := make([]func(context.Context) error, len(c.receivers))
	for i, p := range c.receivers {
		calls[i] = func(ctx context.Context) error {
			errs[i], sent[i] = c.send(ctx, p, s), true
			return nil // every receiver is sent its SET, whatever the others answer
		}
	}
	_ = vendorapi.Concurrently(ctx, calls...)
	for i := range errs {
		if !sent[i] { // ctx ended before Concurrently started it
			errs[i] = &vendorapi.Error{System: c.name, Kind: vendorapi.Transient, Msg: "not sent", Err: ctx.Err()}
		}
	}
	for i, p := range c.receivers {
		if errs[i] == nil {
			connectors.Report(ctx, "%s: session-revoked accepted", p.label)
		}
	}
	if err := c.combine(errs); err != nil {
		return "", err
	}
	connectors.Report(ctx, "each receiver ends the sessions by its own policy; offboarder cannot read back whether it did")
	return offboard.Acknowledged, nil
}
