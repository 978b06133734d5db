package sources

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// TestEverySourceRefusesAMissingCredential: no source type is built
// without the credential that lets it tell a real delivery from a forged
// one (a shared secret, a channel token, a client state, a key set) or
// call its sender's API. The registry is iterated, so a new source type
// without a row here fails the test.
func TestEverySourceRefusesAMissingCredential(t *testing.T) {
	jwks := ssfDefaultJWKS(t)
	type row struct {
		valid   map[string]any
		secrets []string // keys whose absence must be refused
	}
	rows := map[string]row{
		"generic": {map[string]any{"secret": strings.Repeat("s", 32)}, []string{"secret"}},
		"okta":    {map[string]any{"secret": oktaSecret}, []string{"secret"}},
		"bamboohr": {map[string]any{"secret": bambooHRTestSecret, "company_domain": "acme", "api_key": bambooHRTestKey},
			[]string{"secret", "api_key"}},
		"hibob": {map[string]any{"secret": hibobTestSecret, "service_user_id": hibobTestUser, "service_user_token": hibobTestToken},
			[]string{"secret", "service_user_token"}},
		"entra":  {entraSettings(""), []string{"client_state", "client_secret"}},
		"google": {googleSettings(t, ""), []string{"channel_token", "credentials"}},
		"ssf":    {map[string]any{"issuer": "https://idp.example.com", "audience": "https://offboarder.example.com", "jwks": jwks}, []string{"jwks"}},
	}
	if missing := slices.DeleteFunc(Types(), func(typ string) bool { _, ok := rows[typ]; return ok }); len(missing) > 0 {
		t.Fatalf("source types without a row here: %v", missing)
	}
	for typ, r := range rows {
		t.Run(typ+" builds with its credentials", func(t *testing.T) {
			if _, err := Build([]Spec{{Name: "src", Type: typ, Settings: r.valid}}); err != nil {
				t.Fatalf("the valid settings are refused: %v", err)
			}
		})
		for _, key := range r.secrets {
			for _, how := range []struct {
				name  string
				value any // nil: the key is left out
			}{{"missing", nil}, {"empty", ""}, {"blank", "   "}} {
				t.Run(typ+" refuses a "+how.name+" "+key, func(t *testing.T) {
					s := maps.Clone(r.valid)
					if how.value == nil {
						delete(s, key)
					} else {
						s[key] = how.value
					}
					_, err := Build([]Spec{{Name: "src", Type: typ, Settings: s}})
					if err == nil {
						t.Fatalf("built without %s", key)
					}
					if !strings.Contains(err.Error(), "sources[0] (src)") {
						t.Errorf("error does not name the source: %v", err)
					}
					if key != "jwks" && !strings.Contains(err.Error(), "."+key+":") {
						t.Errorf("error does not name %s: %v", key, err)
					}
					for k, v := range s {
						if sv, ok := v.(string); ok && len(sv) >= 8 && k != "base_url" && k != "token_url" && !strings.Contains(k, "url") &&
							k != "company_domain" && k != "issuer" && k != "audience" && k != "admin_email" && k != "tenant_id" && k != "client_id" && k != "service_user_id" &&
							strings.Contains(err.Error(), sv) {
							t.Errorf("error echoes the value of %s: %v", k, err)
						}
					}
				})
			}
		}
	}
}
