package sources

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/offboarder/offboarder/offboard"
)

func FuzzVerifySignature(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":"e1","email":"a@example.com","reason":"terminated"}`)
	f.Add(SignatureValue(now, body, testSecret), body)
	f.Add("t=1800000000,v1=00", body)
	f.Add("", []byte{})
	f.Add("t=,v1=,v1=,", []byte("x"))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		err := VerifySignature(header, body, [][]byte{testSecret}, now, DefaultTolerance)
		if err == nil {
			// Only a header carrying the true HMAC of this body may pass.
			if header != SignatureValue(now, body, testSecret) && !containsValidSig(header, body, now) {
				t.Fatalf("accepted a header without a valid signature: %q", header)
			}
			return
		}
		if !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("error not classified: %v", err)
		}
	})
}

// containsValidSig reports whether the true v1 value for body appears in
// header. Hex digits are compared without regard to case: an upper-case
// digit encodes the same signature byte, so it proves the same knowledge of
// the secret.
func containsValidSig(header string, body []byte, now time.Time) bool {
	want := SignatureValue(now, body, testSecret)
	sig := want[len("t=1800000000,v1="):]
	return strings.Contains(strings.ToLower(header), sig)
}

func FuzzParseGeneric(f *testing.F) {
	f.Add([]byte(`{"id":"e1","email":"a@example.com","reason":"terminated"}`))
	f.Add([]byte(`{"id":"e2","email":"b@bücher.example","reason":"security","effective_at":"2030-01-02T03:04:05Z","systems":["okta"],"dry_run":true}`))
	f.Add([]byte(`{"id":1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParseGeneric(body, true)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error not classified: %v", err)
			}
			return
		}
		if ev.ID == "" || !offboard.Reason(ev.Reason).Valid() {
			t.Fatalf("accepted an invalid event: %+v", ev)
		}
		if !utf8.Valid(body) || CheckJSON(body, reflect.TypeFor[GenericBody]()) != nil {
			t.Fatalf("accepted an ambiguous body: %q", body)
		}
		again, err := NormalizeEmail(ev.Email)
		if err != nil || again != ev.Email {
			t.Fatalf("email %q not stable under normalisation: %q, %v", ev.Email, again, err)
		}
	})
}
