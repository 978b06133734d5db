package sources

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
)

// credentialRow is a source type's minimal valid settings and the keys that
// hold what tells a real delivery from a forged one (a shared secret, a
// client state, a channel token, a key set and the audience it is for) or
// lets the source call its sender's API.
type credentialRow struct {
	valid map[string]any
	keys  []string
	// named is the key an error names when a key is left out or null, where
	// it is another (an ssf key set is given by jwks or jwks_uri).
	named map[string]string
	// extra are more values of a key that must be refused.
	extra map[string][]hostileValue
	// public are the credential keys whose values are not secret (an
	// issuer, an audience, public keys): an error may quote them.
	public []string
}

// hostileValue is a value a credential must not be built with; nil value
// means the key is left out.
type hostileValue struct {
	name  string
	value any
}

// blank is long enough to pass any length check: only its blankness can
// refuse it.
var blank = strings.Repeat(" ", 40)

// blankGaps are the credentials whose check still takes a value of blanks
// that is long enough; that subtest is skipped for them, never passed. A
// credential not listed here that takes blanks fails, and one listed that
// starts refusing them passes.
var blankGaps = map[string]string{}

// credentialRows are the rows of every source type this test knows.
func credentialRows(t *testing.T) map[string]credentialRow {
	rotation := func(valid string) []hostileValue {
		return []hostileValue{
			{"empty list", []any{}},
			{"list with an empty secret", []any{valid, ""}},
			{"list with a blank secret", []any{valid, blank}},
		}
	}
	return map[string]credentialRow{
		"generic": {
			valid: map[string]any{"secret": string(testSecret)},
			keys:  []string{"secret"},
			extra: map[string][]hostileValue{"secret": rotation(string(testSecret))},
		},
		"okta": {
			valid: map[string]any{"secret": oktaSecret},
			keys:  []string{"secret"},
		},
		"bamboohr": {
			valid: bambooHRSettings(""),
			keys:  []string{"secret", "api_key"},
			extra: map[string][]hostileValue{"secret": rotation(bambooHRTestSecret)},
		},
		"hibob": {
			valid: hibobSettings(""),
			keys:  []string{"secret", "service_user_token"},
			extra: map[string][]hostileValue{"secret": rotation(hibobTestSecret)},
		},
		"entra": {
			valid: entraSettings(""),
			keys:  []string{"client_state", "client_secret"},
		},
		"google": {
			valid: googleSettings(t, ""),
			keys:  []string{"channel_token", "credentials"},
			extra: map[string][]hostileValue{"credentials": {{"JSON key without a private key", `{"type":"service_account","client_email":"sa@p.iam.gserviceaccount.com"}`}}},
		},
		"ssf": {
			valid:  map[string]any{"issuer": ssfTestIssuer, "audience": ssfTestAudience, "jwks": ssfDefaultJWKS(t)},
			keys:   []string{"jwks", "audience", "issuer"},
			named:  map[string]string{"jwks": "jwks_uri"},
			public: []string{"jwks", "audience", "issuer"},
			extra: map[string][]hostileValue{
				"jwks":     {{"empty key set", `{"keys":[]}`}},
				"audience": {{"empty list", []any{}}, {"list with an empty audience", []any{ssfTestAudience, ""}}},
			},
		},
	}
}

// TestEverySourceRefusesAMissingCredential: no source type is built without
// its credentials. Each is left out, null, empty, blank (short, long, tabs
// and newlines) and, where the type has them, given as other hostile values;
// Build then fails, naming the source and the key ("sources[0] (src).secret:
// required" when the key is left out or null), says nothing about any other
// key, and quotes no secret. The registry is iterated, so a new source type
// without a row here fails the test.
func TestEverySourceRefusesAMissingCredential(t *testing.T) {
	rows := credentialRows(t)
	for _, typ := range Types(testTypes()) {
		if _, ok := rows[typ]; !ok {
			t.Errorf("source type %q has no credential row: add its valid settings and the keys it authenticates with", typ)
		}
	}
	for _, typ := range slices.Sorted(maps.Keys(rows)) {
		r := rows[typ]
		t.Run(typ+"/builds with its credentials", func(t *testing.T) {
			if _, err := build([]Spec{{Name: "src", Type: typ, Settings: r.valid}}); err != nil {
				t.Fatalf("the valid settings are refused: %v", err)
			}
		})
		for _, key := range r.keys {
			if _, ok := r.valid[key]; !ok {
				t.Fatalf("%s: the valid settings have no %s", typ, key)
			}
			values := append([]hostileValue{
				{"missing", nil},
				{"null", json.RawMessage("null")},
				{"empty", ""},
				{"short blank", "   "},
				{"long blank", blank},
				{"blank of tabs and newlines", strings.Repeat("\t\n", 20)},
			}, r.extra[key]...)
			for _, v := range values {
				t.Run(typ+"/refuses "+key+" "+v.name, func(t *testing.T) {
					s := maps.Clone(r.valid)
					switch v.value.(type) {
					case nil:
						delete(s, key)
					case json.RawMessage:
						s[key] = nil
					default:
						s[key] = v.value
					}
					_, isNull := v.value.(json.RawMessage)
					named := key
					if n, ok := r.named[key]; ok && (v.value == nil || isNull) {
						named = n
					}
					srcs, err := build([]Spec{{Name: "src", Type: typ, Settings: s}})
					if err == nil {
						if gap, ok := blankGaps[typ+"."+key]; ok && strings.Contains(v.name, "blank") {
							t.Skipf("known gap, not fixed here: %s", gap)
						}
						t.Fatalf("built %d source(s) with %s %s", len(srcs), key, v.name)
					}
					msg := err.Error()
					prefix := "sources[0] (src)." + named + ": "
					for _, line := range strings.Split(msg, "\n") {
						if !strings.HasPrefix(line, prefix) {
							t.Errorf("an error line that is not about %s: %q", named, line)
						}
					}
					if (v.value == nil || isNull) && !strings.Contains(msg, prefix+"required") {
						t.Errorf("a %s %s is not said to be required: %v", v.name, key, msg)
					}
					for _, k := range r.keys {
						if k == key || slices.Contains(r.public, k) {
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
