package okta

import (
	"net/http"
	"testing"

	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/conformance"
)

// TestEveryEmailIsNormalizedOnceTheSameWay runs the email suite on every
// path by which an okta delivery names a subject: the target's alternateId
// and its login.
func TestEveryEmailIsNormalizedOnceTheSameWay(t *testing.T) {
	o := newTestOkta(t, nil)
	conformance.Emails(t, []conformance.EmailPath{
		{Name: "okta target alternateId", Field: "no email login", Run: func(t *testing.T, email string) ([]string, string) {
			body := conformance.Swap(t, oktaFile(t, "deactivate.json"), `"john.doe@example.com"`, string(conformance.JSONString(email)))
			return oktaDelivery(t, o, body)
		}},
		{Name: "okta target login", Field: "no email login", Run: func(t *testing.T, email string) ([]string, string) {
			body := conformance.Swap(t, oktaFile(t, "deactivate.json"), `"alternateId": "john.doe@example.com"`, `"login": `+string(conformance.JSONString(email)))
			return oktaDelivery(t, o, body)
		}},
	})
}

// oktaDelivery runs an okta delivery, with the hook's secret, through Verify
// and Parse.
func oktaDelivery(t *testing.T, o *Source, body []byte) ([]string, string) {
	t.Helper()
	r := &sources.Request{Context: t.Context(), Method: http.MethodPost, Header: conformance.Headers("Authorization", oktaSecret), Body: body}
	if err := o.Verify(r); err != nil {
		t.Fatalf("verify: %v", err)
	}
	return conformance.DeliveryEmails(o.Parse(r))
}
