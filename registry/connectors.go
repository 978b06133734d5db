package registry

import (
	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/connectors/atlassian"
	"github.com/offboarder/offboarder/connectors/auth0"
	"github.com/offboarder/offboarder/connectors/aws"
	"github.com/offboarder/offboarder/connectors/box"
	"github.com/offboarder/offboarder/connectors/caep"
	"github.com/offboarder/offboarder/connectors/dropbox"
	"github.com/offboarder/offboarder/connectors/entra"
	"github.com/offboarder/offboarder/connectors/github"
	"github.com/offboarder/offboarder/connectors/google"
	"github.com/offboarder/offboarder/connectors/httpcall"
	"github.com/offboarder/offboarder/connectors/keycloak"
	"github.com/offboarder/offboarder/connectors/manual"
	"github.com/offboarder/offboarder/connectors/okta"
	"github.com/offboarder/offboarder/connectors/onelogin"
	"github.com/offboarder/offboarder/connectors/pagerduty"
	"github.com/offboarder/offboarder/connectors/salesforce"
	"github.com/offboarder/offboarder/connectors/scim"
	"github.com/offboarder/offboarder/connectors/slack"
	"github.com/offboarder/offboarder/connectors/zendesk"
	"github.com/offboarder/offboarder/connectors/zoom"
)

// Connectors maps every connector type name, as written in the
// configuration's `type` key, to a fresh Config of that type.
func Connectors() map[string]func() connectors.Config {
	return map[string]func() connectors.Config{
		"atlassian":  func() connectors.Config { return new(atlassian.Config) },
		"auth0":      func() connectors.Config { return new(auth0.Config) },
		"aws":        func() connectors.Config { return new(aws.Config) },
		"box":        func() connectors.Config { return new(box.Config) },
		"caep":       func() connectors.Config { return new(caep.Config) },
		"dropbox":    func() connectors.Config { return new(dropbox.Config) },
		"entra":      func() connectors.Config { return new(entra.Config) },
		"github":     func() connectors.Config { return new(github.Config) },
		"google":     func() connectors.Config { return new(google.Config) },
		"http":       func() connectors.Config { return new(httpcall.Config) },
		"keycloak":   func() connectors.Config { return new(keycloak.Config) },
		"manual":     func() connectors.Config { return new(manual.Config) },
		"okta":       func() connectors.Config { return new(okta.Config) },
		"onelogin":   func() connectors.Config { return new(onelogin.Config) },
		"pagerduty":  func() connectors.Config { return new(pagerduty.Config) },
		"salesforce": func() connectors.Config { return new(salesforce.Config) },
		"scim":       func() connectors.Config { return new(scim.Config) },
		"slack":      func() connectors.Config { return new(slack.Config) },
		"zendesk":    func() connectors.Config { return new(zendesk.Config) },
		"zoom":       func() connectors.Config { return new(zoom.Config) },
	}
}
