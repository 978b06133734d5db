package sources

import (
	"testing"
	"time"
)

func BenchmarkVerifySignature(b *testing.B) {
	body := []byte(`{"id":"e1","email":"alice@example.com","reason":"terminated"}`)
	now := time.Now()
	header := SignatureValue(now, body, testSecret)
	secrets := [][]byte{testSecret}
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifySignature(header, body, secrets, now, DefaultTolerance); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseGeneric(b *testing.B) {
	body := []byte(`{"id":"e1","email":"Alice@Example.com","reason":"terminated","systems":["okta","slack"]}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseGeneric(body, true); err != nil {
			b.Fatal(err)
		}
	}
}
