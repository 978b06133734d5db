package entra

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/vendorapi"
)

// entraTenantRE is a tenant id (a GUID) or a domain name such as
// contoso.onmicrosoft.com; either names the tenant in the token URL.
// https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
var entraTenantRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$`)

// Config is the settings of an entra source.
type Config struct {
	// ClientState is the secret Graph sends back with every notification
	// (16 to 128 characters) [subscr].
	ClientState vendorapi.Secret `json:"client_state"`
	// TenantID is the directory (tenant) id or its primary domain.
	TenantID string `json:"tenant_id"`
	// ClientID is the application (client) id of the app registration.
	ClientID string `json:"client_id"`
	// ClientSecret is a client secret of the app registration [cc-flow].
	ClientSecret vendorapi.Secret `json:"client_secret"`
	// NotificationURL is this source's public https URL.
	NotificationURL string `json:"notification_url"`
	// LifecycleURL, if set, receives Graph's lifecycle notifications [lifecycle].
	LifecycleURL string `json:"lifecycle_url"`
	// BaseURL is Graph's root without the version (default
	// DefaultBaseURL).
	BaseURL string `json:"base_url"`
	// TokenURL is the token endpoint (default: the tenant's v2.0 one).
	TokenURL string `json:"token_url"`
	// ReconcileInterval is how often Maintain runs the delta query on users
	// (default sources.DefaultReconcileInterval).
	ReconcileInterval string `json:"reconcile_interval"`
}

// Validate implements sources.Config.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, a ...any) { errs = append(errs, vendorapi.FieldErr(key, format, a...)) }
	switch cs := string(c.ClientState); {
	case cs == "":
		bad("client_state", "required: a random secret of 16 to 128 characters that Graph sends back with every notification")
	case len(cs) < 16:
		bad("client_state", "too short: use at least 16 random characters")
	case len(cs) > 128:
		// The subscription's clientState holds at most 128 characters [subscr].
		bad("client_state", "longer than the 128 characters Graph keeps")
	case !sources.PrintableASCII(cs):
		bad("client_state", "use printable ASCII characters only")
	}
	switch {
	case c.TenantID == "":
		bad("tenant_id", "required: the directory (tenant) id or its primary domain")
	case !entraTenantRE.MatchString(c.TenantID):
		bad("tenant_id", "not a tenant id (a GUID) or domain name")
	}
	if c.ClientID == "" {
		bad("client_id", "required: the application (client) id of the app registration")
	}
	if strings.TrimSpace(string(c.ClientSecret)) == "" {
		bad("client_secret", "required: a client secret of the app registration")
	}
	if err := sources.NotificationURL(c.NotificationURL); err != nil {
		errs = append(errs, vendorapi.KeyErr("notification_url", err))
	}
	if c.LifecycleURL != "" {
		if err := sources.NotificationURL(c.LifecycleURL); err != nil {
			errs = append(errs, vendorapi.KeyErr("lifecycle_url", err))
		}
	}
	if c.BaseURL != "" {
		if err := vendorapi.CheckURL(c.BaseURL); err != nil {
			errs = append(errs, vendorapi.KeyErr("base_url", err))
		} else if strings.Contains(c.BaseURL, "/v1.0") || strings.Contains(c.BaseURL, "/beta") {
			bad("base_url", "give the root without the API version, e.g. %s", DefaultBaseURL)
		}
	}
	if c.TokenURL != "" {
		if err := vendorapi.CheckURL(c.TokenURL); err != nil {
			errs = append(errs, vendorapi.KeyErr("token_url", err))
		}
	}
	if _, err := sources.ReconcileInterval(c.ReconcileInterval); err != nil {
		errs = append(errs, vendorapi.KeyErr("reconcile_interval", err))
	}
	return errors.Join(errs...)
}

// Open implements sources.Config.
func (c *Config) Open(name string, d sources.Deps) (sources.Source, error) {
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	if c.TokenURL == "" {
		c.TokenURL = fmt.Sprintf(entraTokenURLFormat, c.TenantID)
	}
	interval, _ := sources.ReconcileInterval(c.ReconcileInterval) // checked by Validate
	api, err := entraClient(c, d.HTTPClient)
	if err != nil {
		return nil, vendorapi.KeyErr("base_url", sources.Cause(err))
	}
	return &Source{
		name:        name,
		clientState: sources.HashSecret(c.ClientState),
		secret:      c.ClientState,
		stateMark:   entraMark(c.ClientState),
		notifyURL:   c.NotificationURL,
		lifecycle:   c.LifecycleURL,
		api:         api,
		interval:    interval,
		now:         d.Now,
	}, nil
}
