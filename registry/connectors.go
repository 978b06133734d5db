package registry

import (
	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/connectors/auth0"
	"github.com/offboarder/offboarder/connectors/box"
	"github.com/offboarder/offboarder/connectors/entra"
	"github.com/offboarder/offboarder/connectors/google"
	"github.com/offboarder/offboarder/connectors/httpcall"
	"github.com/offboarder/offboarder/connectors/keycloak"
	"github.com/offboarder/offboarder/connectors/okta"
	"github.com/offboarder/offboarder/connectors/onelogin"
	"github.com/offboarder/offboarder/connectors/salesforce"
	"github.com/offboarder/offboarder/connectors/scim"
)

// Connectors maps every connector type name, as written in the
// configuration's `type` key, to a fresh Config of that type.
func Connectors() map[string]func() connectors.Config {
	return map[string]func() connectors.Config{
		"auth0":      func() connectors.Config { return new(auth0.Config) },
		"box":        func() connectors.Config { return new(box.Config) },
		"entra":      func() connectors.Config { return new(entra.Config) },
		"google":     func() connectors.Config { return new(google.Config) },
		"http":       func() connectors.Config { return new(httpcall.Config) },
		"keycloak":   func() connectors.Config { return new(keycloak.Config) },
		"okta":       func() connectors.Config { return new(okta.Config) },
		"onelogin":   func() connectors.Config { return new(onelogin.Config) },
		"salesforce": func() connectors.Config { return new(salesforce.Config) },
		"scim":       func() connectors.Config { return new(scim.Config) },
	}
}
