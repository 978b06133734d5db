package ssf

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
)

// ssfTestdataClaims returns every claim set in testdata with iat at.
func ssfTestdataClaims(f *testing.F, at time.Time) [][]byte {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no SETs in testdata: %v", err)
	}
	var out [][]byte
	for _, name := range files {
		out = append(out, setClaims(f, filepath.Base(name), at, nil))
	}
	return out
}

// checkSSFError checks that a Verify or Parse error is classified and
// carries a well-formed answer.
func checkSSFError(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, sources.ErrUnauthorized) && !errors.Is(err, sources.ErrMalformed) {
		t.Fatalf("error not classified: %v", err)
	}
	var re *sources.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("no protocol answer: %v", err)
	}
	var body map[string]string
	if json.Unmarshal(re.Response.Body, &body) != nil || re.Response.ContentType != "application/json" {
		t.Fatalf("answer is not JSON: %q", re.Response.Body)
	}
	switch re.Response.Status {
	case http.StatusBadRequest:
		if body["err"] == "" || body["description"] == "" {
			t.Fatalf("400 without err and description: %s", re.Response.Body)
		}
	case http.StatusServiceUnavailable:
	default:
		t.Fatalf("unexpected status %d", re.Response.Status)
	}
}

// checkSSFEvents checks the invariants of parsed events.
func checkSSFEvents(t *testing.T, s *Source, d sources.Delivery) {
	t.Helper()
	if len(d.Events) == 0 {
		if d.Ignored == "" {
			t.Fatal("a delivery without events must say why")
		}
		return
	}
	seen := map[string]bool{}
	for _, ev := range d.Events {
		if ev.ID == "" || len(ev.ID) > 200 || !sources.Printable(ev.ID) || seen[ev.ID] {
			t.Fatalf("bad or repeated event id: %+v", ev)
		}
		seen[ev.ID] = true
		if _, mapped := s.events[ev.Type]; !mapped || !offboard.Reason(ev.Reason).Valid() {
			t.Fatalf("event of an unmapped type or with a bad reason: %+v", ev)
		}
		again, err := sources.NormalizeEmail(ev.Email)
		if err != nil || again != ev.Email {
			t.Fatalf("email %q not stable under normalisation: %q, %v", ev.Email, again, err)
		}
		if !ev.EffectiveAt.IsZero() || ev.Systems != nil || ev.DryRun {
			t.Fatalf("an SSF event set what SSF cannot say: %+v", ev)
		}
	}
}

// FuzzSSFVerifyParse feeds request bodies to Verify and Parse: they never
// panic, every failure carries a well-formed answer, and only a body that
// carries claims this test signed is ever accepted.
func FuzzSSFVerifyParse(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	keys := ssfTestKeys(f)
	signed := map[string]bool{}
	for _, c := range ssfTestdataClaims(f, now) {
		signed[string(c)] = true
		f.Add([]byte(rs256(f, c)))
		f.Add([]byte(signSET(f, c, jose.ES256, "e1", keys.ec, "secevent+jwt")))
	}
	f.Add([]byte(handMadeJWS(`{"alg":"none","typ":"secevent+jwt"}`, []byte(`{}`), func([]byte) []byte { return nil })))
	f.Add([]byte("eyJhbGciOiJSUzI1NiJ9.e30.AAAA"))
	f.Add([]byte("a.b.c.d.e"))
	f.Add([]byte(""))
	s := newTestSSF(f, nil)
	s.now = func() time.Time { return now }
	f.Fuzz(func(t *testing.T, body []byte) {
		r := &sources.Request{Context: t.Context(), Method: http.MethodPost, Header: http.Header{"Content-Type": {ContentType}}, Body: body}
		if err := s.Verify(r); err != nil {
			checkSSFError(t, err)
			return
		}
		jws, err := jose.ParseSignedCompact(string(bytes.TrimSpace(body)), ssfDefaultAlgs)
		if err != nil || !signed[string(jws.UnsafePayloadWithoutVerification())] {
			t.Fatalf("accepted claims this test never signed: %q", body)
		}
		d, err := s.Parse(r)
		if err != nil {
			checkSSFError(t, err)
			return
		}
		checkSSFEvents(t, s, d)
	})
}

// FuzzSSFClaims feeds verified claims to the parser: it never panics, its
// failures are malformed with RFC 8935's invalid_request answer, and every
// event it gives is well formed.
func FuzzSSFClaims(f *testing.F) {
	for _, c := range ssfTestdataClaims(f, time.Unix(1_800_000_000, 0)) {
		f.Add(c)
	}
	f.Add([]byte(`{"jti":"j","sub_id":{"format":"aliases","identifiers":[{"format":"email","email":"A@Example.com"},{"format":"email","email":"a@example.com"}]},"events":{"` + CAEPSessionRevoked + `":{}}}`))
	f.Add([]byte(`{"jti":"j","sub_id":{"format":"complex","user":{"format":"complex"}},"events":{"` + RISCAccountPurged + `":{"subject":{"subject_type":"email","email":"b@bücher.example"}}}}`))
	f.Add([]byte(`{"jti":"j","events":{"` + RISCAccountDisabled + `":{"reason":"hijacking","subject":{"format":"email","email":"x@example.com"}},"` + CAEPSessionRevoked + `":{}}}`))
	f.Add([]byte(`{"jti":1}`))
	f.Add([]byte(`[]`))
	s := newTestSSF(f, nil)
	f.Fuzz(func(t *testing.T, claims []byte) {
		d, err := s.parseClaims(claims)
		if err != nil {
			checkSSFError(t, err)
			if !errors.Is(err, sources.ErrMalformed) || !strings.Contains(err.Error(), "invalid_request") {
				t.Fatalf("a claims error that is not invalid_request: %v", err)
			}
			return
		}
		checkSSFEvents(t, s, d)
	})
}

// FuzzParseJWKS: a transmitter's key set (fetched from its jwks_uri) never
// panics the parser, and every key it keeps is a public signature key of
// an accepted kind, never a secret; the seeds are in testdata/fuzz/FuzzParseJWKS.
func FuzzParseJWKS(f *testing.F) {
	f.Add([]byte(ssfDefaultJWKS(f)))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","use":"sig"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		keys, err := parseJWKS(b)
		if err == nil && len(keys) == 0 {
			t.Fatal("no error and no key")
		}
		for _, k := range keys {
			switch pub := k.key.(type) {
			case *rsa.PublicKey:
				if pub.N.BitLen() < ssfMinRSABits {
					t.Fatalf("kept a %d-bit RSA key", pub.N.BitLen())
				}
			case *ecdsa.PublicKey, ed25519.PublicKey:
			default:
				t.Fatalf("kept a %T", k.key)
			}
		}
	})
}
