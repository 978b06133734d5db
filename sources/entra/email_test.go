package entra

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/conformance"
)

// TestEveryEmailIsNormalizedOnceTheSameWay runs the email suite on every
// path by which an entra subject gets an email: Resolve reading the user's
// mail, or its userPrincipalName when it has no mail.
func TestEveryEmailIsNormalizedOnceTheSameWay(t *testing.T) {
	conformance.Emails(t, []conformance.EmailPath{
		{Name: "entra Resolve mail", Field: "neither a usable mail nor a usable userPrincipalName", Run: func(t *testing.T, email string) ([]string, string) {
			return entraResolve(t, map[string]any{"mail": email, "userPrincipalName": email})
		}},
		{Name: "entra Resolve userPrincipalName", Field: "neither a usable mail nor a usable userPrincipalName", Run: func(t *testing.T, email string) ([]string, string) {
			return entraResolve(t, map[string]any{"mail": nil, "userPrincipalName": email})
		}},
	})
}

// entraResolve resolves a disabled user whose Graph record has fields.
func entraResolve(t *testing.T, fields map[string]any) ([]string, string) {
	t.Helper()
	user := map[string]any{"id": entraUserA, "accountEnabled": false}
	for k, v := range fields {
		user[k] = v
	}
	body, _ := json.Marshal(user)
	srv := conformance.FakeSender(t, entraTokenStep(), entraUserStep(http.StatusOK, string(body), nil))
	e := newTestEntra(t, entraSettings(srv.URL))
	return conformance.ResolvedEmails(t)(e.Resolve(t.Context(), sources.Event{ID: "e1", Type: "updated", Reason: offboard.ReasonDeactivated, IDs: map[string]string{"entra": entraUserA}}))
}
