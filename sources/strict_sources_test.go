package sources_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/offboarder/offboarder/registry"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/ssf"
)

// strictCase is one source type's valid delivery and the string-valued key
// whose three broken variants must each be refused.
type strictCase struct {
	settings map[string]any
	// file is the type's testdata delivery (for ssf, the SET's claims).
	file string
	// key is a string-valued key of the delivery, at path where it first
	// appears.
	key, path string
	// request builds the request that carries body (ssf signs it).
	request func(t *testing.T, body []byte) *sources.Request
}

// TestEverySourceRefusesAmbiguousJSON walks the registry: for every source
// type a valid delivery parses, and the same delivery with a key repeated,
// a key in upper case or a value with invalid UTF-8 is malformed (400 at
// the webhook) with an error naming the problem and the key's path. A type
// added to the registry without a case here fails the test.
func TestEverySourceRefusesAmbiguousJSON(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	plain := func(t *testing.T, body []byte) *sources.Request {
		return &sources.Request{Context: t.Context(), Method: http.MethodPost, Header: http.Header{}, Body: body}
	}
	cases := map[string]strictCase{
		"generic": {settings: map[string]any{"secret": "test-secret-0123456789abcdef"}, key: "email", path: "email", request: plain},
		"okta": {settings: map[string]any{"secret": "Basic b2ZmYm9hcmRlcjpzdXBlcnNlY3JldA=="},
			file: "okta/testdata/deactivate.json", key: "uuid", path: "data.events[0].uuid", request: plain},
		"entra": {settings: map[string]any{"client_state": "secretClientValue", "tenant_id": "84bd8158-6d4d-4958-8b9f-9d6445542f95",
			"client_id": "6731de76-14a6-49ae-97bc-6eba6914391e", "client_secret": "sampleCredentia1s-NOT-REAL~secret",
			"notification_url": "https://offboarder.example.com/webhooks/entra"},
			file: "entra/testdata/user-deleted.json", key: "resource", path: "value[0].resource", request: plain},
		"google": {settings: map[string]any{"channel_token": "channel-token-0123456789abcdef", "credentials": googleKey(t, key),
			"admin_email": "admin@example.com", "notification_url": "https://offboarder.example.com/webhooks/google"},
			file: "google/testdata/delete-user.json", key: "applicationName", path: "id.applicationName", request: plain},
		"bamboohr": {settings: map[string]any{"secret": "bamboo-private-key-0123456789abcdef", "company_domain": "acme", "api_key": "bamboo-api-key"},
			file: "bamboohr/testdata/event-terminated.json", key: "employeeId", path: "data.employeeId", request: plain},
		"hibob": {settings: map[string]any{"secret": "bob-webhook-secret-0123456789abcdef", "service_user_id": "SERVICE-1", "service_user_token": "bob-token"},
			file: "hibob/testdata/employee-left.json", key: "employeeId", path: "data.employeeId", request: plain},
		"ssf": {settings: map[string]any{"issuer": "https://idp.example.com/123456789/", "audience": "https://sp.example.com/caep", "jwks": string(jwks)},
			file: "ssf/testdata/caep-session-revoked-email.json", key: "jti", path: "jti",
			request: func(t *testing.T, claims []byte) *sources.Request {
				signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}},
					(&jose.SignerOptions{}).WithType("secevent+jwt"))
				if err != nil {
					t.Fatal(err)
				}
				obj, err := signer.Sign(claims)
				if err != nil {
					t.Fatal(err)
				}
				token, _ := obj.CompactSerialize()
				return &sources.Request{Context: t.Context(), Method: http.MethodPost, Body: []byte(token),
					Header: http.Header{"Content-Type": {ssf.ContentType}, "Accept": {"application/json"}}}
			}},
	}
	types := registry.Sources()
	for _, typ := range sources.Types(types) {
		t.Run(typ, func(t *testing.T) {
			c, ok := cases[typ]
			if !ok {
				t.Fatalf("no strict-body case for source type %q: add one here", typ)
			}
			srcs, err := sources.Build([]sources.Spec{{Name: "src", Type: typ, Settings: c.settings}}, types, sources.Deps{})
			if err != nil {
				t.Fatal(err)
			}
			src := srcs[0]
			valid := strictBody(t, c.file, typ == "ssf")
			field := `"` + c.key + `":"`
			if !bytes.Contains(valid, []byte(field)) {
				t.Fatalf("the delivery has no %s", field)
			}
			d, err := src.Parse(c.request(t, valid))
			if err != nil || len(d.Events) == 0 {
				t.Fatalf("the valid delivery: %v, %+v", err, d)
			}
			upper := strings.ToUpper(c.key)
			upperPath := strings.TrimSuffix(c.path, c.key) + upper
			for _, v := range []struct{ name, with, wantErr string }{
				{"a key twice", field + `x",` + field, `duplicate key "` + c.path + `"`},
				{"a key in upper case", `"` + upper + `":"`, `key "` + upperPath + `" is not "` + c.key + `"`},
				{"invalid UTF-8 in a value", field + "\xff", `invalid UTF-8 in "` + c.path + `"`},
			} {
				t.Run(v.name, func(t *testing.T) {
					body := bytes.Replace(valid, []byte(field), []byte(v.with), 1)
					d, err := src.Parse(c.request(t, body))
					if !errors.Is(err, sources.ErrMalformed) || !strings.Contains(err.Error(), v.wantErr) {
						t.Fatalf("got %v (%d events), want malformed with %s", err, len(d.Events), v.wantErr)
					}
				})
			}
		})
	}
}

// strictBody is a type's testdata delivery as compact JSON (the generic
// source's is written here); for a SET, the claims with iat now.
func strictBody(t *testing.T, file string, set bool) []byte {
	t.Helper()
	if file == "" {
		return []byte(`{"id":"e1","email":"alice@example.com","reason":"terminated"}`)
	}
	raw, err := os.ReadFile(filepath.FromSlash(file))
	if err != nil {
		t.Fatal(err)
	}
	if set {
		var c map[string]any
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatal(err)
		}
		c["iat"] = time.Now().Unix()
		raw, _ = json.Marshal(c)
	}
	var out bytes.Buffer
	if err := json.Compact(&out, raw); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// googleKey is a service account's JSON key around key.
func googleKey(t *testing.T, key *rsa.PrivateKey) string {
	t.Helper()
	der, err := x509MarshalPKCS8(key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "client_email": "offboarder@project.iam.gserviceaccount.com",
		"private_key": der, "token_uri": "https://oauth2.googleapis.com/token",
	})
	return string(b)
}

// x509MarshalPKCS8 is key as a PEM "PRIVATE KEY".
func x509MarshalPKCS8(key *rsa.PrivateKey) (string, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}
