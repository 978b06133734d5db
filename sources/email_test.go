package sources_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/conformance"
)

// TestEveryEmailIsNormalizedOnceTheSameWay runs the email suite on the
// generic source's path (each sender's package runs it on its own paths).
func TestEveryEmailIsNormalizedOnceTheSameWay(t *testing.T) {
	secret := []byte("test-secret-0123456789abcdef")
	gen, err := sources.NewGeneric("hr", string(secret))
	if err != nil {
		t.Fatal(err)
	}
	conformance.Emails(t, []conformance.EmailPath{
		{Name: "generic", Field: "email: ", Run: func(t *testing.T, email string) ([]string, string) {
			body, _ := json.Marshal(sources.GenericBody{ID: "e1", Email: email, Reason: offboard.ReasonTerminated})
			r := &sources.Request{Context: t.Context(), Method: http.MethodPost, Body: body,
				Header: conformance.Headers(sources.SignatureHeader, sources.SignatureValue(time.Now(), body, secret))}
			if err := gen.Verify(r); err != nil {
				t.Fatalf("verify: %v", err)
			}
			return conformance.DeliveryEmails(gen.Parse(r))
		}},
	})
}
