package caep_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/connectors/caep"
)

const (
	issuer    = "https://offboarder.example.com"
	pushPath  = "/security/api/v1/security-events" // Okta's [okta-set]
	token     = "receiver-bearer-token-9f8e7d"
	who       = "ada@example.com"
	caseID    = "c0ffee00-0000-4000-8000-000000000001"
	sessionRv = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
)

// types holds the caep type alone, for Build.
var types = map[string]func() connectors.Config{"caep": func() connectors.Config { return new(caep.Config) }}

var (
	keyOnce       sync.Once
	ecPEM, rsaPEM string
	ecPEM2        string
)

// keys returns two EC P-256 keys and an RSA 2048 key as PEM, made once.
func keys(t *testing.T) (ec1, ec2, rsa1 string) {
	t.Helper()
	keyOnce.Do(func() {
		ecPEM, ecPEM2 = ecKey(t), ecKey(t)
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		rsaPEM = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
	})
	return ecPEM, ecPEM2, rsaPEM
}

func ecKey(t *testing.T) string {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// open builds one caep connector; receivers are mappings as in the config.
func open(t *testing.T, key any, receivers ...map[string]any) connectors.Connector {
	t.Helper()
	list := make([]any, len(receivers))
	for i, r := range receivers {
		list[i] = r
	}
	cs, err := connectors.Build([]connectors.Spec{{Name: "caep", Type: "caep", Settings: map[string]any{
		"issuer": issuer, "signing_key": key, "receivers": list,
	}}}, types, connectors.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return cs[0]
}

// receiverFake is a receiver's push endpoint: it keeps every SET it is
// sent and answers each with the next of its answers (the last one
// again when they run out).
type receiverFake struct {
	t       *testing.T
	mu      sync.Mutex
	sets    []string
	answers []answer
}

type answer struct {
	status int
	body   string
	header map[string]string
}

func (f *receiverFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != pushPath {
		f.t.Errorf("receiver: unexpected %s %s", r.Method, r.URL.Path)
	}
	if got := r.Header.Get("Content-Type"); got != "application/secevent+jwt" {
		f.t.Errorf("receiver: Content-Type %q, want application/secevent+jwt (RFC 8935 §2)", got)
	}
	if got := r.Header.Get("Accept"); got != "application/json" {
		f.t.Errorf("receiver: Accept %q, want application/json (RFC 8935 §2)", got)
	}
	f.sets = append(f.sets, string(b))
	a := answer{status: http.StatusAccepted}
	if len(f.answers) > 0 {
		a = f.answers[0]
		if len(f.answers) > 1 {
			f.answers = f.answers[1:]
		}
	}
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	if a.body != "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, a.body)
}

func (f *receiverFake) received() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.sets...)
}

// setErr is an RFC 8935 §2.3 error answer.
func setErr(code, description string) answer {
	b, _ := json.Marshal(map[string]string{"err": code, "description": description})
	return answer{status: http.StatusBadRequest, body: string(b)}
}

// verified is one SET checked against a key set: its header and claims.
type verified struct {
	header jose.Header
	claims map[string]any
}

// verify parses set as a compact JWS, checks that its typ is
// secevent+jwt and that a key of jwks with its kid verifies it, and
// returns its header and claims.
func verify(t *testing.T, set string, jwks []byte) verified {
	t.Helper()
	var ks jose.JSONWebKeySet
	if err := json.Unmarshal(jwks, &ks); err != nil {
		t.Fatalf("jwks: %v", err)
	}
	obj, err := jose.ParseSignedCompact(set, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		t.Fatalf("SET is not a JWS: %v", err)
	}
	h := obj.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "secevent+jwt" {
		t.Errorf("typ = %q, want secevent+jwt", typ)
	}
	found := ks.Key(h.KeyID)
	if len(found) != 1 {
		t.Fatalf("kid %q is not published once in the JWKS (%d found)", h.KeyID, len(found))
	}
	if found[0].Use != "sig" || found[0].Algorithm != h.Algorithm {
		t.Errorf("published key: use %q alg %q; want sig and the SET's %q", found[0].Use, found[0].Algorithm, h.Algorithm)
	}
	payload, err := obj.Verify(found[0].Key)
	if err != nil {
		t.Fatalf("SET does not verify with its published key: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	return verified{header: h, claims: c}
}

// unverifiedClaims reads a SET's claims without checking its signature.
func unverifiedClaims(t *testing.T, set string) map[string]any {
	t.Helper()
	obj, err := jose.ParseSignedCompact(set, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(obj.UnsafePayloadWithoutVerification(), &c); err != nil {
		t.Fatal(err)
	}
	return c
}
