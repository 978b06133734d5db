package ssf

import (
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// BenchmarkSSFVerifyParse is the handler's work on one SET: Verify, then
// Parse (which verifies again), for an RS256 (2048-bit) and an ES256 SET.
func BenchmarkSSFVerifyParse(b *testing.B) {
	keys := ssfTestKeys(b)
	s := newTestSSF(b, nil)
	claims := setClaims(b, "caep-session-revoked-email.json", time.Now(), nil)
	for _, c := range []struct {
		name  string
		token string
	}{
		{"RS256", rs256(b, claims)},
		{"ES256", signSET(b, claims, jose.ES256, "e1", keys.ec, "secevent+jwt")},
	} {
		b.Run(c.name, func(b *testing.B) {
			r := ssfRequest(b, c.token, ContentType)
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Verify(r); err != nil {
					b.Fatal(err)
				}
				if d, err := s.Parse(r); err != nil || len(d.Events) != 1 {
					b.Fatal(d, err)
				}
			}
		})
	}
}
