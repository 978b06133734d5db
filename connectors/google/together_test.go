package google_test

import (
	"net/http"
	"testing"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/connectors/conformance"
	"github.com/offboarder/offboarder/offboard"
)

// The calls of one Google revoke that the docs let run independently are sent
// together, at most four at once; the calls whose order matters are not.
func TestGoogleCallsAreSentTogether(t *testing.T) {
	appA, appB, appC := "app-a.apps.googleusercontent.com", "app-b.apps.googleusercontent.com", "app-c.apps.googleusercontent.com"
	var many []string // more tokens than the bound of calls in flight
	for _, c := range "defghi" {
		many = append(many, "app-"+string(c)+".apps.googleusercontent.com")
	}
	conformance.RunSentTogether(t, []conformance.SentTogether{{
		Name: "google: the sign-out with the first listing, then every token's deletion together",
		Open: func(base string) (connectors.Connector, error) { return openGoogle(base, nil) },
		Fake: func(t *testing.T) http.Handler {
			return googleFake(t, googleTokenAnswer{},
				signOut(googleEmail, 204, ""), listTokens(googleEmail, 200, googleTokenList(appA, appB, appC)).With(),
				deleteToken(googleEmail, appA, 204, ""), deleteToken(googleEmail, appB, 204, "").With(), deleteToken(googleEmail, appC, 204, "").With(),
				listTokens(googleEmail, 200, googleTokenList()))
		},
		Who: googleEmail, Want: offboard.Verified, Top: 3,
		Check: func(t *testing.T, l *conformance.CallLog) {
			if !l.StartedDuring("POST signOut", "GET tokens") && !l.StartedDuring("GET tokens", "POST signOut") {
				t.Error("the sign-out and the first listing were sent one after the other")
			}
			if !l.LastStartAfterEnd("POST signOut", "GET tokens") {
				t.Error("the listing that decides the outcome started before the sign-out answered")
			}
		},
	}, {
		Name: "google: no more than four deletions at once",
		Open: func(base string) (connectors.Connector, error) { return openGoogle(base, nil) },
		Fake: func(t *testing.T) http.Handler {
			steps := []step{signOut(googleEmail, 204, ""), listTokens(googleEmail, 200, googleTokenList(many...)).With()}
			for i, app := range many {
				s := deleteToken(googleEmail, app, 204, "")
				s.Together = i > 0
				steps = append(steps, s)
			}
			return googleFake(t, googleTokenAnswer{}, append(steps, listTokens(googleEmail, 200, googleTokenList()))...)
		},
		Who: googleEmail, Want: offboard.Verified, Top: 2,
		Check: func(t *testing.T, l *conformance.CallLog) {
			if got := l.Top(); got > 4 {
				t.Errorf("%d requests at once, want at most 4", got)
			}
		},
	}, {
		Name: "google: a user without tokens is listed again once the sign-out answered",
		Open: func(base string) (connectors.Connector, error) { return openGoogle(base, nil) },
		Fake: func(t *testing.T) http.Handler {
			return googleFake(t, googleTokenAnswer{}, signedOutNoTokens(googleEmail)...)
		},
		Who: googleEmail, Want: offboard.Verified, Top: 2,
		Check: func(t *testing.T, l *conformance.CallLog) {
			if !l.LastStartAfterEnd("POST signOut", "GET tokens") {
				t.Error("no listing started after the sign-out answered")
			}
		},
	}})
}
