package sources

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/offboarder/offboarder/offboard"
)

// ssfConfig is an ssf source's settings.
type ssfConfig struct {
	Issuer      string         `json:"issuer"`
	Audience    any            `json:"audience"`     // a string or a list
	JWKSURI     string         `json:"jwks_uri"`     // https only
	JWKS        any            `json:"jwks"`         // a JWK Set as a JSON string, or inline
	Events      map[string]any `json:"events"`       // event type URI → reason
	AllowedAlgs []string       `json:"allowed_algs"` // default RS256, PS256, ES256
	MaxAge      string         `json:"max_age"`      // default 24h
	// AuthorizationHeader is the stream's authorization_header: the
	// Authorization value the receiver set in the stream's push delivery
	// configuration, which "the Transmitter MUST set with each event
	// delivery" (SSF 1.0, "Push Delivery using HTTP",
	// https://openid.net/specs/openid-sharedsignals-framework-1_0.html).
	// Optional: the SET's signature authenticates the transmitter either way.
	AuthorizationHeader string `json:"authorization_header"`
}

func newSSF(s Spec, path string) (Source, error) {
	src, err := newSSFWithClient(s, path, nil)
	if err != nil {
		return nil, err
	}
	return src, nil
}

// newSSFWithClient builds an ssf source whose JWKS fetches use hc (nil: the
// connectors' default client); tests pass an httptest TLS server's client.
func newSSFWithClient(s Spec, path string, hc *http.Client) (*SSF, error) {
	var c ssfConfig
	if err := decodeSettings(s, path, &c); err != nil {
		return nil, err
	}
	src := &SSF{name: s.Name, issuer: c.Issuer, algs: ssfDefaultAlgs, maxAge: SSFDefaultMaxAge, events: map[string]offboard.Reason{}, now: time.Now}
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: "+format, append([]any{path, key}, a...)...))
	}
	switch {
	case strings.TrimSpace(c.Issuer) == "":
		bad("issuer", "required (the transmitter's issuer, as in its SETs' iss claim)")
	case len(c.Issuer) > 2048 || !printable(c.Issuer):
		bad("issuer", "at most 2048 printable characters")
	}
	aud, err := ssfAudience(c.Audience)
	if err != nil {
		bad("audience", "%s", err)
	}
	src.audience = aud
	switch {
	case c.JWKSURI != "" && c.JWKS != nil:
		bad("jwks_uri", "set jwks_uri or jwks, not both")
	case c.JWKSURI != "":
		if src.keys, err = newRemoteKeys(c.JWKSURI, hc); err != nil {
			bad("jwks_uri", "%s", err)
		}
	case c.JWKS != nil:
		if src.keys, err = newInlineKeys(c.JWKS); err != nil {
			bad("jwks", "%s", err)
		}
	default:
		bad("jwks_uri", "required: the transmitter's jwks_uri, or its keys inline in jwks")
	}
	if c.AllowedAlgs != nil {
		if src.algs, err = ssfAllowedAlgs(c.AllowedAlgs); err != nil {
			bad("allowed_algs", "%s", err)
		}
	}
	if c.MaxAge != "" {
		d, err := time.ParseDuration(c.MaxAge)
		if err != nil || d < time.Minute || d > 30*24*time.Hour {
			bad("max_age", "want a duration between 1m and 720h")
		}
		src.maxAge = d
	}
	if c.AuthorizationHeader != "" {
		switch a := c.AuthorizationHeader; {
		case strings.TrimSpace(a) == "":
			bad("authorization_header", "required: blanks are not a secret")
		case len(a) < 16 || len(a) > 4096 || !printable(a):
			bad("authorization_header", "want 16 to 4096 printable characters, e.g. \"Bearer \" and at least 16 random bytes")
		default:
			h := secretHash(a)
			src.authz = &h
		}
	}
	for t, r := range ssfDefaultEvents {
		src.events[t] = offboard.Reason(r)
	}
	types := make([]string, 0, len(c.Events))
	for t := range c.Events {
		types = append(types, t)
	}
	sort.Strings(types) // a stable order of errors
	for _, t := range types {
		r, _ := c.Events[t].(string)
		if u, err := url.Parse(t); err != nil || u.Scheme == "" || len(t) > 512 || !printable(t) {
			bad(fmt.Sprintf("events[%q]", truncate(t, 64)), "not an event type URI such as %s", CAEPSessionRevoked)
			continue
		}
		if !offboard.Reason(r).Valid() {
			bad(fmt.Sprintf("events[%q]", t), "want one of terminated, suspended, deactivated, security, manual")
			continue
		}
		src.events[t] = offboard.Reason(r)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return src, nil
}

func ssfAudience(v any) ([]string, error) {
	var out []string
	switch t := v.(type) {
	case nil:
		return nil, errors.New("required (the value the transmitter puts in aud for this receiver)")
	case string:
		out = []string{t}
	case []any:
		for _, x := range t {
			s, ok := x.(string)
			if !ok {
				return nil, errors.New("list items must be strings")
			}
			out = append(out, s)
		}
	default:
		return nil, errors.New("want a string or a list of strings")
	}
	if len(out) == 0 || len(out) > 16 {
		return nil, errors.New("want 1 to 16 values")
	}
	for _, a := range out {
		if strings.TrimSpace(a) == "" || len(a) > 2048 || !printable(a) {
			return nil, errors.New("values must be 1 to 2048 printable characters")
		}
	}
	return out, nil
}

func ssfAllowedAlgs(names []string) ([]jose.SignatureAlgorithm, error) {
	if len(names) == 0 {
		return nil, errors.New("empty list (omit it for RS256, PS256, ES256)")
	}
	var out []jose.SignatureAlgorithm
	for _, n := range names {
		a, ok := ssfAlgorithms[n]
		if !ok {
			known := make([]string, 0, len(ssfAlgorithms))
			for k := range ssfAlgorithms {
				known = append(known, k)
			}
			sort.Strings(known)
			return nil, fmt.Errorf("%q is not an accepted asymmetric algorithm (known: %s)", truncate(n, 32), strings.Join(known, ", "))
		}
		out = append(out, a)
	}
	return out, nil
}
