package caep

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/offboarder/offboarder/connectors"
)

// The paths below the issuer at which the transmitter's public documents
// are served, and how long a receiver may cache them.
const (
	JWKSPath          = "/.well-known/jwks.json"
	ConfigurationPath = "/.well-known/ssf-configuration" // [ssf §7.2], the issuer having no path
)

const jwksMaxAge = 5 * time.Minute

// PushMethod is the SSF delivery method URI of RFC 8935 push [ssf §6.1.1].
const PushMethod = "urn:ietf:rfc:8935"

// MaxAge is how long a receiver may cache the published documents (their
// Cache-Control max-age). An invalid_key answer is retried after it, so a
// receiver that cached the key set from before a rotation has fetched it
// again by then.
const MaxAge = jwksMaxAge

// Documents are the transmitter's public metadata, fixed at start.
type Documents struct {
	Issuer string
	// JWKS is the JSON Web Key Set of every configured signing key, each
	// with kid, alg and use "sig" [RFC 7517].
	JWKS []byte
	// Configuration is the SSF 1.0 Transmitter Configuration Metadata
	// [ssf §7.1]: spec_version "1_0", issuer, jwks_uri and
	// delivery_methods_supported (push only). It also carries
	// events_supported, the one event type sent: SSF 1.0 defines that
	// member for a stream's configuration, not for this document, and
	// allows other members here ("Other Claims MAY also be returned"
	// [ssf §7.2.3]); receivers ignore what they do not know. There is no
	// configuration_endpoint or other stream management API: receivers
	// are configured in offboarder's config.
	Configuration []byte
}

// metadata is the SSF 1.0 Transmitter Configuration Metadata.
type metadata struct {
	SpecVersion              string   `json:"spec_version"`
	Issuer                   string   `json:"issuer"`
	JWKSURI                  string   `json:"jwks_uri"`
	DeliveryMethodsSupported []string `json:"delivery_methods_supported"`
	EventsSupported          []string `json:"events_supported"`
}

// jwksURI is where the key set of issuer is: the issuer, the public base
// URL of offboarder, with JWKSPath.
func jwksURI(issuer string) string { return strings.TrimSuffix(issuer, "/") + JWKSPath }

// Publish returns the documents of the caep connectors among conns, or nil
// when there is none. The documents are served once, at the server's
// /.well-known/, so every caep connector must have the same issuer; their
// keys are published together (each once), in the order configured.
func Publish(conns []connectors.Connector) (*Documents, error) {
	var first *Connector
	var keys []jose.JSONWebKey
	seen := map[string]bool{}
	for _, c := range conns {
		cc, ok := c.(*Connector)
		if !ok {
			continue
		}
		if first == nil {
			first = cc
		} else if cc.issuer != first.issuer {
			return nil, fmt.Errorf("connectors %s and %s (caep): issuer differs (%q, %q): the /.well-known/ documents are served once, so every caep connector needs the same issuer",
				first.name, cc.name, first.issuer, cc.issuer)
		}
		for _, k := range cc.keys {
			if !seen[k.kid] {
				seen[k.kid] = true
				keys = append(keys, k.public())
			}
		}
	}
	if first == nil {
		return nil, nil
	}
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		return nil, fmt.Errorf("caep: cannot encode the key set: %w", err)
	}
	conf, err := json.Marshal(metadata{
		SpecVersion:              "1_0",
		Issuer:                   first.issuer,
		JWKSURI:                  jwksURI(first.issuer),
		DeliveryMethodsSupported: []string{PushMethod},
		EventsSupported:          []string{SessionRevoked},
	})
	if err != nil {
		return nil, fmt.Errorf("caep: cannot encode the transmitter metadata: %w", err)
	}
	return &Documents{Issuer: first.issuer, JWKS: jwks, Configuration: conf}, nil
}
