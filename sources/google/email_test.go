package google

import (
	"net/http"
	"testing"

	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/conformance"
)

// TestEveryEmailIsNormalizedOnceTheSameWay runs the email suite on the one
// path by which a google subject gets an email: an activity's USER_EMAIL.
func TestEveryEmailIsNormalizedOnceTheSameWay(t *testing.T) {
	g := newTestGoogle(t, nil)
	conformance.Emails(t, []conformance.EmailPath{
		{Name: "google USER_EMAIL", Field: "no usable USER_EMAIL", Run: func(t *testing.T, email string) ([]string, string) {
			body := conformance.Swap(t, googleFile(t, "suspend-user.json"), `"Liz@Example.com"`, string(conformance.JSONString(email)))
			r := &sources.Request{Context: t.Context(), Method: http.MethodPost, Header: googleHeaders("SUSPEND_USER"), Body: body}
			if err := g.Verify(r); err != nil {
				t.Fatalf("verify: %v", err)
			}
			return conformance.DeliveryEmails(g.Parse(r))
		}},
	})
}
