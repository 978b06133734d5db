package ssf

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/vendorapi"
)

// Config is the settings of an ssf source.
type Config struct {
	// Issuer is the transmitter's issuer, as in its SETs' iss claim.
	Issuer string `json:"issuer"`
	// Audience is what the transmitter puts in aud for this receiver: a
	// string or a list.
	Audience any `json:"audience"`
	// JWKSURI is the transmitter's key set (https only); or JWKS gives the
	// keys inline, as a JSON string or a mapping.
	JWKSURI string `json:"jwks_uri"`
	JWKS    any    `json:"jwks"`
	// Events adds event type URIs to the defaults, or maps them to another
	// reason; values are checked one by one, to name the key.
	Events map[string]any `json:"events"`
	// AllowedAlgs are the signature algorithms accepted (default RS256,
	// PS256, ES256).
	AllowedAlgs []string `json:"allowed_algs"`
	// MaxAge is how old a SET's iat may be (default 24h).
	MaxAge string `json:"max_age"`
	// AuthorizationHeader is the stream's authorization_header: the
	// Authorization value the receiver set in the stream's push delivery
	// configuration, which "the Transmitter MUST set with each event
	// delivery" (SSF 1.0, "Push Delivery using HTTP",
	// https://openid.net/specs/openid-sharedsignals-framework-1_0.html).
	// Optional: the SET's signature authenticates the transmitter either way.
	AuthorizationHeader vendorapi.Secret `json:"authorization_header"`
	// ResolveWith names a connector (okta, entra) whose user lookup turns
	// a subject named only by iss_sub or opaque into an email: the sub or
	// the opaque id is that system's user id. Without it such subjects are
	// ignored.
	ResolveWith string `json:"resolve_with"`
}

// Validate implements sources.Config: every problem, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, a ...any) { errs = append(errs, vendorapi.FieldErr(key, format, a...)) }
	switch {
	case strings.TrimSpace(c.Issuer) == "":
		bad("issuer", "required (the transmitter's issuer, as in its SETs' iss claim)")
	case len(c.Issuer) > 2048 || !sources.Printable(c.Issuer):
		bad("issuer", "at most 2048 printable characters")
	}
	if _, err := ssfAudience(c.Audience); err != nil {
		errs = append(errs, vendorapi.KeyErr("audience", err))
	}
	switch {
	case c.JWKSURI != "" && c.JWKS != nil:
		bad("jwks_uri", "set jwks_uri or jwks, not both")
	case c.JWKSURI != "":
		if _, err := jwksURL(c.JWKSURI); err != nil {
			errs = append(errs, vendorapi.KeyErr("jwks_uri", err))
		}
	case c.JWKS != nil:
		if _, err := newInlineKeys(c.JWKS); err != nil {
			errs = append(errs, vendorapi.KeyErr("jwks", err))
		}
	default:
		bad("jwks_uri", "required: the transmitter's jwks_uri, or its keys inline in jwks")
	}
	if c.AllowedAlgs != nil {
		if _, err := ssfAllowedAlgs(c.AllowedAlgs); err != nil {
			errs = append(errs, vendorapi.KeyErr("allowed_algs", err))
		}
	}
	if _, err := ssfMaxAge(c.MaxAge); err != nil {
		errs = append(errs, vendorapi.KeyErr("max_age", err))
	}
	if a := string(c.AuthorizationHeader); a != "" {
		switch {
		case strings.TrimSpace(a) == "":
			bad("authorization_header", "required: blanks are not a secret")
		case len(a) < 16 || len(a) > 4096 || !sources.Printable(a):
			bad("authorization_header", "want 16 to 4096 printable characters, e.g. \"Bearer \" and at least 16 random bytes")
		}
	}
	if r := c.ResolveWith; r != "" && !connectorName.MatchString(r) {
		bad("resolve_with", "want a connector's name: 1 to 63 lower-case letters, digits, '-' or '_'")
	}
	_, eerrs := c.events()
	return errors.Join(append(errs, eerrs...)...)
}

// events is the event map: the defaults with Events over them.
func (c *Config) events() (map[string]offboard.Reason, []error) {
	return sources.EventReasons(ssfDefaultEvents, c.Events, func(t string) bool {
		u, err := url.Parse(t)
		return err == nil && u.Scheme != "" && len(t) <= 512 && sources.Printable(t)
	}, "not an event type URI such as "+CAEPSessionRevoked, false)
}

// Open implements sources.Config; the JWKS fetches use d.HTTPClient.
func (c *Config) Open(name string, d sources.Deps) (sources.Source, error) {
	src := &Source{name: name, issuer: c.Issuer, algs: ssfDefaultAlgs, now: d.Now}
	var err error
	if src.audience, err = ssfAudience(c.Audience); err != nil {
		return nil, vendorapi.KeyErr("audience", err)
	}
	if c.JWKSURI != "" {
		if src.keys, err = newRemoteKeys(c.JWKSURI, d.HTTPClient); err != nil {
			return nil, vendorapi.KeyErr("jwks_uri", err)
		}
	} else if src.keys, err = newInlineKeys(c.JWKS); err != nil {
		return nil, vendorapi.KeyErr("jwks", err)
	}
	if c.AllowedAlgs != nil {
		if src.algs, err = ssfAllowedAlgs(c.AllowedAlgs); err != nil {
			return nil, vendorapi.KeyErr("allowed_algs", err)
		}
	}
	src.maxAge, _ = ssfMaxAge(c.MaxAge) // checked by Validate
	if c.AuthorizationHeader != "" {
		h := sources.HashSecret(c.AuthorizationHeader)
		src.authz = &h
	}
	src.events, _ = c.events() // checked by Validate
	src.resolveWith = c.ResolveWith
	return src, nil
}

// connectorName is the form of a connector's name (the config package
// checks the names themselves).
var connectorName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ssfMaxAge parses max_age: "" is DefaultMaxAge; otherwise a duration
// between 1m and 720h.
func ssfMaxAge(s string) (time.Duration, error) {
	if s == "" {
		return DefaultMaxAge, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Minute || d > 30*24*time.Hour {
		return 0, errors.New("want a duration between 1m and 720h")
	}
	return d, nil
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
		if strings.TrimSpace(a) == "" || len(a) > 2048 || !sources.Printable(a) {
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
			return nil, fmt.Errorf("%q is not an accepted asymmetric algorithm (known: %s)", sources.Truncate(n, 32), strings.Join(known, ", "))
		}
		out = append(out, a)
	}
	return out, nil
}
