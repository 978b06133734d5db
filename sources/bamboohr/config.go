package bamboohr

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/vendorapi"
)

// Config is the settings of a bamboohr source.
type Config struct {
	// Secret is the webhook's private key: one string, or a list during a
	// rotation.
	Secret sources.Secrets `json:"secret"`
	// CompanyDomain is the company's subdomain (mycompany for
	// https://mycompany.bamboohr.com).
	CompanyDomain string `json:"company_domain"`
	// APIKey is an API key of a user who may read employees.
	APIKey vendorapi.Secret `json:"api_key"`
	// BaseURL replaces https://<company_domain>.bamboohr.com (tests, the
	// simulator).
	BaseURL string `json:"base_url"`
	// Tolerance is how far a signature's timestamp may be from now (default
	// 5m, between 1s and 1h).
	Tolerance string `json:"tolerance"`
}

// Validate implements sources.Config. Every problem is reported, each naming its
// key and none echoing a value.
func (c *Config) Validate() error {
	var errs []error
	if err := c.Secret.Check(); err != nil {
		errs = append(errs, vendorapi.KeyErr("secret", err))
	}
	switch {
	case c.CompanyDomain == "":
		errs = append(errs, vendorapi.FieldErr("company_domain", "required (mycompany for https://mycompany.bamboohr.com)"))
	case !bambooHRDomainRE.MatchString(c.CompanyDomain):
		errs = append(errs, vendorapi.FieldErr("company_domain", "want the subdomain only (mycompany for https://mycompany.bamboohr.com)"))
	}
	if err := sources.BasicCredential(string(c.APIKey)); err != nil {
		errs = append(errs, vendorapi.KeyErr("api_key", err))
	}
	if _, err := sources.Tolerance(c.Tolerance); err != nil {
		errs = append(errs, vendorapi.KeyErr("tolerance", err))
	}
	return errors.Join(errs...)
}

// Open implements sources.Config.
func (c *Config) Open(name string, d sources.Deps) (sources.Source, error) {
	tol, _ := sources.Tolerance(c.Tolerance) // checked by Validate
	// The current API hangs from the company's own host:
	// https://documentation.bamboohr.com/docs/api-details ("API requests are
	// made to a URL that begins with https://{companyDomain}.bamboohr.com/api/").
	base := c.BaseURL
	if base == "" {
		base = "https://" + strings.ToLower(c.CompanyDomain) + ".bamboohr.com"
	}
	// API keys are sent as HTTP Basic credentials, the key as the user name
	// and "x" as the password: https://documentation.bamboohr.com/docs/getting-started
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(string(c.APIKey)+":x"))
	client, err := vendorapi.NewClient("bamboohr", base, d.HTTPClient, vendorapi.ClientOptions{
		Auth:        func(h http.Header) { h.Set("Authorization", auth) },
		VendorError: bambooHRVendorError,
		Secrets:     []string{string(c.APIKey), auth},
	})
	if err != nil {
		return nil, vendorapi.KeyErr("base_url", sources.Cause(err))
	}
	return &Source{name: name, secrets: c.Secret.Bytes(), tolerance: tol, now: d.Now, client: client}, nil
}
