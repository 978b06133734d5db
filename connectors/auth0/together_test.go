package auth0_test

import (
	"net/http"
	"testing"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/connectors/conformance"
	"github.com/offboarder/offboarder/offboard"
)

// The calls of one Auth0 revoke that the docs let run independently are sent
// together, at most four at once; the calls whose order matters are not.
func TestAuth0CallsAreSentTogether(t *testing.T) {
	conformance.RunSentTogether(t, []conformance.SentTogether{{

		Name: "auth0: both deletions together, then both read-backs together",
		Open: func(base string) (connectors.Connector, error) { return openAuth0(base, nil) },
		Fake: func(t *testing.T) http.Handler {
			return auth0Fake(t, auth0TokenAnswer{}, append([]step{byEmail(200, auth0Users(auth0ID))}, auth0Revoked(auth0IDPath)...)...)
		},
		Who: auth0Email, Want: offboard.Verified, Top: 2,
		Check: func(t *testing.T, l *conformance.CallLog) {
			if !l.StartedDuring("DELETE sessions", "DELETE refresh-tokens") && !l.StartedDuring("DELETE refresh-tokens", "DELETE sessions") {
				t.Error("the two deletions were sent one after the other")
			}
			if !l.StartedDuring("GET sessions", "GET refresh-tokens") && !l.StartedDuring("GET refresh-tokens", "GET sessions") {
				t.Error("the two read-backs were sent one after the other")
			}
		},
	}})
}
