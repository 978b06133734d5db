package ssf

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/offboarder/offboarder/sources"
)

// jwksStep is one scripted answer of the transmitter's jwks_uri.
type jwksStep struct {
	status int
	body   string
}

// jwksServer is the transmitter's jwks_uri over TLS. It answers GET
// /oauth2/v1/keys with the steps in order, and fails the test on any other
// request, on a request beyond the script and on unused steps.
func jwksServer(t *testing.T, steps ...jwksStep) *httptest.Server {
	t.Helper()
	var (
		mu   sync.Mutex
		next int
	)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Method != http.MethodGet || r.URL.Path != "/oauth2/v1/keys" || r.URL.RawQuery != "client_id=abc" {
			t.Errorf("unexpected request %s %s", r.Method, r.URL)
			w.WriteHeader(http.StatusNotFound)
			return
		}
		if next >= len(steps) {
			t.Errorf("unexpected fetch #%d of the key set", next+1)
			w.WriteHeader(http.StatusTeapot)
			return
		}
		st := steps[next]
		next++
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(st.status)
		_, _ = io.WriteString(w, st.body)
	}))
	t.Cleanup(func() {
		srv.Close()
		mu.Lock()
		defer mu.Unlock()
		if next != len(steps) {
			t.Errorf("%d of %d scripted key set answers unused", len(steps)-next, len(steps))
		}
	})
	return srv
}

// remoteSSF is an ssf source fetching its keys from srv, on clock.
func remoteSSF(t *testing.T, srv *httptest.Server, clock *time.Time) *Source {
	t.Helper()
	srcs, err := buildWith([]sources.Spec{{Name: "caep", Type: "ssf", Settings: map[string]any{
		"issuer": ssfTestIssuer, "audience": ssfTestAudience, "jwks_uri": srv.URL + "/oauth2/v1/keys?client_id=abc",
	}}}, sources.Deps{HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	s := srcs[0].(*Source)
	s.now = func() time.Time { return *clock }
	return s
}

// deliver verifies and parses a SET for foo@example.com signed with key
// under kid at the clock's time.
func deliver(t *testing.T, s *Source, clock time.Time, kid string, key *rsa.PrivateKey) error {
	t.Helper()
	tok := signSET(t, setClaims(t, "risc-account-disabled.json", clock, nil), jose.RS256, kid, key, "secevent+jwt")
	r := ssfRequest(t, tok, ContentType)
	if err := s.Verify(r); err != nil {
		return err
	}
	d, err := s.Parse(r)
	if err == nil && (len(d.Events) != 1 || d.Events[0].Email != "foo@example.com") {
		t.Fatalf("delivery: %+v", d)
	}
	return err
}

// wantStatus checks that err carries an answer with the status (and, for a
// 400, the RFC 8935 error code).
func wantStatus(t *testing.T, err error, status int, code string) {
	t.Helper()
	if status == http.StatusBadRequest {
		wantSSFAnswer(t, err, sources.ErrUnauthorized, code)
		return
	}
	var re *sources.ResponseError
	if !errors.As(err, &re) || re.Response.Status != status || !errors.Is(err, sources.ErrUnauthorized) {
		t.Fatalf("want an unauthorized %d answer, got %v", status, err)
	}
	var body map[string]string
	if err := json.Unmarshal(re.Response.Body, &body); err != nil || body["error"] == "" {
		t.Fatalf("answer body %s", re.Response.Body)
	}
}

func TestSSFFetchesRotatedKeysAtMostEvery30s(t *testing.T) {
	keys := ssfTestKeys(t)
	k1 := ssfJWKS(t, ssfJWK("k1", "RS256", keys.rsa))
	k2 := ssfJWKS(t, ssfJWK("k2", "RS256", keys.rsa2))
	srv := jwksServer(t,
		jwksStep{200, k1}, // the first SET
		jwksStep{200, k2}, // k2 named, 31s later: k1 rotated out
		jwksStep{200, k2}, // k1 named again, 31s later
		jwksStep{503, `{"error":"down"}`},
	)
	clock := time.Unix(1_800_000_000, 0)
	s := remoteSSF(t, srv, &clock)

	if err := deliver(t, s, clock, "k1", keys.rsa); err != nil {
		t.Fatalf("first SET: %v", err)
	}
	if err := deliver(t, s, clock, "k1", keys.rsa); err != nil {
		t.Fatalf("a known kid is not fetched again: %v", err)
	}
	// A new kid moments after a fetch: the transmitter is asked to retry,
	// and is not fetched from, however many such SETs arrive.
	for i := range 5 {
		err := deliver(t, s, clock.Add(time.Duration(i)*time.Second), fmt.Sprintf("k%d", 2+i), keys.rsa2)
		wantStatus(t, err, http.StatusServiceUnavailable, "")
	}
	clock = clock.Add(31 * time.Second)
	if err := deliver(t, s, clock, "k2", keys.rsa2); err != nil {
		t.Fatalf("the rotated key: %v", err)
	}
	// k1 left the set: it is no longer accepted, first as "retry" (the set
	// was fetched moments ago), then, after a fetch, as invalid_key.
	wantStatus(t, deliver(t, s, clock, "k1", keys.rsa), http.StatusServiceUnavailable, "")
	clock = clock.Add(31 * time.Second)
	wantStatus(t, deliver(t, s, clock, "k1", keys.rsa), http.StatusBadRequest, errInvalidKey)
	// An hour on, the set is fetched again before use; the transmitter is
	// down, so the cached set still serves.
	clock = clock.Add(2 * time.Hour)
	if err := deliver(t, s, clock, "k2", keys.rsa2); err != nil {
		t.Fatalf("a stale set while the transmitter is down: %v", err)
	}
}

func TestSSFAnswers503WhileTheKeysCannotBeFetched(t *testing.T) {
	keys := ssfTestKeys(t)
	srv := jwksServer(t,
		jwksStep{500, `oops`},
		jwksStep{200, `{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`}, // no usable key
		jwksStep{200, ssfJWKS(t, ssfJWK("k1", "RS256", keys.rsa))},
	)
	clock := time.Unix(1_800_000_000, 0)
	s := remoteSSF(t, srv, &clock)
	err := deliver(t, s, clock, "k1", keys.rsa)
	wantStatus(t, err, http.StatusServiceUnavailable, "")
	if !strings.Contains(err.Error(), "status 500") {
		t.Fatalf("the error does not say what failed: %v", err)
	}
	wantStatus(t, deliver(t, s, clock.Add(10*time.Second), "k1", keys.rsa), http.StatusServiceUnavailable, "")
	clock = clock.Add(31 * time.Second)
	err = deliver(t, s, clock, "k1", keys.rsa)
	wantStatus(t, err, http.StatusServiceUnavailable, "")
	if !strings.Contains(err.Error(), "no usable signing key") {
		t.Fatalf("the error does not say what failed: %v", err)
	}
	clock = clock.Add(31 * time.Second)
	if err := deliver(t, s, clock, "k1", keys.rsa); err != nil {
		t.Fatal(err)
	}
}

func TestSSFFetchesOnceForConcurrentSETs(t *testing.T) {
	keys := ssfTestKeys(t)
	srv := jwksServer(t, jwksStep{200, ssfJWKS(t, ssfJWK("k1", "RS256", keys.rsa))})
	clock := time.Unix(1_800_000_000, 0)
	s := remoteSSF(t, srv, &clock)
	tok := signSET(t, setClaims(t, "risc-account-disabled.json", clock, nil), jose.RS256, "k1", keys.rsa, "secevent+jwt")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := s.Verify(ssfRequest(t, tok, ContentType)); err != nil {
				t.Errorf("concurrent SET: %v", err)
			}
		})
	}
	wg.Wait()
}

func TestParseJWKSKeepsOnlyPublicSigningKeys(t *testing.T) {
	keys := ssfTestKeys(t)
	rsaPub := ssfJWK("r", "", keys.rsa)
	private, err := json.Marshal(jose.JSONWebKey{Key: keys.rsa, KeyID: "priv", Use: "sig"})
	if err != nil {
		t.Fatal(err)
	}
	pubJSON, _ := json.Marshal(rsaPub)
	big := make([]string, ssfMaxKeys+1)
	for i := range big {
		big[i] = string(pubJSON)
	}
	ed, err := json.Marshal(jose.JSONWebKey{Key: mustEd25519(t), KeyID: "ed"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		set  string
		kids []string // "" for an error
	}{
		{"RSA, EC and Ed25519 public keys are kept", `{"keys":[` + string(pubJSON) + `,` + string(ed) + `]}`, []string{"r", "ed"}},
		{"a key with private members is skipped unread", `{"keys":[` + string(private) + `,` + string(pubJSON) + `]}`, []string{"r"}},
		{"a key for another algorithm is skipped", `{"keys":[{"kty":"RSA","alg":"RSA-OAEP","kid":"x","n":"` + jwkN(keys.rsa) + `","e":"AQAB"},` + string(pubJSON) + `]}`, []string{"r"}},
		{"a key of an unknown type is skipped", `{"keys":[{"kty":"XYZ","kid":"x"},` + string(pubJSON) + `]}`, []string{"r"}},
		{"a set of only unusable keys is refused", `{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`, nil},
		{"an empty set is refused", `{"keys":[]}`, nil},
		{"not a set is refused", `{"kty":"RSA"}`, nil},
		{"more than 100 keys are refused", `{"keys":[` + strings.Join(big, ",") + `]}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseJWKS([]byte(tt.set))
			if tt.kids == nil {
				if err == nil {
					t.Fatalf("want an error, got %d keys", len(got))
				}
				return
			}
			if err != nil || len(got) != len(tt.kids) {
				t.Fatalf("got %d keys, %v; want %v", len(got), err, tt.kids)
			}
			for i, k := range got {
				if k.kid != tt.kids[i] {
					t.Fatalf("key %d is %q, want %q", i, k.kid, tt.kids[i])
				}
				if _, secret := k.key.([]byte); secret {
					t.Fatal("a symmetric key was kept")
				}
			}
		})
	}
}

func TestSSFKeyFitsOnlyItsAlgorithm(t *testing.T) {
	keys := ssfTestKeys(t)
	r := ssfKey{key: &keys.rsa.PublicKey}
	e := ssfKey{key: &keys.ec.PublicKey}
	pinned := ssfKey{key: &keys.rsa.PublicKey, alg: jose.PS256}
	for _, c := range []struct {
		k   ssfKey
		alg jose.SignatureAlgorithm
		ok  bool
	}{
		{r, jose.RS256, true}, {r, jose.PS512, true}, {r, jose.ES256, false}, {r, jose.HS256, false}, {r, "none", false},
		{e, jose.ES256, true}, {e, jose.ES384, false}, {e, jose.RS256, false}, {e, jose.HS256, false},
		{pinned, jose.PS256, true}, {pinned, jose.RS256, false},
	} {
		if got := c.k.fits(c.alg); got != c.ok {
			t.Errorf("%T (alg %q) fits %s = %v, want %v", c.k.key, c.k.alg, c.alg, got, c.ok)
		}
	}
}

func jwkN(k *rsa.PrivateKey) string {
	b, _ := json.Marshal(jose.JSONWebKey{Key: &k.PublicKey})
	var m map[string]string
	_ = json.Unmarshal(b, &m)
	return m["n"]
}

func mustEd25519(t *testing.T) ed25519.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}
