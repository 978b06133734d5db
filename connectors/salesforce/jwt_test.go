package salesforce_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/offboarder/offboarder/connectors/conformance"
	"github.com/offboarder/offboarder/offboard"
)

// rsaPEM makes an RSA key of bits in PKCS #8 PEM.
func rsaPEM(t *testing.T, bits int) []byte {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// The JWT bearer flow as Salesforce documents it
// (https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_jwt_flow.htm):
// grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer and assertion, a
// JWT signed RS256 with iss = the consumer key, sub = the username, aud =
// https://login.salesforce.com (https://test.salesforce.com for a
// sandbox) and exp within 3 minutes.
func TestSalesforceJWTBearer(t *testing.T) {
	keyPEM := rsaPEM(t, 2048)
	block, _ := pem.Decode(keyPEM)
	k, _ := x509.ParsePKCS8PrivateKey(block.Bytes)
	pub := k.(*rsa.PrivateKey).Public()

	for _, tt := range []struct{ name, tokenPath, aud string }{
		{"a production org's assertion is for login.salesforce.com", "/services/oauth2/token", "https://login.salesforce.com"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tokens := 0
			api := conformance.Script(t, sfHeaders, sfFind(200, sfRecords()))
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != tt.tokenPath {
					api.ServeHTTP(w, r)
					return
				}
				tokens++
				if err := r.ParseForm(); err != nil {
					t.Fatal(err)
				}
				if got := strings.Join(slices.Sorted(maps.Keys(r.PostForm)), ","); got != "assertion,grant_type" || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
					t.Errorf("token form keys %q, grant %q", got, r.PostForm.Get("grant_type"))
				}
				jws, err := jose.ParseSignedCompact(r.PostForm.Get("assertion"), []jose.SignatureAlgorithm{jose.RS256})
				if err != nil {
					t.Fatalf("assertion: %v", err)
				}
				payload, err := jws.Verify(pub)
				if err != nil {
					t.Fatalf("assertion signature: %v", err)
				}
				var c struct {
					Iss string `json:"iss"`
					Sub string `json:"sub"`
					Aud any    `json:"aud"`
					Exp int64  `json:"exp"`
				}
				if err := json.Unmarshal(payload, &c); err != nil {
					t.Fatal(err)
				}
				aud := fmt.Sprint(c.Aud)
				if c.Iss != sfClientID || c.Sub != "ops@acme.example" || (aud != tt.aud && aud != "["+tt.aud+"]") {
					t.Errorf("claims iss %q sub %q aud %q", c.Iss, c.Sub, aud)
				}
				if left := time.Until(time.Unix(c.Exp, 0)); left <= 0 || left > 3*time.Minute {
					t.Errorf("exp is %v away, want within 3 minutes", left)
				}
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"access_token":%q,"scope":"api","instance_url":"https://acme.my.salesforce.com","id":"https://login.salesforce.com/id/00D/005","token_type":"Bearer"}`, sfAccessToken)
			}))
			t.Cleanup(srv.Close)
			c, err := openSalesforce(srv.URL, map[string]any{"client_secret": nil, "username": "ops@acme.example",
				"private_key": string(keyPEM), "token_url": srv.URL + tt.tokenPath})
			if err != nil {
				t.Fatal(err)
			}
			if out, err := c.Revoke(t.Context(), offboard.Subject{Email: sfEmail}); err != nil || out != offboard.NotFound {
				t.Fatalf("Revoke = %q, %v", out, err)
			}
			if tokens != 1 {
				t.Errorf("%d token requests, want 1", tokens)
			}
		})
	}
}
