// Package ssf is the ssf source: a receiver of Security Event Tokens pushed
// by an OpenID Shared Signals Framework transmitter (RFC 8935). Each SET is
// verified against the transmitter's key set (fetched from its jwks_uri or
// given inline), and CAEP and RISC events become offboarding events.
package ssf

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
)

// The ssf source receives Security Event Tokens pushed by an OpenID Shared
// Signals Framework transmitter. Sources, each cited again where it decides:
//
//   - SSF 1.0: https://openid.net/specs/openid-sharedsignals-framework-1_0.html
//   - CAEP 1.0: https://openid.net/specs/openid-caep-1_0.html
//   - RISC 1.0: https://openid.net/specs/openid-risc-profile-specification-1_0.html
//   - CAEP interoperability profile: https://openid.net/specs/openid-caep-interoperability-profile-1_0.html
//   - RFC 8417 (SET): https://www.rfc-editor.org/rfc/rfc8417.html
//   - RFC 8935 (push delivery): https://www.rfc-editor.org/rfc/rfc8935.html
//   - RFC 9493 (subject identifiers): https://www.rfc-editor.org/rfc/rfc9493.html

// ContentType is the media type of a pushed SET; any other Content-Type
// is refused.
// https://www.rfc-editor.org/rfc/rfc8935.html#section-2 (a SET Transmission
// Request carries Content-Type application/secevent+jwt)
const ContentType = "application/secevent+jwt"

// Event types the ssf source knows by name.
const (
	// Verification is the transmitter's stream check: answered and
	// ignored. https://openid.net/specs/openid-sharedsignals-framework-1_0.html#verification-event
	Verification = "https://schemas.openid.net/secevent/ssf/event-type/verification"
	// StreamUpdated says the transmitter changed the stream's status:
	// ignored. https://openid.net/specs/openid-sharedsignals-framework-1_0.html#stream-updated-event
	StreamUpdated = "https://schemas.openid.net/secevent/ssf/event-type/stream-updated"
	// CAEPSessionRevoked: the subject's session was revoked (security).
	// https://openid.net/specs/openid-caep-1_0.html#session-revoked
	CAEPSessionRevoked = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
	// RISCAccountDisabled: the account was disabled (deactivated; security
	// when its reason is "hijacking").
	// https://openid.net/specs/openid-risc-profile-specification-1_0.html#account-disabled
	RISCAccountDisabled = "https://schemas.openid.net/secevent/risc/event-type/account-disabled"
	// RISCAccountPurged: the account was permanently deleted (terminated).
	// https://openid.net/specs/openid-risc-profile-specification-1_0.html#account-purged
	RISCAccountPurged = "https://schemas.openid.net/secevent/risc/event-type/account-purged"
	// RISCCredentialCompromise: a credential of the subject was found
	// compromised (security).
	// https://openid.net/specs/openid-risc-profile-specification-1_0.html#credential-compromise
	RISCCredentialCompromise = "https://schemas.openid.net/secevent/risc/event-type/credential-compromise"
	// RISCSessionsRevoked is RISC's deprecated forerunner of
	// CAEPSessionRevoked, still sent by older transmitters (security).
	// https://openid.net/specs/openid-risc-profile-specification-1_0.html#sessions-revoked
	RISCSessionsRevoked = "https://schemas.openid.net/secevent/risc/event-type/sessions-revoked"
)

// ssfDefaultEvents maps event types to reasons; `events` adds to it and
// overrides it.
var ssfDefaultEvents = map[string]offboard.Reason{
	CAEPSessionRevoked:       offboard.ReasonSecurity,
	RISCSessionsRevoked:      offboard.ReasonSecurity,
	RISCAccountDisabled:      offboard.ReasonDeactivated,
	RISCAccountPurged:        offboard.ReasonTerminated,
	RISCCredentialCompromise: offboard.ReasonSecurity,
}

// ssfAlgorithms are the signature algorithms allowed_algs may name: only
// asymmetric ones, so that no public key can ever be used as an HMAC
// secret, and never "none".
var ssfAlgorithms = map[string]jose.SignatureAlgorithm{
	"RS256": jose.RS256, "RS384": jose.RS384, "RS512": jose.RS512,
	"PS256": jose.PS256, "PS384": jose.PS384, "PS512": jose.PS512,
	"ES256": jose.ES256, "ES384": jose.ES384, "ES512": jose.ES512,
	"EdDSA": jose.EdDSA,
}

// ssfDefaultAlgs: RS256 is the one the CAEP interoperability profile
// requires ("All events MUST be signed using the RS256 algorithm using a
// minimum of 2048-bit keys"); PS256 and ES256 are the other common choices.
// https://openid.net/specs/openid-caep-interoperability-profile-1_0.html#name-event-signatures
var ssfDefaultAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256}

// DefaultMaxAge is how old a SET's iat may be before it is refused when
// max_age is not set. Transmitters hold events while a stream is paused and
// send them later, so it is generous; a replayed SET is a duplicate jti and
// changes nothing.
const DefaultMaxAge = 24 * time.Hour

// ssfFetchTimeout bounds one fetch of the transmitter's JWKS.
const ssfFetchTimeout = 5 * time.Second

// Source is a Shared Signals Framework receiver for push delivery (RFC 8935).
// Every SET must be a JWS signed by the configured issuer's key with an
// allowed asymmetric algorithm, typed secevent+jwt, addressed to one of the
// configured audiences, and issued within max_age. Failures are answered as
// RFC 8935 prescribes: 400 with {"err": …, "description": …}.
type Source struct {
	name     string
	issuer   string
	audience []string
	algs     []jose.SignatureAlgorithm
	maxAge   time.Duration
	events   map[string]offboard.Reason
	keys     *ssfKeys
	authz    *[32]byte // authorization_header's hash, if configured
	now      func() time.Time
	// resolveWith is the connector that resolves id-only subjects.
	resolveWith string
}

var (
	_ sources.Source            = (*Source)(nil)
	_ sources.ConnectorResolved = (*Source)(nil)
)

// ResolveWith implements sources.ConnectorResolved: the resolve_with
// connector, "" when none is configured.
func (s *Source) ResolveWith() string { return s.resolveWith }

// Name implements sources.Source.
func (s *Source) Name() string { return s.name }

// Type implements sources.Source.
func (s *Source) Type() string { return "ssf" }

// Handshake implements sources.Source: SSF has none; the transmitter checks the
// stream with a verification event, an ordinary SET.
func (s *Source) Handshake(*sources.Request) (*sources.Response, bool) { return nil, false }

// Verify implements sources.Source. It checks, in order: the Authorization header
// is the configured authorization_header, if one is; the Content-Type is
// application/secevent+jwt; the body is a JWS compact serialization (not
// encrypted) whose alg is allowed and whose typ is secevent+jwt; the
// signature verifies with the transmitter's key named by kid (an unknown kid
// makes a remote key set be fetched again, at most every 30 seconds); iss is
// the issuer; aud holds an audience; iat is no older than max_age and not
// ahead of now by more than DefaultTolerance; exp and nbf, if present, hold.
//
// Every error wraps ErrUnauthorized and is a *ResponseError carrying RFC
// 8935's answer: 400 with err invalid_request (not a SET), invalid_key
// (algorithm, key or signature), invalid_issuer, invalid_audience or
// authentication_failed (iat, exp, nbf); or 503 when the transmitter's keys
// cannot be fetched, so that the transmitter retries. Nothing is recorded.
func (s *Source) Verify(r *sources.Request) error {
	_, err := s.verify(r)
	return err
}

// verify authenticates r and returns the SET's verified claims.
func (s *Source) verify(r *sources.Request) ([]byte, error) {
	// The stream's authorization_header, when configured, comes first and is
	// refused as RFC 8935 §2.4's authentication_failed ("could not
	// authenticate the SET Transmitter from the contents of the request").
	if s.authz != nil {
		if v := r.Header.Values("Authorization"); len(v) != 1 || !sources.SameSecret(v[0], *s.authz) {
			return nil, ssfRefused(errAuthFailed, "the Authorization header is missing or is not the stream's authorization_header")
		}
	}
	// https://www.rfc-editor.org/rfc/rfc8935.html#section-2
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !strings.EqualFold(mt, ContentType) {
		return nil, ssfRefused(errInvalidRequest, "content type must be %s", ContentType)
	}
	token := string(bytes.TrimSpace(r.Body))
	if strings.Count(token, ".") == 4 {
		return nil, ssfRefused(errInvalidRequest, "encrypted SETs (JWE) are not supported; send a signed SET")
	}
	jws, err := jose.ParseSignedCompact(token, s.algs)
	if err != nil {
		if ua, ok := errors.AsType[*jose.ErrUnexpectedSignatureAlgorithm](err); ok {
			return nil, ssfRefused(errInvalidKey, "algorithm %q is not accepted (accepted: %s)", sources.Truncate(string(ua.Got), 32), algNames(s.algs))
		}
		return nil, ssfRefused(errInvalidRequest, "body is not a SET in JWS compact serialization")
	}
	h := jws.Signatures[0].Header
	// SSF SETs "MUST use explicit typing"; RFC 8417 §2.3 names the value.
	// https://openid.net/specs/openid-sharedsignals-framework-1_0.html#explicit-typing
	// https://www.rfc-editor.org/rfc/rfc8417.html#section-2.3
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(typ, "secevent+jwt") && !strings.EqualFold(typ, ContentType) {
		return nil, ssfRefused(errInvalidRequest, "JOSE header typ must be secevent+jwt")
	}
	now := s.now()
	alg := jose.SignatureAlgorithm(h.Algorithm)
	keys, err := s.keys.lookup(orBackground(r.Context), h.KeyID, alg, now)
	if err != nil {
		return nil, err
	}
	var payload []byte
	verified := false
	for _, k := range keys {
		if payload, err = jws.Verify(k.key); err == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, ssfRefused(errInvalidKey, "signature does not verify with the transmitter's keys")
	}
	var c jwt.Claims
	// Duplicate keys, keys in another case (ISS) and invalid UTF-8 are
	// refused before any claim is read.
	if err := sources.CheckJSON(payload, reflect.TypeFor[jwt.Claims]()); err != nil && json.Valid(payload) {
		return nil, ssfMalformed("claims: %s", err)
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		if t := bytes.TrimSpace(payload); json.Valid(t) && t[0] == '{' {
			return nil, ssfRefused(errInvalidRequest, "claims: iss, aud, iat, exp, nbf, sub or jti has the wrong type")
		}
		return nil, ssfRefused(errInvalidRequest, "claims are not a JSON object")
	}
	// https://openid.net/specs/openid-sharedsignals-framework-1_0.html#iss-claim
	if c.Issuer != s.issuer {
		return nil, ssfRefused(errInvalidIssuer, "iss is not the configured issuer")
	}
	// https://openid.net/specs/openid-sharedsignals-framework-1_0.html#aud-claim
	if !anyAudience(c.Audience, s.audience) {
		return nil, ssfRefused(errInvalidAudience, "aud does not name this receiver")
	}
	// iat is required. https://www.rfc-editor.org/rfc/rfc8417.html#section-2.2
	switch {
	case c.IssuedAt == nil:
		return nil, ssfRefused(errInvalidRequest, "iat: required")
	case c.IssuedAt.Time().After(now.Add(sources.DefaultTolerance)):
		return nil, ssfRefused(errAuthFailed, "iat is more than %s ahead of the receiver's clock", sources.DefaultTolerance)
	case now.Sub(c.IssuedAt.Time()) > s.maxAge:
		return nil, ssfRefused(errAuthFailed, "iat is older than max_age (%s)", s.maxAge)
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Time: now}, sources.DefaultTolerance); err != nil {
		return nil, ssfRefused(errAuthFailed, "exp or nbf does not hold")
	}
	return payload, nil
}

func anyAudience(got jwt.Audience, want []string) bool {
	for _, w := range want {
		if got.Contains(w) {
			return true
		}
	}
	return false
}

func algNames(algs []jose.SignatureAlgorithm) string {
	names := make([]string, len(algs))
	for i, a := range algs {
		names[i] = string(a)
	}
	return strings.Join(names, ", ")
}

func orBackground(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}

// RFC 8935 error codes.
// https://www.rfc-editor.org/rfc/rfc8935.html#section-2.4
const (
	errInvalidRequest  = "invalid_request"
	errInvalidKey      = "invalid_key"
	errInvalidIssuer   = "invalid_issuer"
	errInvalidAudience = "invalid_audience"
	errAuthFailed      = "authentication_failed"
)

// ssfRefused is a Verify failure: ErrUnauthorized, answered as RFC 8935
// prescribes for a SET that cannot be parsed, validated or authenticated:
// 400 with an application/json {"err", "description"} body.
// https://www.rfc-editor.org/rfc/rfc8935.html#section-2.3
func ssfRefused(code, format string, a ...any) error {
	return ssfAnswer(http.StatusBadRequest, code, fmt.Errorf("ssf: %w", sources.Unauthorized(code+": "+format, a...)), fmt.Sprintf(format, a...))
}

// ssfMalformed is a Parse failure: ErrMalformed, answered 400 with err
// invalid_request ("the Event Payload within the SET does not conform to the
// event's definition").
// https://www.rfc-editor.org/rfc/rfc8935.html#section-2.4
func ssfMalformed(format string, a ...any) error {
	return ssfAnswer(http.StatusBadRequest, errInvalidRequest, fmt.Errorf("ssf: %w", sources.Malformed(errInvalidRequest+": "+format, a...)), fmt.Sprintf(format, a...))
}

func ssfAnswer(status int, code string, err error, description string) error {
	body := map[string]string{"err": code, "description": description}
	if status != http.StatusBadRequest {
		// Not a SET error: a general HTTP error condition, answered with its
		// own status. https://www.rfc-editor.org/rfc/rfc8935.html#section-2.3
		body = map[string]string{"error": description}
	}
	return &sources.ResponseError{Err: err, Response: *sources.JSONResponse(status, body)}
}

// IgnoreStatus implements sources.IgnoreStatuser: RFC 8935 §2.2 acknowledges every
// valid SET with 202, the verification event and unmapped types included.
// https://www.rfc-editor.org/rfc/rfc8935#section-2.2
func (s *Source) IgnoreStatus() int { return http.StatusAccepted }
