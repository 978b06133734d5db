package ssf

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
)

// The issuer and audience of the claim sets in testdata, from CAEP 1.0's
// examples. https://openid.net/specs/openid-caep-1_0.html#session-revoked
const (
	ssfTestIssuer   = "https://idp.example.com/123456789/"
	ssfTestAudience = "https://sp.example.com/caep"
)

// ssfTestKeyset holds the keys the tests sign with: generated once per test
// binary (RSA generation is slow).
type ssfTestKeyset struct {
	rsa, rsa2, rsaOther *rsa.PrivateKey
	ec                  *ecdsa.PrivateKey
}

var (
	ssfKeysOnce sync.Once
	ssfKeysVal  ssfTestKeyset
)

func ssfTestKeys(t testing.TB) ssfTestKeyset {
	t.Helper()
	ssfKeysOnce.Do(func() {
		gen := func() *rsa.PrivateKey {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			return k
		}
		ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		ssfKeysVal = ssfTestKeyset{rsa: gen(), rsa2: gen(), rsaOther: gen(), ec: ec}
	})
	return ssfKeysVal
}

// ssfJWK is the public JWK of key.
func ssfJWK(kid, alg string, key any) jose.JSONWebKey {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		key = &k.PublicKey
	case *ecdsa.PrivateKey:
		key = &k.PublicKey
	}
	return jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: alg, Use: "sig"}
}

// ssfJWKS is the JWK Set of keys, as JSON.
func ssfJWKS(t testing.TB, keys ...jose.JSONWebKey) string {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// ssfDefaultJWKS publishes the RSA key as k1 (RS256) and the EC key as e1.
func ssfDefaultJWKS(t testing.TB) string {
	k := ssfTestKeys(t)
	return ssfJWKS(t, ssfJWK("k1", "RS256", k.rsa), ssfJWK("e1", "", k.ec))
}

// newTestSSF builds an ssf source trusting ssfDefaultJWKS; settings are
// merged over the defaults (a nil value deletes a key).
func newTestSSF(t testing.TB, settings map[string]any) *Source {
	t.Helper()
	base := map[string]any{"issuer": ssfTestIssuer, "audience": ssfTestAudience, "jwks": ssfDefaultJWKS(t)}
	for k, v := range settings {
		if v == nil {
			delete(base, k)
			continue
		}
		base[k] = v
	}
	srcs, err := build([]sources.Spec{{Name: "caep", Type: "ssf", Settings: base}})
	if err != nil {
		t.Fatal(err)
	}
	return srcs[0].(*Source)
}

// setClaims reads testdata/name with iat set to at and changes applied
// (a nil value deletes a claim).
func setClaims(t testing.TB, name string, at time.Time, changes map[string]any) []byte {
	t.Helper()
	raw := testdataFile(t, name)
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	c["iat"] = at.Unix()
	for k, v := range changes {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signSET signs claims as a JWS compact serialization with key under kid
// ("" sends none) and typ ("" sends none).
func signSET(t testing.TB, claims []byte, alg jose.SignatureAlgorithm, kid string, key any, typ string) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts.WithType(jose.ContentType(typ))
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := signer.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rs256 signs claims as the transmitter does: RS256, kid k1, typ secevent+jwt.
func rs256(t testing.TB, claims []byte) string {
	t.Helper()
	return signSET(t, claims, jose.RS256, "k1", ssfTestKeys(t).rsa, "secevent+jwt")
}

// handMadeJWS joins a header and claims with a signature of sign(signing
// input), for the forms go-jose will not produce (alg none, HMAC with a
// public key).
func handMadeJWS(header string, claims []byte, sign func(input []byte) []byte) string {
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString(claims)
	return input + "." + enc.EncodeToString(sign([]byte(input)))
}

func ssfRequest(t testing.TB, token, contentType string) *sources.Request {
	t.Helper()
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	h.Set("Accept", "application/json")
	return &sources.Request{Context: t.Context(), Method: http.MethodPost, Header: h, Body: []byte(token)}
}

// wantSSFAnswer checks that err is class, carrying RFC 8935's 400 answer
// with the error code.
func wantSSFAnswer(t *testing.T, err error, class error, code string) {
	t.Helper()
	if !errors.Is(err, class) {
		t.Fatalf("want %v, got %v", class, err)
	}
	if !strings.HasPrefix(err.Error(), "ssf: ") {
		t.Fatalf("error not prefixed with the source: %v", err)
	}
	var re *sources.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("no protocol answer in %v", err)
	}
	if re.Response.Status != http.StatusBadRequest || re.Response.ContentType != "application/json" {
		t.Fatalf("answer %d %q, want 400 application/json", re.Response.Status, re.Response.ContentType)
	}
	var body map[string]string
	if err := json.Unmarshal(re.Response.Body, &body); err != nil {
		t.Fatalf("answer is not a JSON object of strings: %s", re.Response.Body)
	}
	if len(body) != 2 || body["err"] != code || body["description"] == "" {
		t.Fatalf("answer %s, want err %q and a description", re.Response.Body, code)
	}
}

func TestSSFAcceptsSignedSETs(t *testing.T) {
	keys := ssfTestKeys(t)
	now := time.Now()
	def := newTestSSF(t, nil)
	enabled := newTestSSF(t, map[string]any{"events": map[string]any{"https://schemas.openid.net/secevent/risc/event-type/account-enabled": "suspended"}})
	two := map[string]any{"events": map[string]any{
		RISCCredentialCompromise: map[string]any{"credential_type": "password"},
		CAEPSessionRevoked:       map[string]any{},
	}}
	tests := []struct {
		name    string
		src     *Source
		token   string
		want    []sources.Event // nil: ignored
		ignored string          // what Ignored must hold
	}{
		{name: "a CAEP session-revoked SET for an email subject is a security event", src: def,
			token: rs256(t, setClaims(t, "caep-session-revoked-email.json", now, nil)),
			want:  []sources.Event{{ID: "24c63fb56e5a2d77a6b512616ca9fa26", Type: CAEPSessionRevoked, Email: "jane.smith@example.com", Reason: offboard.ReasonSecurity}}},
		{name: "a RISC account-disabled SET deactivates", src: def,
			token: rs256(t, setClaims(t, "risc-account-disabled.json", now, nil)),
			want:  []sources.Event{{ID: "756E69717565206964656E746966696572", Type: RISCAccountDisabled, Email: "foo@example.com", Reason: offboard.ReasonDeactivated}}},
		{name: "account-disabled for hijacking is a security event, and an aliases subject gives its email and phone", src: def,
			token: rs256(t, setClaims(t, "risc-account-disabled-hijacking.json", now, nil)),
			want: []sources.Event{{ID: "756E69717565206964656E746966696573", Type: RISCAccountDisabled, Email: "user@example.com", Reason: offboard.ReasonSecurity,
				IDs: map[string]string{"phone_number": "+1 206 555 0123"}}}},
		{name: "account-purged terminates", src: def,
			token: rs256(t, setClaims(t, "risc-account-purged.json", now, nil)),
			want:  []sources.Event{{ID: "756E69717565206964656E746966696575", Type: RISCAccountPurged, Email: "john.doe@example.com", Reason: offboard.ReasonTerminated}}},
		{name: "credential-compromise with a complex subject offboards its user", src: def,
			token: rs256(t, setClaims(t, "risc-credential-compromise.json", now, nil)),
			want:  []sources.Event{{ID: "756E69717565206964656E746966696576", Type: RISCCredentialCompromise, Email: "joe.smith@example.com", Reason: offboard.ReasonSecurity}}},
		{name: "a subject inside the event, as before sub_id, is read", src: def,
			token: rs256(t, setClaims(t, "legacy-event-subject.json", now, nil)),
			want:  []sources.Event{{ID: "756E69717565206964656E746966696578", Type: CAEPSessionRevoked, Email: "jane.smith@example.com", Reason: offboard.ReasonSecurity}}},
		{name: "an aud list that names this receiver is accepted", src: def,
			token: rs256(t, setClaims(t, "risc-account-purged.json", now, map[string]any{"aud": []string{"https://other.example/", ssfTestAudience}})),
			want:  []sources.Event{{ID: "756E69717565206964656E746966696575", Type: RISCAccountPurged, Email: "john.doe@example.com", Reason: offboard.ReasonTerminated}}},
		{name: "an ES256 SET verifies with the EC key", src: def,
			token: signSET(t, setClaims(t, "risc-account-purged.json", now, nil), jose.ES256, "e1", keys.ec, "secevent+jwt"),
			want:  []sources.Event{{ID: "756E69717565206964656E746966696575", Type: RISCAccountPurged, Email: "john.doe@example.com", Reason: offboard.ReasonTerminated}}},
		{name: "a SET without kid is verified with the keys that fit its alg", src: def,
			token: signSET(t, setClaims(t, "risc-account-purged.json", now, nil), jose.RS256, "", keys.rsa, "secevent+jwt"),
			want:  []sources.Event{{ID: "756E69717565206964656E746966696575", Type: RISCAccountPurged, Email: "john.doe@example.com", Reason: offboard.ReasonTerminated}}},
		{name: "typ may be the full media type", src: def,
			token: signSET(t, setClaims(t, "risc-account-purged.json", now, nil), jose.RS256, "k1", keys.rsa, "application/secevent+jwt"),
			want:  []sources.Event{{ID: "756E69717565206964656E746966696575", Type: RISCAccountPurged, Email: "john.doe@example.com", Reason: offboard.ReasonTerminated}}},
		{name: "an event type mapped by the events setting is offboarded", src: enabled,
			token: rs256(t, setClaims(t, "risc-account-enabled.json", now, nil)),
			want: []sources.Event{{ID: "756E69717565206964656E746966696577", Type: "https://schemas.openid.net/secevent/risc/event-type/account-enabled",
				Email: "foo@example.com", Reason: offboard.ReasonSuspended}}},
		{name: "two mapped events in one SET are jti#1 and jti#2, in the order of their types", src: def,
			token: rs256(t, setClaims(t, "risc-account-purged.json", now, two)),
			want: []sources.Event{
				{ID: "756E69717565206964656E746966696575#1", Type: CAEPSessionRevoked, Email: "john.doe@example.com", Reason: offboard.ReasonSecurity},
				{ID: "756E69717565206964656E746966696575#2", Type: RISCCredentialCompromise, Email: "john.doe@example.com", Reason: offboard.ReasonSecurity},
			}},
		{name: "the verification event is acknowledged and ignored", src: def,
			token: rs256(t, setClaims(t, "ssf-verification.json", now, nil)), ignored: "ssf verification event"},
		{name: "a stream-updated event is ignored", src: def,
			token: rs256(t, setClaims(t, "ssf-stream-updated.json", now, nil)), ignored: "ssf stream-updated event"},
		{name: "an event type that is not mapped is ignored by name", src: def,
			token:   rs256(t, setClaims(t, "risc-account-enabled.json", now, nil)),
			ignored: "ssf: not an offboarding event type: https://schemas.openid.net/secevent/risc/event-type/account-enabled"},
		{name: "a session named only by an opaque id is ignored, and the answer says why", src: def,
			token:   rs256(t, setClaims(t, "caep-session-revoked.json", now, nil)),
			ignored: "ssf: skipped session-revoked: subject named only by opaque; subject without email: set resolve_with to resolve iss_sub and opaque subjects"},
		{name: "a complex subject whose user is an iss_sub is ignored", src: def,
			token: rs256(t, setClaims(t, "caep-session-revoked-complex.json", now, nil)), ignored: "session-revoked: subject named only by iss_sub;"},
		{name: "an iss_sub account-disabled is ignored", src: def,
			token: rs256(t, setClaims(t, "risc-account-disabled-iss-sub.json", now, nil)), ignored: "account-disabled: subject named only by iss_sub;"},
		{name: "Google's subject_type iss-sub is read as iss_sub", src: def,
			token: rs256(t, setClaims(t, "google-sessions-revoked.json", now, nil)), ignored: "sessions-revoked: subject named only by iss_sub;"},
		{name: "an unknown subject format is ignored by name", src: def,
			token:   rs256(t, setClaims(t, "risc-account-purged.json", now, map[string]any{"sub_id": map[string]any{"format": "catalog_item", "catalog_id": "c0384/winter/2354122"}})),
			ignored: "account-purged: subject named only by format catalog_item;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ssfRequest(t, tt.token, ContentType)
			if err := tt.src.Verify(r); err != nil {
				t.Fatalf("verify: %v", err)
			}
			d, err := tt.src.Parse(r)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if tt.want == nil {
				if len(d.Events) != 0 || !strings.Contains(d.Ignored, tt.ignored) {
					t.Fatalf("want ignored with %q, got %+v", tt.ignored, d)
				}
				return
			}
			if len(d.Events) != len(tt.want) {
				t.Fatalf("want %d events, got %+v", len(tt.want), d)
			}
			for i, ev := range d.Events {
				w := tt.want[i]
				if ev.ID != w.ID || ev.Type != w.Type || ev.Email != w.Email || ev.Reason != w.Reason || !maps.Equal(ev.IDs, w.IDs) ||
					!ev.EffectiveAt.IsZero() || ev.Systems != nil || ev.DryRun {
					t.Fatalf("event %d:\n got %+v\nwant %+v", i, ev, w)
				}
			}
		})
	}
}

func TestSSFRefusesWithTheRFCAnswer(t *testing.T) {
	keys := ssfTestKeys(t)
	now := time.Unix(1_800_000_000, 0)
	src := newTestSSF(t, map[string]any{"max_age": "1h"})
	src.now = func() time.Time { return now }
	good := setClaims(t, "caep-session-revoked-email.json", now, nil)
	claims := func(changes map[string]any) []byte {
		return setClaims(t, "caep-session-revoked-email.json", now, changes)
	}
	pub, err := x509.MarshalPKIXPublicKey(&keys.rsa.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})
	hmacWith := func(secret []byte) func([]byte) []byte {
		return func(in []byte) []byte {
			m := hmac.New(sha256.New, secret)
			m.Write(in)
			return m.Sum(nil)
		}
	}
	tampered := func() string {
		parts := strings.Split(rs256(t, good), ".")
		other := base64.RawURLEncoding.EncodeToString(claims(map[string]any{"sub_id": map[string]any{"format": "email", "email": "ceo@example.com"}}))
		return parts[0] + "." + other + "." + parts[2]
	}
	tests := []struct {
		name        string
		token       string
		contentType string
		parse       bool // the failure is Parse's (ErrMalformed), not Verify's
		code        string
	}{
		{name: "a signature by another key under the transmitter's kid", token: signSET(t, good, jose.RS256, "k1", keys.rsaOther, "secevent+jwt"), code: errInvalidKey},
		{name: "claims changed after signing", token: tampered(), code: errInvalidKey},
		{name: "a kid the transmitter does not publish", token: signSET(t, good, jose.RS256, "k9", keys.rsa, "secevent+jwt"), code: errInvalidKey},
		{name: "alg none", token: handMadeJWS(`{"alg":"none","typ":"secevent+jwt"}`, good, func([]byte) []byte { return nil }), code: errInvalidKey},
		{name: "HS256 keyed with the transmitter's public key (algorithm confusion)",
			token: handMadeJWS(`{"alg":"HS256","typ":"secevent+jwt","kid":"k1"}`, good, hmacWith(pubPEM)), code: errInvalidKey},
		{name: "HS256 keyed with the public key's DER bytes",
			token: handMadeJWS(`{"alg":"HS256","typ":"secevent+jwt","kid":"k1"}`, good, hmacWith(pub)), code: errInvalidKey},
		{name: "an RSA signature labelled ES256 under the RSA key's kid", token: handMadeJWS(`{"alg":"ES256","typ":"secevent+jwt","kid":"k1"}`, good, func(in []byte) []byte {
			h := sha256.Sum256(in)
			sig, _ := rsa.SignPKCS1v15(rand.Reader, keys.rsa, crypto.SHA256, h[:])
			return sig
		}), code: errInvalidKey},
		{name: "an algorithm not in allowed_algs", token: signSET(t, good, jose.RS512, "k9", keys.rsa, "secevent+jwt"), code: errInvalidKey},
		{name: "no typ", token: signSET(t, good, jose.RS256, "k1", keys.rsa, ""), code: errInvalidRequest},
		{name: "typ JWT (an ID token or access token)", token: signSET(t, good, jose.RS256, "k1", keys.rsa, "JWT"), code: errInvalidRequest},
		{name: "another issuer", token: rs256(t, claims(map[string]any{"iss": "https://evil.example/"})), code: errInvalidIssuer},
		{name: "no issuer", token: rs256(t, claims(map[string]any{"iss": nil})), code: errInvalidIssuer},
		{name: "another audience", token: rs256(t, claims(map[string]any{"aud": "https://other.example/"})), code: errInvalidAudience},
		{name: "no audience", token: rs256(t, claims(map[string]any{"aud": nil})), code: errInvalidAudience},
		{name: "no iat", token: rs256(t, claims(map[string]any{"iat": nil})), code: errInvalidRequest},
		{name: "an iat older than max_age", token: rs256(t, claims(map[string]any{"iat": now.Add(-61 * time.Minute).Unix()})), code: errAuthFailed},
		{name: "an iat more than the tolerance ahead", token: rs256(t, claims(map[string]any{"iat": now.Add(6 * time.Minute).Unix()})), code: errAuthFailed},
		{name: "an exp in the past", token: rs256(t, claims(map[string]any{"exp": now.Add(-10 * time.Minute).Unix()})), code: errAuthFailed},
		{name: "an iat of the wrong type", token: rs256(t, claims(map[string]any{"iat": "yesterday"})), code: errInvalidRequest},
		{name: "content type application/json", token: rs256(t, good), contentType: "application/json", code: errInvalidRequest},
		{name: "no content type", token: rs256(t, good), contentType: "-", code: errInvalidRequest},
		{name: "an encrypted SET", token: "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d", code: errInvalidRequest},
		{name: "a body that is not a JWS", token: "hello", code: errInvalidRequest},
		{name: "a JWS with a JSON header that is not base64url", token: `{"alg":"RS256"}.e30.AA`, code: errInvalidRequest},
		{name: "claims that are not JSON", token: rs256(t, []byte("not json")), code: errInvalidRequest},
		{name: "no jti", token: rs256(t, claims(map[string]any{"jti": nil})), parse: true, code: errInvalidRequest},
		{name: "a jti with a control character", token: rs256(t, claims(map[string]any{"jti": "a\nb"})), parse: true, code: errInvalidRequest},
		{name: "no events", token: rs256(t, claims(map[string]any{"events": nil})), parse: true, code: errInvalidRequest},
		{name: "an empty events claim", token: rs256(t, claims(map[string]any{"events": map[string]any{}})), parse: true, code: errInvalidRequest},
		{name: "an event that is not an object", token: rs256(t, claims(map[string]any{"events": map[string]any{CAEPSessionRevoked: "revoked"}})), parse: true, code: errInvalidRequest},
		{name: "an email subject that is not an email", token: rs256(t, claims(map[string]any{"sub_id": map[string]any{"format": "email", "email": "alice"}})), parse: true, code: errInvalidRequest},
		{name: "an email subject without its email member", token: rs256(t, claims(map[string]any{"sub_id": map[string]any{"format": "email"}})), parse: true, code: errInvalidRequest},
		{name: "a subject without a format", token: rs256(t, claims(map[string]any{"sub_id": map[string]any{"email": "a@example.com"}})), parse: true, code: errInvalidRequest},
		{name: "sub_id and the event's subject naming different emails", token: rs256(t, claims(map[string]any{"events": map[string]any{
			CAEPSessionRevoked: map[string]any{"subject": map[string]any{"format": "email", "email": "bob@example.com"}},
		}})), parse: true, code: errInvalidRequest},
		{name: "aliases inside aliases", token: rs256(t, claims(map[string]any{"sub_id": map[string]any{"format": "aliases", "identifiers": []any{
			map[string]any{"format": "aliases", "identifiers": []any{map[string]any{"format": "email", "email": "a@example.com"}}},
		}}})), parse: true, code: errInvalidRequest},
		{name: "a complex subject inside a complex subject", token: rs256(t, claims(map[string]any{"sub_id": map[string]any{"format": "complex",
			"user": map[string]any{"format": "complex", "user": map[string]any{"format": "email", "email": "a@example.com"}},
		}})), parse: true, code: errInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct := ContentType
			switch tt.contentType {
			case "":
			case "-":
				ct = ""
			default:
				ct = tt.contentType
			}
			r := ssfRequest(t, tt.token, ct)
			err := src.Verify(r)
			if tt.parse {
				if err != nil {
					t.Fatalf("verify: %v", err)
				}
				_, err = src.Parse(r)
				wantSSFAnswer(t, err, sources.ErrMalformed, tt.code)
			} else {
				wantSSFAnswer(t, err, sources.ErrUnauthorized, tt.code)
				// Parse verifies again: it never reads what Verify refused.
				if _, perr := src.Parse(r); !errors.Is(perr, sources.ErrUnauthorized) {
					t.Fatalf("parse of a refused SET: %v", perr)
				}
			}
			if sig := tt.token[strings.LastIndexByte(tt.token, '.')+1:]; len(sig) > 8 && strings.Contains(err.Error(), sig) {
				t.Fatalf("error text holds the signature: %v", err)
			}
		})
	}
}

// A stream configured with authorization_header (SSF 1.0, "Push Delivery
// using HTTP") takes only deliveries that carry exactly that Authorization
// value; the rest is RFC 8935's authentication_failed, before the SET is read.
func TestSSFAuthorizationHeader(t *testing.T) {
	const authz = "Bearer stream-7f3c9a1e5d2b8c4f"
	token := rs256(t, setClaims(t, "caep-session-revoked-email.json", time.Now(), nil))
	with := func(values ...string) *sources.Request {
		r := ssfRequest(t, token, ContentType)
		for _, v := range values {
			r.Header.Add("Authorization", v)
		}
		return r
	}
	src := newTestSSF(t, map[string]any{"authorization_header": authz})
	if err := src.Verify(with(authz)); err != nil {
		t.Fatalf("the stream's header: %v", err)
	}
	for name, r := range map[string]*sources.Request{
		"missing":           with(),
		"wrong":             with("Bearer stream-7f3c9a1e5d2b8c4e"),
		"a prefix of it":    with(authz[:len(authz)-1]),
		"twice":             with(authz, authz),
		"another scheme":    with("Basic " + authz[len("Bearer "):]),
		"with garbage body": {Context: t.Context(), Method: "POST", Header: http.Header{"Content-Type": {"text/plain"}}, Body: []byte("x")},
	} {
		t.Run(name, func(t *testing.T) {
			err := src.Verify(r)
			wantSSFAnswer(t, err, sources.ErrUnauthorized, errAuthFailed)
			if strings.Contains(err.Error(), authz) {
				t.Fatal("the error holds the secret")
			}
		})
	}
	// Without it, an Authorization header is neither needed nor looked at.
	if err := newTestSSF(t, nil).Verify(with("Bearer anything")); err != nil {
		t.Fatalf("no authorization_header configured: %v", err)
	}
}

func TestSSFIatWindowEdges(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	src := newTestSSF(t, map[string]any{"max_age": "1h"})
	src.now = func() time.Time { return now }
	for _, iat := range []time.Time{now.Add(-59 * time.Minute), now.Add(4 * time.Minute), now} {
		r := ssfRequest(t, rs256(t, setClaims(t, "caep-session-revoked-email.json", iat, nil)), ContentType)
		if err := src.Verify(r); err != nil {
			t.Errorf("iat %s from now: %v", iat.Sub(now), err)
		}
	}
}

func TestSSFBuildReportsEachKey(t *testing.T) {
	keys := ssfTestKeys(t)
	jwks := ssfDefaultJWKS(t)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		settings map[string]any
		want     string
	}{
		{"an issuer is required", map[string]any{"audience": "a", "jwks": jwks}, ".issuer: required"},
		{"an audience is required", map[string]any{"issuer": "i", "jwks": jwks}, ".audience: required"},
		{"an audience list holds strings", map[string]any{"issuer": "i", "audience": []any{"a", 1}, "jwks": jwks}, ".audience: list items must be strings"},
		{"keys are required", map[string]any{"issuer": "i", "audience": "a"}, ".jwks_uri: required"},
		{"jwks_uri and jwks are exclusive", map[string]any{"issuer": "i", "audience": "a", "jwks": jwks, "jwks_uri": "https://idp.example.com/jwks"}, "not both"},
		{"jwks_uri must be https", map[string]any{"issuer": "i", "audience": "a", "jwks_uri": "http://idp.example.com/jwks"}, ".jwks_uri: want an https URL"},
		{"jwks_uri must not hold credentials", map[string]any{"issuer": "i", "audience": "a", "jwks_uri": "https://u:p@idp.example.com/jwks"}, ".jwks_uri: want an https URL"},
		{"jwks must be a key set", map[string]any{"issuer": "i", "audience": "a", "jwks": "[]"}, ".jwks: not a JWK Set"},
		{"a symmetric key is not a usable key", map[string]any{"issuer": "i", "audience": "a", "jwks": `{"keys":[{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"}]}`}, ".jwks: no usable signing key"},
		{"an RSA key under 2048 bits is not a usable key", map[string]any{"issuer": "i", "audience": "a", "jwks": ssfJWKS(t, ssfJWK("s", "RS256", small))}, ".jwks: no usable signing key"},
		{"a key for encryption is not a usable key", map[string]any{"issuer": "i", "audience": "a", "jwks": ssfJWKS(t, jose.JSONWebKey{Key: &keys.rsa.PublicKey, KeyID: "x", Use: "enc"})}, ".jwks: no usable signing key"},
		{"HS256 is not an allowed algorithm", map[string]any{"issuer": "i", "audience": "a", "jwks": jwks, "allowed_algs": []any{"RS256", "HS256"}}, `.allowed_algs: "HS256" is not an accepted asymmetric algorithm`},
		{"none is not an allowed algorithm", map[string]any{"issuer": "i", "audience": "a", "jwks": jwks, "allowed_algs": []any{"none"}}, `.allowed_algs: "none"`},
		{"max_age is a bounded duration", map[string]any{"issuer": "i", "audience": "a", "jwks": jwks, "max_age": "10s"}, ".max_age: want a duration between 1m and 720h"},
		{"events map URIs", map[string]any{"issuer": "i", "audience": "a", "jwks": jwks, "events": map[string]any{"session-revoked": "security"}}, `.events["session-revoked"]: not an event type URI`},
		{"events map to reasons", map[string]any{"issuer": "i", "audience": "a", "jwks": jwks, "events": map[string]any{CAEPSessionRevoked: "logout"}}, ".events[\"" + CAEPSessionRevoked + "\"]: want one of"},
		{"unknown keys are refused", map[string]any{"issuer": "i", "audience": "a", "jwks": jwks, "secret": "x"}, `.secret: unknown key (known:`},
		{"a blank authorization_header", map[string]any{"issuer": "i", "audience": "a", "jwks": jwks, "authorization_header": "  "}, ".authorization_header: required: blanks are not a secret"},
		{"a short authorization_header", map[string]any{"issuer": "i", "audience": "a", "jwks": jwks, "authorization_header": "Bearer x"}, ".authorization_header: want 16 to 4096 printable characters"},
		{"resolve_with names a connector", map[string]any{"issuer": "i", "audience": "a", "jwks": jwks, "resolve_with": "Okta Prod"}, ".resolve_with: want a connector's name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := build([]sources.Spec{{Name: "caep", Type: "ssf", Settings: tt.settings}})
			if err == nil || !strings.Contains(err.Error(), "sources[0] (caep)") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("want an error with %q, got %v", tt.want, err)
			}
		})
	}
	t.Run("every problem is reported at once", func(t *testing.T) {
		_, err := build([]sources.Spec{{Name: "caep", Type: "ssf", Settings: map[string]any{"max_age": "1s"}}})
		for _, want := range []string{".issuer:", ".audience:", ".jwks_uri:", ".max_age:"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("errors lack %q: %v", want, err)
			}
		}
	})
	t.Run("jwks may be given as a mapping", func(t *testing.T) {
		var m map[string]any
		if err := json.Unmarshal([]byte(jwks), &m); err != nil {
			t.Fatal(err)
		}
		s := newTestSSF(t, map[string]any{"jwks": m, "audience": []any{"x", ssfTestAudience}})
		r := ssfRequest(t, rs256(t, setClaims(t, "risc-account-purged.json", time.Now(), nil)), ContentType)
		if err := s.Verify(r); err != nil {
			t.Fatal(err)
		}
	})
}
