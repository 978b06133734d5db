package keycloak_test

import (
	"net/http"
	"testing"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/connectors/conformance"
	"github.com/offboarder/offboarder/offboard"
)

// kcOtherOffline is a second client holding the user's offline tokens.
const kcOtherOffline = `{"clientId":"desktop-app","grantedClientScopes":[],"createdDate":null,"lastUpdatedDate":null,"additionalGrants":[{"client":"d4e5","key":"Offline Token"}]}`

// The calls of one Keycloak revoke that the docs let run independently are sent
// together, at most four at once; the calls whose order matters are not.
func TestKeycloakCallsAreSentTogether(t *testing.T) {
	conformance.RunSentTogether(t, []conformance.SentTogether{{
		Name: "keycloak: the logout and a first listing go together; the read-back's listing starts after the logout answered",
		Open: func(base string) (connectors.Connector, error) { return openKeycloak(base, nil) },
		Fake: func(t *testing.T) http.Handler {
			return keycloakFake(t, kcToken{},
				kcSearch(200, kcUsers(kcID)), kcLogout(kcID, 204, ""),
				kcConsents(kcID, 200, "["+kcAppOffline+","+kcOtherOffline+"]").With(),
				kcRevokeConsent(kcID, "mobile-app", 204, ""), kcRevokeConsent(kcID, "desktop-app", 204, "").With(),
				kcSessions(kcID, 200, "[]"), kcConsents(kcID, 200, "[]").With())
		},
		Who: kcEmail, Want: offboard.Verified, Top: 2,
		Check: func(t *testing.T, l *conformance.CallLog) {
			if !l.StartedDuring("POST logout", "GET consents") && !l.StartedDuring("GET consents", "POST logout") {
				t.Error("the logout and the first listing were sent one after the other")
			}
			if !l.LastStartAfterEnd("POST logout", "GET consents") {
				t.Error("no listing of the consents started after the logout answered")
			}
			if !l.StartedDuring("DELETE mobile-app", "DELETE desktop-app") && !l.StartedDuring("DELETE desktop-app", "DELETE mobile-app") {
				t.Error("the consent revocations were sent one after the other")
			}
			if !l.StartedDuring("GET sessions", "GET consents") && !l.StartedDuring("GET consents", "GET sessions") {
				t.Error("the two read-backs were sent one after the other")
			}
		},
	}, {
		Name: "keycloak: a user without offline tokens costs three round trips, the last listing after the logout",
		Open: func(base string) (connectors.Connector, error) { return openKeycloak(base, nil) },
		Fake: func(t *testing.T) http.Handler {
			return keycloakFake(t, kcToken{}, append([]step{kcSearch(200, kcUsers(kcID))}, kcLoggedOut(kcID)...)...)
		},
		Who: kcEmail, Want: offboard.Verified, Top: 2,
		Check: func(t *testing.T, l *conformance.CallLog) {
			if !l.LastStartAfterEnd("POST logout", "GET consents") {
				t.Error("no listing of the consents started after the logout answered")
			}
		},
	}})
}
