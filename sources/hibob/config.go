package hibob

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/vendorapi"
)

// Config is the settings of a hibob source.
type Config struct {
	// Secret is the webhook's secret: one string, or a list during a
	// rotation.
	Secret sources.Secrets `json:"secret"`
	// ServiceUserID and ServiceUserToken are a service user's credentials,
	// which read employees through the People API.
	ServiceUserID    string           `json:"service_user_id"`
	ServiceUserToken vendorapi.Secret `json:"service_user_token"`
	// BaseURL replaces https://api.hibob.com (the sandbox, tests, the
	// simulator).
	BaseURL string `json:"base_url"`
	// Events adds event types to the defaults, or maps them to another
	// reason; values are checked one by one, to name the key.
	Events map[string]any `json:"events"`
}

// Validate implements sources.Config. Every problem is reported, each naming its
// key and none echoing a value.
func (c *Config) Validate() error {
	var errs []error
	if err := c.Secret.Check(); err != nil {
		errs = append(errs, vendorapi.KeyErr("secret", err))
	}
	if err := sources.BasicCredential(c.ServiceUserID); err != nil {
		errs = append(errs, vendorapi.KeyErr("service_user_id", err))
	}
	switch t := string(c.ServiceUserToken); {
	case t == "":
		errs = append(errs, vendorapi.FieldErr("service_user_token", "required"))
	case len(t) > 4096 || !sources.Printable(t) || strings.ContainsAny(t, " \t"):
		errs = append(errs, vendorapi.FieldErr("service_user_token", "must be printable, without spaces"))
	}
	_, bad := c.events()
	return errors.Join(append(errs, bad...)...)
}

// events is the event map: the defaults with Events over them.
func (c *Config) events() (map[string]offboard.Reason, []error) {
	return sources.EventReasons(hibobDefaultEvents, c.Events, func(t string) bool {
		return len(t) <= hibobMaxEventTypeLen && hibobEventTypeRE.MatchString(t)
	}, "not a Bob event type such as employee.left", false)
}

// Open implements sources.Config.
func (c *Config) Open(name string, d sources.Deps) (sources.Source, error) {
	events, _ := c.events() // checked by Validate
	base := c.BaseURL
	if base == "" {
		base = hibobDefaultBaseURL
	}
	// Service users authenticate with HTTP Basic: the service user id as the
	// user name and its token as the password.
	// https://apidocs.hibob.com/reference/authorization
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(c.ServiceUserID+":"+string(c.ServiceUserToken)))
	client, err := vendorapi.NewClient("hibob", base, d.HTTPClient, vendorapi.ClientOptions{
		Auth:        func(hd http.Header) { hd.Set("Authorization", auth) },
		VendorError: hibobVendorError,
		Secrets:     []string{string(c.ServiceUserToken), auth},
	})
	if err != nil {
		return nil, vendorapi.KeyErr("base_url", sources.Cause(err))
	}
	return &Source{name: name, secrets: c.Secret.Bytes(), events: events, now: d.Now, client: client}, nil
}
