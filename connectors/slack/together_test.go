package slack_test

import (
	"net/http"
	"testing"

	"github.com/offboarder/offboarder/connectors/conformance"
	"github.com/offboarder/offboarder/offboard"
)

// The session listings of a grid user's workspaces do not depend on each
// other and are sent together; the reset waits for the lookup, and the
// listings for the reset.
func TestSlackCallsAreSentTogether(t *testing.T) {
	conformance.RunSentTogether(t, []conformance.SentTogether{{
		Name: "slack: the listings of two workspaces go together, after the reset answered",
		Open: openSlack,
		Fake: func(t *testing.T) http.Handler {
			return slackFake(t, resetBody, lookup(200, slUser(slTeam, slTeam2)), reset(200, slOK), list(200, slNone), list(200, slNone).With())
		},
		Who: slEmail, Want: offboard.Verified, Top: 2,
		Check: func(t *testing.T, l *conformance.CallLog) {
			if !l.LastStartAfterEnd("POST admin.users.session.reset", "POST admin.users.session.list") {
				t.Error("a listing started before the reset answered")
			}
			if l.StartedDuring("POST admin.users.session.reset", "POST admin.users.session.list") {
				t.Error("a listing was sent while the reset was in flight")
			}
		},
	}})
}
