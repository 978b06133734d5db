package conformance

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/offboarder/offboarder/sources"
)

// Credentials is a source type's minimal valid settings and the keys that
// hold what tells a real delivery from a forged one (a shared secret, a
// client state, a channel token, a key set and the audience it is for) or
// lets the source call its sender's API.
type Credentials struct {
	// Type is the type name; New returns a fresh config of it.
	Type string
	New  func() sources.Config
	// Valid are minimal settings that open; Keys are the credentials in them.
	Valid map[string]any
	Keys  []string
	// Named is the key an error names when a key is left out or null, where
	// it is another (an ssf key set is given by jwks or jwks_uri).
	Named map[string]string
	// Extra are more values of a key that must be refused.
	Extra map[string][]Hostile
	// Public are the credential keys whose values are not secret (an
	// issuer, an audience, public keys): an error may quote them.
	Public []string
}

// Hostile is a value a credential must not be built with; a nil Value
// means the key is left out.
type Hostile struct {
	Name  string
	Value any
}

// Blank is long enough to pass any length check: only its blankness can
// refuse it.
var Blank = strings.Repeat(" ", 40)

// blankGaps are the credentials whose check still takes a value of blanks
// that is long enough; that subtest is skipped for them, never passed. A
// credential not listed here that takes blanks fails, and one listed that
// starts refusing them passes.
var blankGaps = map[string]string{}

// RefusesMissingCredentials checks that the type is never built without
// its credentials. Each is left out, null, empty, blank (short, long, tabs
// and newlines) and given as c.Extra's hostile values; Build then fails,
// naming the source and the key ("sources[0] (src).secret: required" when
// the key is left out or null), says nothing about any other key, and
// quotes no secret.
func RefusesMissingCredentials(t *testing.T, c Credentials) {
	t.Helper()
	types := map[string]func() sources.Config{c.Type: c.New}
	typ, r := c.Type, c
	t.Run(typ+"/builds with its credentials", func(t *testing.T) {
		if _, err := sources.Build([]sources.Spec{{Name: "src", Type: typ, Settings: r.Valid}}, types, sources.Deps{}); err != nil {
			t.Fatalf("the valid settings are refused: %v", err)
		}
	})
	for _, key := range r.Keys {
		if _, ok := r.Valid[key]; !ok {
			t.Fatalf("%s: the valid settings have no %s", typ, key)
		}
		values := append([]Hostile{
			{"missing", nil},
			{"null", json.RawMessage("null")},
			{"empty", ""},
			{"short blank", "   "},
			{"long blank", Blank},
			{"blank of tabs and newlines", strings.Repeat("\t\n", 20)},
		}, r.Extra[key]...)
		for _, v := range values {
			t.Run(typ+"/refuses "+key+" "+v.Name, func(t *testing.T) {
				s := maps.Clone(r.Valid)
				switch v.Value.(type) {
				case nil:
					delete(s, key)
				case json.RawMessage:
					s[key] = nil
				default:
					s[key] = v.Value
				}
				_, isNull := v.Value.(json.RawMessage)
				named := key
				if n, ok := r.Named[key]; ok && (v.Value == nil || isNull) {
					named = n
				}
				srcs, err := sources.Build([]sources.Spec{{Name: "src", Type: typ, Settings: s}}, types, sources.Deps{})
				if err == nil {
					if gap, ok := blankGaps[typ+"."+key]; ok && strings.Contains(v.Name, "blank") {
						t.Skipf("known gap, not fixed here: %s", gap)
					}
					t.Fatalf("built %d source(s) with %s %s", len(srcs), key, v.Name)
				}
				msg := err.Error()
				prefix := "sources[0] (src)." + named + ": "
				for _, line := range strings.Split(msg, "\n") {
					if !strings.HasPrefix(line, prefix) {
						t.Errorf("an error line that is not about %s: %q", named, line)
					}
				}
				if (v.Value == nil || isNull) && !strings.Contains(msg, prefix+"required") {
					t.Errorf("a %s %s is not said to be required: %v", v.Name, key, msg)
				}
				for _, k := range r.Keys {
					if k == key || slices.Contains(r.Public, k) {
						continue
					}
					if sv, ok := s[k].(string); ok && leaks(msg, sv) {
						t.Errorf("the error quotes the value of %s: %v", k, msg)
					}
				}
			})
		}
	}
}

// Rotation are the hostile values of a secret given as a list during a
// rotation, around valid.
func Rotation(valid string) []Hostile {
	return []Hostile{
		{"empty list", []any{}},
		{"list with an empty secret", []any{valid, ""}},
		{"list with a blank secret", []any{valid, Blank}},
	}
}

// leaks reports whether msg holds secret or a 12-byte piece of it (a
// private key's PEM body counts by its base64 lines).
func leaks(msg, secret string) bool {
	var key struct {
		PrivateKey string `json:"private_key"`
	}
	if json.Unmarshal([]byte(secret), &key) == nil && key.PrivateKey != "" {
		for _, line := range strings.Split(key.PrivateKey, "\n") {
			if !strings.HasPrefix(line, "-----") && len(line) >= 12 && strings.Contains(msg, line[:12]) {
				return true
			}
		}
		return false
	}
	secret = strings.TrimSpace(secret)
	if len(secret) < 12 {
		return secret != "" && strings.Contains(msg, secret)
	}
	for i := 0; i+12 <= len(secret); i++ {
		if strings.Contains(msg, secret[i:i+12]) {
			return true
		}
	}
	return false
}
