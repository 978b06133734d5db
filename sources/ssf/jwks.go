package ssf

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/vendorapi"
)

// Limits of the transmitter's key set.
const (
	// ssfMaxKeys bounds the keys of one JWK Set; a larger set is refused.
	ssfMaxKeys = 100
	// ssfMaxCandidates bounds the keys one SET without a kid is tried with.
	ssfMaxCandidates = 10
	// ssfMinRefresh is the least time between two fetches of a remote key
	// set, whatever SETs arrive: an unknown kid cannot make us hammer the
	// transmitter.
	ssfMinRefresh = 30 * time.Second
	// ssfKeysMaxAge is how long a fetched key set is used before it is
	// fetched again (when a SET arrives), so that keys the transmitter
	// withdrew stop verifying.
	ssfKeysMaxAge = time.Hour
	// ssfMinRSABits is the smallest RSA key used: the CAEP interoperability
	// profile's "minimum of 2048-bit keys".
	// https://openid.net/specs/openid-caep-interoperability-profile-1_0.html#name-event-signatures
	ssfMinRSABits = 2048
)

// errSSFRefreshLimited: the key set was fetched less than ssfMinRefresh ago.
var errSSFRefreshLimited = errors.New("the key set was fetched less than " + ssfMinRefresh.String() + " ago")

// ssfKey is one usable signature verification key of the transmitter.
type ssfKey struct {
	kid string
	alg jose.SignatureAlgorithm // the JWK's alg; "" fits every algorithm of its key type
	key any                     // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey: never a secret
}

// fits reports whether k may verify a signature made with alg: the JWK's
// alg, if it names one, must be alg, and the key type must be alg's.
func (k ssfKey) fits(alg jose.SignatureAlgorithm) bool {
	if k.alg != "" && k.alg != alg {
		return false
	}
	switch pub := k.key.(type) {
	case *rsa.PublicKey:
		switch alg {
		case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
			return true
		}
	case *ecdsa.PublicKey:
		switch alg {
		case jose.ES256:
			return pub.Curve == elliptic.P256()
		case jose.ES384:
			return pub.Curve == elliptic.P384()
		case jose.ES512:
			return pub.Curve == elliptic.P521()
		}
	case ed25519.PublicKey:
		return alg == jose.EdDSA
	}
	return false
}

// ssfKeys is the transmitter's key set: inline (fixed) or fetched from its
// jwks_uri, cached, and fetched again when a SET names a kid it lacks (at
// most once per ssfMinRefresh) or when it is older than ssfKeysMaxAge. A
// fetched set replaces the cached one whole: keys rotated out are dropped.
type ssfKeys struct {
	client *vendorapi.Client // nil: an inline set
	path   string
	query  url.Values

	fetchMu sync.Mutex // one fetch at a time

	mu      sync.Mutex // guards the fields below
	keys    []ssfKey
	fetched time.Time // last successful fetch
	tried   time.Time // last fetch, successful or not
}

func newInlineKeys(v any) (*ssfKeys, error) {
	var raw []byte
	switch t := v.(type) {
	case string:
		raw = []byte(t)
	case map[string]any:
		raw, _ = json.Marshal(t) // decoded from JSON, so it encodes
	default:
		return nil, errors.New(`want a JWK Set ({"keys": […]}) as a JSON string or a mapping`)
	}
	keys, err := parseJWKS(raw)
	if err != nil {
		return nil, err
	}
	return &ssfKeys{keys: keys}, nil
}

// jwksURL parses a jwks_uri: https, without credentials or fragment.
func jwksURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Opaque != "" || u.User != nil || u.Fragment != "" {
		return nil, errors.New("want an https URL without credentials or fragment")
	}
	return u, nil
}

// newRemoteKeys checks the jwks_uri (https, no credentials or fragment: SSF
// says it "MUST use HTTP over TLS") and prepares its client. Nothing is
// fetched until the first SET arrives.
// https://openid.net/specs/openid-sharedsignals-framework-1_0.html#discovery-meta
func newRemoteKeys(raw string, hc *http.Client) (*ssfKeys, error) {
	u, err := jwksURL(raw)
	if err != nil {
		return nil, err
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	client, err := vendorapi.NewClient("jwks", (&url.URL{Scheme: u.Scheme, Host: u.Host}).String(), hc,
		vendorapi.ClientOptions{Timeout: ssfFetchTimeout})
	if err != nil {
		return nil, errors.New("want an https URL without credentials or fragment")
	}
	return &ssfKeys{client: client, path: path, query: u.Query()}, nil
}

// lookup returns, at now, the keys a SET signed with alg under kid may be verified
// with ("" kid: every key that fits alg, at most ssfMaxCandidates). Its
// errors are RFC 8935 answers: 400 invalid_key when the transmitter's own
// current set has no such key; 503 when the set cannot be had now (the fetch
// failed, or the set was fetched moments ago and this kid is new), so that
// the transmitter retries. A stale set still serves while a fetch fails.
func (k *ssfKeys) lookup(ctx context.Context, kid string, alg jose.SignatureAlgorithm, now time.Time) ([]ssfKey, error) {
	keys, fetched := k.snapshot()
	found := candidates(keys, kid, alg)
	if k.client == nil {
		if len(found) == 0 {
			return nil, unknownKey(kid, alg)
		}
		return found, nil
	}
	if len(found) > 0 && !fetched.IsZero() && now.Sub(fetched) <= ssfKeysMaxAge {
		return found, nil
	}
	err := k.refresh(ctx, fetched, now)
	if err == nil {
		keys, _ = k.snapshot()
		if found = candidates(keys, kid, alg); len(found) == 0 {
			return nil, unknownKey(kid, alg)
		}
		return found, nil
	}
	if len(found) > 0 {
		return found, nil
	}
	msg := "the transmitter's keys could not be fetched; retry later"
	if errors.Is(err, errSSFRefreshLimited) {
		msg = "the signing key is not known yet; retry later"
	}
	return nil, ssfAnswer(http.StatusServiceUnavailable, "", fmt.Errorf("ssf: %w: the transmitter's keys: %w", sources.ErrUnauthorized, err), msg)
}

func unknownKey(kid string, alg jose.SignatureAlgorithm) error {
	if kid == "" {
		return ssfRefused(errInvalidKey, "no key of the transmitter fits algorithm %s", alg)
	}
	return ssfRefused(errInvalidKey, "no key of the transmitter has kid %q and fits algorithm %s", sources.Truncate(kid, 64), alg)
}

func (k *ssfKeys) snapshot() ([]ssfKey, time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.keys, k.fetched
}

// refresh fetches the key set unless another request fetched it after seen,
// or a fetch was tried less than ssfMinRefresh ago (errSSFRefreshLimited).
// The fetch is not cancelled with the request (a sender hanging up must not
// be able to keep the set from ever being fetched); it is bounded by
// ssfFetchTimeout.
func (k *ssfKeys) refresh(ctx context.Context, seen, now time.Time) error {
	k.fetchMu.Lock()
	defer k.fetchMu.Unlock()
	k.mu.Lock()
	fetched, tried := k.fetched, k.tried
	k.mu.Unlock()
	if fetched.After(seen) {
		return nil
	}
	if !tried.IsZero() && now.Sub(tried) < ssfMinRefresh {
		return errSSFRefreshLimited
	}
	k.mu.Lock()
	k.tried = now
	k.mu.Unlock()
	keys, err := k.fetch(ctx)
	if err != nil {
		return err
	}
	k.mu.Lock()
	k.keys, k.fetched = keys, now
	k.mu.Unlock()
	return nil
}

// fetch GETs the JWK Set document at jwks_uri. The connectors' client
// refuses redirects, bounds the answer to 4 MiB and classifies failures.
// https://www.rfc-editor.org/rfc/rfc7517.html#section-5
func (k *ssfKeys) fetch(ctx context.Context) ([]ssfKey, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ssfFetchTimeout)
	defer cancel()
	var raw json.RawMessage
	if _, err := k.client.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: k.path, Query: k.query}, &raw); err != nil {
		return nil, err
	}
	keys, err := parseJWKS(raw)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	return keys, nil
}

// candidates returns the keys of kid ("" kid: every key) that fit alg.
func candidates(keys []ssfKey, kid string, alg jose.SignatureAlgorithm) []ssfKey {
	var out []ssfKey
	for _, k := range keys {
		if (kid == "" || k.kid == kid) && k.fits(alg) {
			out = append(out, k)
			if len(out) == ssfMaxCandidates {
				break
			}
		}
	}
	return out
}

// jwkPrivateMembers are the JWK members of private or symmetric key
// material (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2). A published key
// set carries none; a key that does is skipped unread.
var jwkPrivateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"}

// parseJWKS returns the usable signature verification keys of a JWK Set:
// RSA keys of at least 2048 bits, EC keys on P-256, P-384 or P-521 and
// Ed25519 keys, whose use, if given, is "sig" and whose alg, if given, is an
// accepted signature algorithm. Every other key is skipped; a set with no
// usable key, or more than ssfMaxKeys keys, is an error.
// https://www.rfc-editor.org/rfc/rfc7517.html#section-4
func parseJWKS(b []byte) ([]ssfKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil || set.Keys == nil {
		return nil, errors.New(`not a JWK Set ({"keys": […]})`)
	}
	if len(set.Keys) > ssfMaxKeys {
		return nil, fmt.Errorf("more than %d keys", ssfMaxKeys)
	}
	var out []ssfKey
	for _, raw := range set.Keys {
		if k, ok := parseJWK(raw); ok {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no usable signing key (want RSA of at least %d bits, EC or Ed25519 public keys with use \"sig\")", ssfMinRSABits)
	}
	return out, nil
}

func parseJWK(raw json.RawMessage) (ssfKey, bool) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return ssfKey{}, false
	}
	for _, m := range jwkPrivateMembers {
		if _, ok := members[m]; ok {
			return ssfKey{}, false
		}
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil {
		return ssfKey{}, false
	}
	if jwk.Use != "" && jwk.Use != "sig" {
		return ssfKey{}, false
	}
	if _, ok := ssfAlgorithms[jwk.Algorithm]; jwk.Algorithm != "" && !ok {
		return ssfKey{}, false
	}
	switch pub := jwk.Key.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < ssfMinRSABits {
			return ssfKey{}, false
		}
	case *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return ssfKey{}, false
	}
	return ssfKey{kid: jwk.KeyID, alg: jose.SignatureAlgorithm(jwk.Algorithm), key: jwk.Key}, true
}
