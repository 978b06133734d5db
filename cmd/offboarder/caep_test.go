package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/webhook"
)

// setReceiver is an RFC 8935 push endpoint that keeps what it is sent and
// answers 202.
type setReceiver struct {
	mu   sync.Mutex
	sets []string
}

func (r *setReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.sets = append(r.sets, string(b))
	r.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

func (r *setReceiver) received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.sets...)
}

// The SETs the caep connector pushes verify against the keys offboarder
// publishes at /.well-known/jwks.json, found as a receiver finds them:
// from the issuer's /.well-known/ssf-configuration. The config rotates two
// keys (signing_key_file, a list): both are published, the first signs.
func TestCAEPSETsVerifyAgainstThePublishedKeys(t *testing.T) {
	dir := t.TempDir()
	var kids []string
	for i := range 2 {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, _ := x509.MarshalPKCS8PrivateKey(k)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("k%d.pem", i)), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		tp, _ := (&jose.JSONWebKey{Key: k.Public()}).Thumbprint(crypto.SHA256)
		kids = append(kids, b64(tp))
	}
	okta, other := &setReceiver{}, &setReceiver{}
	oktaSrv, otherSrv := httptest.NewServer(okta), httptest.NewServer(other)
	t.Cleanup(oktaSrv.Close)
	t.Cleanup(otherSrv.Close)

	// offboarder's own server: its address is the issuer, known before the
	// config is read.
	srv := httptest.NewUnstartedServer(nil)
	t.Cleanup(srv.Close)
	iss := "http://" + srv.Listener.Addr().String()
	cfg := writeConfig(t, fmt.Sprintf(`
sources:
  - name: hr
    type: generic
    secret: hr-secret-0123456789
connectors:
  - name: itp
    type: caep
    issuer: %s
    signing_key_file: [%s, %s]
    receivers:
      - url: %s/security/api/v1/security-events
        audience: https://acme.okta.com/
        subject_format: event_subject
      - url: %s/events
`, iss, filepath.Join(dir, "k0.pem"), filepath.Join(dir, "k1.pem"), oktaSrv.URL, otherSrv.URL))
	_, _, conns, err := load(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	docs, err := wellKnown(conns)
	if err != nil || len(docs) != 2 {
		t.Fatalf("wellKnown = %v, %v", docs, err)
	}
	h := webhook.New(webhook.Options{Logger: zerolog.Nop(), WellKnown: docs})
	t.Cleanup(func() { h.Close() })
	srv.Config.Handler = h
	srv.Start()

	get := func(url string) []byte {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Cache-Control"), "public, max-age=") {
			t.Fatalf("GET %s = %d (Cache-Control %q)", url, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
		return b
	}
	var meta struct {
		Issuer  string   `json:"issuer"`
		JWKSURI string   `json:"jwks_uri"`
		Methods []string `json:"delivery_methods_supported"`
	}
	if err := json.Unmarshal(get(iss+"/.well-known/ssf-configuration"), &meta); err != nil {
		t.Fatal(err)
	}
	if meta.Issuer != iss || meta.JWKSURI != iss+"/.well-known/jwks.json" || !reflect.DeepEqual(meta.Methods, []string{"urn:ietf:rfc:8935"}) {
		t.Fatalf("metadata = %+v", meta)
	}
	var jwks jose.JSONWebKeySet
	if err := json.Unmarshal(get(meta.JWKSURI), &jwks); err != nil {
		t.Fatal(err)
	}
	if len(jwks.Keys) != 2 || jwks.Keys[0].KeyID != kids[0] || jwks.Keys[1].KeyID != kids[1] {
		t.Fatalf("published kids %v, want both configured keys %v", keyIDs(jwks), kids)
	}
	for _, k := range jwks.Keys {
		if !k.IsPublic() || k.Use != "sig" || k.Algorithm != "ES256" {
			t.Errorf("published key %s: public %v use %q alg %q", k.KeyID, k.IsPublic(), k.Use, k.Algorithm)
		}
	}

	const email = "leaver@example.com"
	out, err := conns[0].Revoke(t.Context(), offboard.Subject{Email: email, Reason: offboard.ReasonTerminated, Case: "case-42"})
	if err != nil || out != offboard.Acknowledged {
		t.Fatalf("Revoke = %q, %v", out, err)
	}
	user := map[string]any{"format": "email", "email": email}
	for _, tt := range []struct {
		name      string
		sets      []string
		aud       string
		subID     any
		inside    any
		wantCount int
	}{
		{"okta (event_subject)", okta.received(), "https://acme.okta.com/", nil, map[string]any{"user": user}, 1},
		{"other (sub_id)", other.received(), otherSrv.URL + "/events", user, nil, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.sets) != tt.wantCount {
				t.Fatalf("%d SETs, want %d", len(tt.sets), tt.wantCount)
			}
			obj, err := jose.ParseSignedCompact(tt.sets[0], []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
			if err != nil {
				t.Fatal(err)
			}
			hdr := obj.Signatures[0].Protected
			if typ := hdr.ExtraHeaders[jose.HeaderType]; typ != "secevent+jwt" {
				t.Errorf("typ = %v", typ)
			}
			if hdr.KeyID != kids[0] || hdr.Algorithm != "ES256" {
				t.Errorf("signed with kid %q alg %q, want the first key %q: the second is published, not used", hdr.KeyID, hdr.Algorithm, kids[0])
			}
			keys := jwks.Key(hdr.KeyID)
			if len(keys) != 1 {
				t.Fatalf("kid %q not published", hdr.KeyID)
			}
			payload, err := obj.Verify(keys[0].Key)
			if err != nil {
				t.Fatalf("the SET does not verify against the published key: %v", err)
			}
			if _, err := obj.Verify(jwks.Keys[1].Key); err == nil {
				t.Error("the SET verifies with the second key too")
			}
			var c map[string]any
			if err := json.Unmarshal(payload, &c); err != nil {
				t.Fatal(err)
			}
			ev := c["events"].(map[string]any)["https://schemas.openid.net/secevent/caep/event-type/session-revoked"].(map[string]any)
			if c["iss"] != iss || c["aud"] != tt.aud || !reflect.DeepEqual(c["sub_id"], tt.subID) || !reflect.DeepEqual(ev["subject"], tt.inside) {
				t.Errorf("iss %v aud %v sub_id %v event subject %v", c["iss"], c["aud"], c["sub_id"], ev["subject"])
			}
			if ev["initiating_entity"] != "policy" || ev["reason_admin"].(map[string]any)["en"] == "" || ev["event_timestamp"] == nil {
				t.Errorf("event = %v", ev)
			}
		})
	}
}

func keyIDs(s jose.JSONWebKeySet) []string {
	var out []string
	for _, k := range s.Keys {
		out = append(out, k.KeyID)
	}
	return out
}

// TestCAEPConnectorsMustShareAnIssuer: two caep connectors with different
// issuers are a config error: /.well-known/ is served once.
func TestCAEPConnectorsMustShareAnIssuer(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	keyFile := filepath.Join(t.TempDir(), "k.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	entry := func(name, iss string) string {
		return fmt.Sprintf("  - name: %s\n    type: caep\n    issuer: %s\n    signing_key_file: %s\n    receivers:\n      - url: https://r.example.com/%s\n", name, iss, keyFile, name)
	}
	cfg := writeConfig(t, "sources:\n  - name: hr\n    type: generic\n    secret: hr-secret-0123456789\nconnectors:\n"+
		entry("a", "https://offboarder.example.com")+entry("b", "https://other.example.com"))
	_, _, _, err := load(cfg, zerolog.Nop())
	if err == nil || !strings.Contains(err.Error(), "connectors a and b (caep): issuer differs") {
		t.Fatalf("load = %v", err)
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
