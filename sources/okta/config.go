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
	// BaseURL is the Okta org (https://example.okta.com) whose System Log
	// Maintain reads; with Token, the source reconciles missed pushes.
	BaseURL string `json:"base_url"`
	// Token is an API token (SSWS) that may read the System Log.
	Token vendorapi.Secret `json:"token"`
	// ReconcileInterval is how often the System Log is read (default
	// sources.DefaultReconcileInterval); only with base_url and token.
	ReconcileInterval string `json:"reconcile_interval"`
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
	errs = append(errs, c.validateAPI()...)
	_, bad := c.events()
	return errors.Join(append(errs, bad...)...)
}

// validateAPI checks the System Log keys: base_url and token together or
// neither; reconcile_interval only with them.
func (c *Config) validateAPI() []error {
	var errs []error
	switch {
	case c.BaseURL == "" && c.Token == "":
		if c.ReconcileInterval != "" {
			errs = append(errs, vendorapi.FieldErr("reconcile_interval", "only used with base_url + token (the System Log is read with them)"))
		}
		return errs
	case c.BaseURL == "":
		errs = append(errs, vendorapi.FieldErr("base_url", "required with token: the Okta org, e.g. https://example.okta.com"))
	case c.Token == "":
		errs = append(errs, vendorapi.FieldErr("token", "required with base_url: an API token that may read the System Log"))
	}
	if c.BaseURL != "" {
		if err := vendorapi.CheckURL(c.BaseURL); err != nil {
			errs = append(errs, vendorapi.KeyErr("base_url", err))
		} else if strings.Contains(c.BaseURL, "/api/") {
			errs = append(errs, vendorapi.FieldErr("base_url", "give the org without /api/v1, e.g. https://example.okta.com"))
		}
	}
	if c.Token != "" && (strings.TrimSpace(string(c.Token)) != string(c.Token) || !httpguts.ValidHeaderFieldValue(string(c.Token))) {
		errs = append(errs, vendorapi.FieldErr("token", "must be a header value without control characters or surrounding spaces"))
	}
	if _, err := sources.ReconcileInterval(c.ReconcileInterval); err != nil {
		errs = append(errs, vendorapi.KeyErr("reconcile_interval", err))
	}
	return errs
}

// events is the event map: the defaults with Events over them.
func (c *Config) events() (map[string]offboard.Reason, []error) {
	return sources.EventReasons(oktaDefaultEvents, c.Events, func(t string) bool {
		return len(t) <= 255 && oktaEventTypeRE.MatchString(t)
	}, "not an Okta event type such as user.lifecycle.deactivate", false)
}

// Open implements sources.Config.
// Without base_url and token it is a *Source; with them a *Reconciler,
// which also reads the System Log (a sources.Maintainer).
func (c *Config) Open(name string, d sources.Deps) (sources.Source, error) {
	events, _ := c.events() // checked by Validate
	o := &Source{name: name, header: DefaultHeader, secret: sources.HashSecret(c.Secret), events: events}
	if c.Header != "" {
		o.header = http.CanonicalHeaderKey(c.Header)
	}
	if c.BaseURL == "" {
		return o, nil
	}
	interval, _ := sources.ReconcileInterval(c.ReconcileInterval) // checked by Validate
	token := string(c.Token)
	api, err := vendorapi.NewClient("okta", c.BaseURL, d.HTTPClient, vendorapi.ClientOptions{
		Auth:        func(h http.Header) { h.Set("Authorization", "SSWS "+token) },
		VendorError: oktaError,
		Secrets:     []string{token, string(c.Secret)},
	})
	if err != nil {
		return nil, vendorapi.KeyErr("base_url", sources.Cause(err))
	}
	return &Reconciler{Source: o, api: api, interval: interval, now: d.Now}, nil
}
