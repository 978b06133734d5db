package ssf

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/conformance"
)

// TestEveryEmailIsNormalizedOnceTheSameWay runs the email suite on every
// path by which an ssf subject gets an email: sub_id as an email, as a
// complex subject's user, among aliases, and the event's own subject (CAEP
// before sub_id, and RISC's subject_type).
func TestEveryEmailIsNormalizedOnceTheSameWay(t *testing.T) {
	s := newTestSSF(t, nil)
	// ssfDelivery signs claims as the transmitter does and runs them
	// through Verify and Parse.
	ssfDelivery := func(t *testing.T, claims []byte) ([]string, string) {
		t.Helper()
		r := ssfRequest(t, rs256(t, claims), ContentType)
		if err := s.Verify(r); err != nil {
			t.Fatalf("a SET signed with the trusted key is refused: %v", err)
		}
		d, err := s.Parse(r)
		if err != nil && !errors.Is(err, sources.ErrMalformed) {
			t.Fatalf("an unusable subject is not malformed: %v", err)
		}
		return conformance.DeliveryEmails(d, err)
	}
	conformance.Emails(t, []conformance.EmailPath{
		{Name: "ssf sub_id email", Field: "sub_id: email: ", Run: func(t *testing.T, email string) ([]string, string) {
			return ssfDelivery(t, ssfClaimsEdited(t, "caep-session-revoked-email.json", func(c map[string]any) {
				c["sub_id"] = map[string]any{"format": "email", "email": email}
			}))
		}},
		{Name: "ssf complex subject user", Field: "sub_id: user: email: ", Run: func(t *testing.T, email string) ([]string, string) {
			return ssfDelivery(t, ssfClaimsEdited(t, "caep-session-revoked-complex.json", func(c map[string]any) {
				c["sub_id"].(map[string]any)["user"] = map[string]any{"format": "email", "email": email}
			}))
		}},
		{Name: "ssf aliases subject", Field: "sub_id: aliases: email: ", Run: func(t *testing.T, email string) ([]string, string) {
			return ssfDelivery(t, ssfClaimsEdited(t, "risc-account-purged.json", func(c map[string]any) {
				c["sub_id"] = map[string]any{"format": "aliases", "identifiers": []any{
					map[string]any{"format": "iss_sub", "iss": ssfTestIssuer, "sub": "7375626A656374"},
					map[string]any{"format": "email", "email": email},
				}}
			}))
		}},
		{Name: "ssf event subject user (before sub_id)", Field: ".subject: user: email: ", Run: func(t *testing.T, email string) ([]string, string) {
			return ssfDelivery(t, ssfClaimsEdited(t, "legacy-event-subject.json", func(c map[string]any) {
				ev := c["events"].(map[string]any)[CAEPSessionRevoked].(map[string]any)
				ev["subject"].(map[string]any)["user"] = map[string]any{"format": "email", "email": email}
			}))
		}},
		{Name: "ssf RISC subject_type email", Field: ".subject: email: ", Run: func(t *testing.T, email string) ([]string, string) {
			return ssfDelivery(t, ssfClaimsEdited(t, "google-sessions-revoked.json", func(c map[string]any) {
				ev := c["events"].(map[string]any)[RISCSessionsRevoked].(map[string]any)
				ev["subject"] = map[string]any{"subject_type": "email", "email": email}
			}))
		}},
	})
}

// ssfClaimsEdited reads testdata/name, issued now, with edit applied to
// its claims.
func ssfClaimsEdited(t *testing.T, name string, edit func(c map[string]any)) []byte {
	t.Helper()
	var c map[string]any
	if err := json.Unmarshal(testdataFile(t, name), &c); err != nil {
		t.Fatal(err)
	}
	c["iat"] = time.Now().Unix()
	edit(c)
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
