// Package manual is the manual connector: a step for a system with no API
// to end sessions by (a "Log out user" button in an admin panel). Its
// Revoke calls nothing; it answers manual_required at once and reports the
// configured instructions as the entry's detail, and the case waits in
// needs_attention until a person does the step and says so
// (POST /v1/cases/{id}/entries/{connector}/attest, or offboarder attest),
// which makes the entry attested.
//
// With after set, the step follows another connector's: a system can be
// both, an API step (SCIM deactivation) and then a manual one (the logout
// button). The step's instructions are shown, and it can be attested, only
// once the other entry is done (final, and not itself waiting for a person).
package manual

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// maxInstructions bounds the instructions, in characters: they are kept
// whole as the entry's detail.
const maxInstructions = 2000

// Config is the settings of a manual connector.
type Config struct {
	// Instructions is what a person follows to end the sessions by hand,
	// e.g. "Lucid admin panel → Users → select the user → Log out user".
	// Required; shown as the entry's detail.
	Instructions string `json:"instructions"`
	// After is the name of another configured connector whose entry must
	// be done before this step is shown; empty means none. connectors.Build
	// checks that it names a configured connector and that no steps wait
	// for each other.
	After string `json:"after"`
}

// Validate reports a missing or overlong instructions key.
func (c *Config) Validate() error {
	var errs []error
	switch n := utf8.RuneCountInString(c.Instructions); {
	case strings.TrimSpace(c.Instructions) == "":
		errs = append(errs, vendorapi.FieldErr("instructions", "required: what a person does in the system to end the sessions"))
	case n > maxInstructions:
		errs = append(errs, vendorapi.FieldErr("instructions", "at most %d characters, not %d", maxInstructions, n))
	}
	if c.After != "" && strings.TrimSpace(c.After) != c.After {
		errs = append(errs, vendorapi.FieldErr("after", "a connector name, without spaces around it"))
	}
	return errors.Join(errs...)
}

// Open returns the connector named name; after naming name itself is an
// error naming the key.
func (c *Config) Open(name string, _ connectors.Deps) (connectors.Connector, error) {
	if c.After == name {
		return nil, vendorapi.FieldErr("after", "names this connector itself; want another connector's name")
	}
	return &Connector{name: name, instructions: strings.TrimSpace(c.Instructions), after: c.After}, nil
}

// Connector is a manual step.
type Connector struct {
	name, instructions, after string
}

var (
	_ connectors.Config   = (*Config)(nil)
	_ connectors.Follower = (*Connector)(nil)
)

// Name returns the configured name.
func (c *Connector) Name() string { return c.name }

// After returns the connector whose entry must be done before this step is
// shown, or "".
func (c *Connector) After() string { return c.after }

// Instructions returns what a person follows.
func (c *Connector) Instructions() string { return c.instructions }

// Revoke calls no system: it reports the instructions and answers
// manual_required, for every reason (the step ends sessions; it disables
// nothing). It is idempotent.
func (c *Connector) Revoke(ctx context.Context, _ offboard.Subject) (offboard.Outcome, error) {
	connectors.Report(ctx, "%s", c.instructions)
	return offboard.ManualRequired, nil
}
