package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
)

// A case's caep entry pushes a session-revoked SET for the case: the
// receiver is down at first (503, Retry-After 1), the worker retries, and
// the retry carries the same jti, with the case id as txn, so a receiver
// that took the first can tell it is the same event.
func TestCAEPPushIsRetriedWithTheSameJTI(t *testing.T) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	var mu sync.Mutex
	var sets []string
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		sets = append(sets, string(b))
		if len(sets) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(receiver.Close)

	e := start(t, "sqlite:"+t.TempDir()+"/o.db", envOptions{extraConnectors: []connectors.Spec{{Name: "itp", Type: "caep", Settings: map[string]any{
		"issuer": "https://offboarder.example.com", "signing_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"receivers": []any{map[string]any{"url": receiver.URL + "/security/api/v1/security-events"}},
	}}}})
	code, res := e.post("hr", body("evt-caep", "alice@example.com"), "")
	if code != http.StatusAccepted {
		t.Fatalf("post: %d %v", code, res)
	}
	id := res["case_id"].(string)
	c := e.waitCase(id)
	var entry *struct{ outcome, detail string }
	for _, en := range c.Entries {
		if en.Connector == "itp" {
			entry = &struct{ outcome, detail string }{string(en.Outcome), en.Detail}
			if en.Attempts != 2 {
				t.Errorf("attempts = %d, want 2 (503, then 202)", en.Attempts)
			}
		}
	}
	if entry == nil || entry.outcome != string(offboard.Acknowledged) || !strings.Contains(entry.detail, "session-revoked accepted") {
		t.Fatalf("caep entry = %+v; case %+v", entry, c)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sets) != 2 {
		t.Fatalf("receiver got %d SETs, want 2", len(sets))
	}
	var jtis []string
	for _, s := range sets {
		obj, err := jose.ParseSignedCompact(s, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			t.Fatal(err)
		}
		payload, err := obj.Verify(&k.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		var cl struct {
			Jti string `json:"jti"`
			Txn string `json:"txn"`
		}
		_ = json.Unmarshal(payload, &cl)
		if cl.Txn != id {
			t.Errorf("txn = %q, want the case id %q", cl.Txn, id)
		}
		jtis = append(jtis, cl.Jti)
	}
	if jtis[0] == "" || jtis[0] != jtis[1] {
		t.Errorf("jtis %v: the retry must send the same jti", jtis)
	}
}
