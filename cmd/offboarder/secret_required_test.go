package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/offboarder/offboarder/registry"
	"github.com/offboarder/offboarder/sources"
)

// sourceConfig is a source of one type as an operator writes it, with its
// credentials taken from the environment: yaml has one ${CRED_<KEY>} per
// credential key (upper case), and env holds a working value for each.
type sourceConfig struct {
	yaml string
	env  map[string]string // credential key → a working value
}

// credentialConfigs are a working config of every source type this test
// knows, keyed by type.
func credentialConfigs(t *testing.T) map[string]sourceConfig {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	saKey, _ := json.Marshal(map[string]string{
		"type":         "service_account",
		"client_email": "offboarder@offboarder-prod.iam.gserviceaccount.com",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
	})
	return map[string]sourceConfig{
		"generic": {"secret: ${CRED_SECRET}", map[string]string{"secret": "generic-SECRET-VALUE-0123456789"}},
		"okta":    {"secret: ${CRED_SECRET}", map[string]string{"secret": "Basic b2t0YS1TRUNSRVQtVkFMVUU="}},
		"bamboohr": {"secret: ${CRED_SECRET}\n    company_domain: acme\n    api_key: ${CRED_API_KEY}",
			map[string]string{"secret": "bamboo-SECRET-VALUE-0123456789", "api_key": "bamboo-APIKEY-VALUE-0123456789"}},
		"hibob": {"secret: ${CRED_SECRET}\n    service_user_id: SERVICE-12345\n    service_user_token: ${CRED_SERVICE_USER_TOKEN}",
			map[string]string{"secret": "bob-SECRET-VALUE-0123456789", "service_user_token": "bob-TOKEN-VALUE-0123456789"}},
		"entra": {"client_state: ${CRED_CLIENT_STATE}\n    tenant_id: contoso.onmicrosoft.com\n    client_id: 6731de76-14a6-49ae-97bc-6eba6914391e\n" +
			"    client_secret: ${CRED_CLIENT_SECRET}\n    notification_url: https://offboarder.example.com/webhooks/src",
			map[string]string{"client_state": "entra-STATE-VALUE-0123456789", "client_secret": "entra-SECRET-VALUE~0123456789"}},
		"google": {"channel_token: ${CRED_CHANNEL_TOKEN}\n    credentials: ${CRED_CREDENTIALS}\n    admin_email: admin@example.com\n" +
			"    notification_url: https://offboarder.example.com/webhooks/src",
			map[string]string{"channel_token": "google-TOKEN-VALUE-0123456789", "credentials": string(saKey)}},
		"ssf": {"issuer: https://idp.example.com/\n    audience: ${CRED_AUDIENCE}\n    jwks_uri: ${CRED_JWKS_URI}",
			map[string]string{"audience": "https://offboarder.example.com/ssf", "jwks_uri": "https://idp.example.com/jwks"}},
	}
}

// configFor writes a config with one source of type typ named src.
func configFor(t *testing.T, typ string, c sourceConfig) string {
	return writeConfig(t, fmt.Sprintf(`
sources:
  - name: src
    type: %s
    %s
connectors:
  - name: okta
    type: okta
    base_url: https://example.okta.com
    token: okta-connector-token-0123456789
`, typ, c.yaml))
}

func credVar(key string) string { return "CRED_" + strings.ToUpper(key) }

// TestCheckRefusesASourceWithoutItsCredential: `offboarder check` refuses,
// with exit 1, a config whose source credential comes from a variable that
// is unset, set to nothing, or a file that is empty, and names the variable
// or the key path (sources[0] (src).<key>). Every source type is covered:
// the type registry is iterated, so a new type without a config here fails.
// No credential's value is printed on the way.
func TestCheckRefusesASourceWithoutItsCredential(t *testing.T) {
	configs := credentialConfigs(t)
	for _, typ := range sources.Types(registry.Sources()) {
		if _, ok := configs[typ]; !ok {
			t.Errorf("source type %q has no config here: add one with its credentials", typ)
		}
	}
	for _, typ := range sources.Types(registry.Sources()) {
		c, ok := configs[typ]
		if !ok {
			continue
		}
		keys := make([]string, 0, len(c.env))
		for k := range c.env {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		// check runs offboarder check on cfg with the working credentials
		// in the environment but for key, which unset() leaves out (set
		// "" for unset, a value for a replacement).
		check := func(t *testing.T, cfg string, key string, unset bool, value string) (int, string) {
			t.Helper()
			for _, k := range keys {
				t.Setenv(credVar(k), c.env[k])
			}
			if unset {
				t.Setenv(credVar(key), "")
				os.Unsetenv(credVar(key)) // t.Setenv restores it at cleanup
			} else if key != "" {
				t.Setenv(credVar(key), value)
			}
			var out, errb bytes.Buffer
			code := runMain(t.Context(), []string{"check", "--config", cfg}, &out, &errb)
			all := out.String() + errb.String()
			for _, k := range keys {
				if k == "audience" || k == "jwks_uri" {
					continue // not secret
				}
				for _, piece := range secretPieces(c.env[k]) {
					if strings.Contains(all, piece) {
						t.Errorf("check printed the value of %s:\n%s", k, all)
					}
				}
			}
			return code, errb.String()
		}

		t.Run(typ+"/checks out with its credentials", func(t *testing.T) {
			if code, errs := check(t, configFor(t, typ, c), "", false, ""); code != 0 {
				t.Fatalf("exit %d:\n%s", code, errs)
			}
		})
		for _, key := range keys {
			path := "sources[0] (src)." + key
			t.Run(typ+"/refuses an unset "+credVar(key), func(t *testing.T) {
				code, errs := check(t, configFor(t, typ, c), key, true, "")
				if code != 1 || !strings.Contains(errs, credVar(key)) || !strings.Contains(errs, path) {
					t.Fatalf("exit %d, want 1 naming %s and %s:\n%s", code, credVar(key), path, errs)
				}
			})
			t.Run(typ+"/refuses an empty "+credVar(key), func(t *testing.T) {
				code, errs := check(t, configFor(t, typ, c), key, false, "")
				if code != 1 || !strings.Contains(errs, path+": ") {
					t.Fatalf("exit %d, want 1 naming %s:\n%s", code, path, errs)
				}
			})
			t.Run(typ+"/refuses an empty "+key+"_file", func(t *testing.T) {
				empty := filepath.Join(t.TempDir(), key)
				if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				file := c
				file.yaml = strings.Replace(c.yaml, key+": ${"+credVar(key)+"}", key+"_file: "+empty, 1)
				if file.yaml == c.yaml {
					t.Fatalf("no %s in the config", key)
				}
				code, errs := check(t, configFor(t, typ, file), "", false, "")
				if code != 1 || !strings.Contains(errs, path+": ") {
					t.Fatalf("exit %d, want 1 naming %s:\n%s", code, path, errs)
				}
			})
		}
	}
}

// secretPieces are what would show of secret if it were printed: the value,
// or the base64 lines of the private key of a JSON key.
func secretPieces(secret string) []string {
	var key struct {
		PrivateKey string `json:"private_key"`
	}
	if json.Unmarshal([]byte(secret), &key) != nil || key.PrivateKey == "" {
		return []string{secret}
	}
	var out []string
	for _, line := range strings.Split(key.PrivateKey, "\n") {
		if line != "" && !strings.HasPrefix(line, "-----") {
			out = append(out, line)
		}
	}
	return out
}
