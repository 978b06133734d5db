package aws

import (
	"strings"
	"time"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
)

// report is what one IAM user's revoke ended and left, for the entry's
// detail.
type report struct {
	user    string
	disable bool // the reason allowed the credential steps
	issued  time.Time

	deactivated, already []string // access keys, by their last four characters
	leftActive           []string // active keys not touched: the reason is not in disable_for
	hadPassword          bool

	// read back
	stillActive   []string
	passwordLeft  bool
	policyMissing bool
	unread        bool // the credentials may not read back
}

// String is one sentence group naming each credential ended and what was
// not, e.g. `iam user alice: access keys …WXYZ deactivated; console
// password deleted; temporary credentials issued before
// 2026-12-05T22:00:00Z denied by the inline policy AWSRevokeOlderSessions`.
func (r report) String(d connectors.DisableFor, reason offboard.Reason) string {
	parts := []string{}
	if r.disable {
		switch {
		case len(r.deactivated) > 0:
			parts = append(parts, plural(len(r.deactivated), "access key ", "access keys ")+strings.Join(r.deactivated, ", ")+" deactivated")
		case len(r.already) == 0:
			parts = append(parts, "no access keys")
		}
		if len(r.already) > 0 {
			parts = append(parts, plural(len(r.already), "access key ", "access keys ")+strings.Join(r.already, ", ")+" already inactive")
		}
		if r.hadPassword {
			parts = append(parts, "console password deleted (no new console sign-in; AWS does not document whether a console session already open ends)")
		} else {
			parts = append(parts, "no console password")
		}
	} else {
		what := "access keys not deactivated and console password not deleted"
		if len(r.leftActive) > 0 {
			what = "access keys " + strings.Join(r.leftActive, ", ") + " left active (requests they sign are not denied) and console password not deleted"
		}
		parts = append(parts, d.Skipped(what, reason))
	}
	parts = append(parts, "temporary credentials issued before "+r.issued.Format(time.RFC3339)+
		" denied by the inline policy "+PolicyName+" (IAM may take a few minutes to apply it)")
	switch {
	case r.unread:
		parts = append(parts, "not read back: the credentials may not read keys, password or policy")
	default:
		if len(r.stillActive) > 0 {
			parts = append(parts, "still reading active: access keys "+strings.Join(r.stillActive, ", "))
		}
		if r.passwordLeft {
			parts = append(parts, "the console password still reads present")
		}
		if r.policyMissing {
			parts = append(parts, "the policy does not read back as written")
		}
	}
	return "iam user " + r.user + ": " + strings.Join(parts, "; ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
