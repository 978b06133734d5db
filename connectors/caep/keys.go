package caep

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/go-jose/go-jose/v4"
)

// minRSABits is the smallest RSA key accepted: the CAEP interoperability
// profile asks for RS256 with keys of at least 2048 bits [interop].
const minRSABits = 2048

// signingKey is one configured private key and what is published of it.
type signingKey struct {
	priv crypto.Signer
	alg  jose.SignatureAlgorithm // ES256 for EC P-256, RS256 for RSA
	kid  string                  // the RFC 7638 thumbprint of the public key, base64url
}

// public is the key's entry in the JWKS: its public half with kid, alg
// and use "sig" [RFC 7517 §4].
func (k signingKey) public() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
}

// parseKey reads one PEM private key: PKCS #8 ("PRIVATE KEY"), SEC 1 ("EC
// PRIVATE KEY") or PKCS #1 ("RSA PRIVATE KEY"), an EC key on P-256 or an
// RSA key of at least 2048 bits. Its kid is the SHA-256 JWK thumbprint
// (RFC 7638) of the public key, so every instance with the same key
// publishes and signs with the same kid. The error never holds key
// material.
func parseKey(text string) (signingKey, error) {
	rest := []byte(text)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return signingKey{}, errors.New("no PEM private key found (want -----BEGIN PRIVATE KEY----- or EC/RSA PRIVATE KEY)")
		}
		if _, encrypted := b.Headers["Proc-Type"]; encrypted {
			return signingKey{}, errors.New("the PEM key is encrypted: give it unencrypted (from a _file or ${ENV})")
		}
		var (
			key any
			err error
		)
		switch b.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return signingKey{}, errors.New("the PEM key is encrypted: give it unencrypted (from a _file or ${ENV})")
		default:
			continue // a certificate or parameters next to the key
		}
		if err != nil {
			return signingKey{}, fmt.Errorf("the %s block cannot be parsed", b.Type)
		}
		return newKey(key)
	}
}

// newKey checks the key's kind and size and names it.
func newKey(key any) (signingKey, error) {
	k := signingKey{}
	switch key := key.(type) {
	case *ecdsa.PrivateKey:
		if key.Curve != elliptic.P256() {
			return k, fmt.Errorf("an EC key must be on P-256 (for ES256), not %s", key.Curve.Params().Name)
		}
		k.priv, k.alg = key, jose.ES256
	case *rsa.PrivateKey:
		if key.N.BitLen() < minRSABits {
			return k, fmt.Errorf("an RSA key must have at least %d bits, not %d", minRSABits, key.N.BitLen())
		}
		k.priv, k.alg = key, jose.RS256
	default:
		return k, fmt.Errorf("want an EC P-256 or an RSA private key, not %T", key)
	}
	pub := jose.JSONWebKey{Key: k.priv.Public()}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return k, fmt.Errorf("cannot compute the key's thumbprint: %w", err)
	}
	k.kid = base64.RawURLEncoding.EncodeToString(tp)
	return k, nil
}
