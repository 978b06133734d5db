// Package aws is the simulator's fake of AWS IAM's Query API, served
// under /aws, written from IAM's API reference: form-encoded POSTs to /
// with Action=…&Version=2010-05-08, XML answers and XML error bodies. It
// keeps per user an email tag, access keys, a console password
// (login profile), inline policies and temporary credentials issued an
// hour before the user was added; a user's sessions are the active keys,
// the password and the temporary credentials no inline deny policy on
// aws:TokenIssueTime covers.
//
// Requests must carry a SigV4 Authorization header whose Credential names
// the configured access key id; the signature itself is not checked.
package aws

import (
	"cmp"

	"github.com/offboarder/offboarder/simulator/fake"
)

// DefaultAccessKeyID is the access key id the fake accepts when
// Config.AccessKeyID is "".
const DefaultAccessKeyID = "sim-aws-access-key"

// EmailTag is the tag key that holds each user's email.
const EmailTag = "email"

// Config is what the fake accepts.
type Config struct {
	AccessKeyID string // "" means DefaultAccessKeyID
}

func (c Config) keyID() string { return cmp.Or(c.AccessKeyID, DefaultAccessKeyID) }

// New returns the IAM fake, reading its config on every call.
func New(config func() Config) fake.Vendor { return newIAM(config) }
