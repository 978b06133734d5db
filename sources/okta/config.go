package okta

import (
	"errors"
	"net/http"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/vendorapi"
)

// Config is the settings of an okta source.
type Config struct {
	// Secret is the value the hook sends in its authentication header
	// ("Authentication secret" in the Admin Console).
	Secret vendorapi.Secret `json:"secret"`
	// Header is that header's name ("Authentication field"); empty means
	// Authorization.
	Header string `json:"header"`
	// Events adds event types to the defaults, or maps them to another
	// reason; values are checked one by one, to name the key.
	Events map[string]any `json:"events"`
}

// Validate implements sources.Config.
func (c *Config) Validate() error {
	var errs []error
	switch s := string(c.Secret); {
	case s == "":
		errs = append(errs, vendorapi.FieldErr("secret", "required"))
	case len(s) < 16:
		errs = append(errs, vendorapi.FieldErr("secret", "too short: use at least 16 random bytes"))
	case len(s) > 4096:
		errs = append(errs, vendorapi.FieldErr("secret", "longer than 4096 bytes"))
	case !httpguts.ValidHeaderFieldValue(s) || strings.TrimSpace(s) != s:
		// HTTP servers drop surrounding spaces from header values, so such a
		// secret could never match.
		errs = append(errs, vendorapi.FieldErr("secret", "must be a header value without control characters or surrounding spaces"))
	}
	if c.Header != "" && (!httpguts.ValidHeaderFieldName(c.Header) || http.CanonicalHeaderKey(c.Header) == ChallengeHeader) {
		errs = append(errs, vendorapi.FieldErr("header", "want an HTTP header name such as Authorization"))
	}
	_, bad := c.events()
	return errors.Join(append(errs, bad...)...)
}

// events is the event map: the defaults with Events over them.
func (c *Config) events() (map[string]offboard.Reason, []error) {
	return sources.EventReasons(oktaDefaultEvents, c.Events, func(t string) bool {
		return len(t) <= 255 && oktaEventTypeRE.MatchString(t)
	}, "not an Okta event type such as user.lifecycle.deactivate", false)
}

// Open implements sources.Config.
func (c *Config) Open(name string, _ sources.Deps) (sources.Source, error) {
	events, _ := c.events() // checked by Validate
	o := &Source{name: name, header: DefaultHeader, secret: sources.HashSecret(c.Secret), events: events}
	if c.Header != "" {
		o.header = http.CanonicalHeaderKey(c.Header)
	}
	return o, nil
}
