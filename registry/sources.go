package registry

import (
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/bamboohr"
	"github.com/offboarder/offboarder/sources/entra"
	"github.com/offboarder/offboarder/sources/google"
	"github.com/offboarder/offboarder/sources/hibob"
	"github.com/offboarder/offboarder/sources/okta"
	"github.com/offboarder/offboarder/sources/ssf"
)

// Sources returns the source types, each a fresh config of its type: a new
// sender is one line here.
func Sources() map[string]func() sources.Config {
	return map[string]func() sources.Config{
		"bamboohr": func() sources.Config { return new(bamboohr.Config) },
		"entra":    func() sources.Config { return new(entra.Config) },
		"generic":  func() sources.Config { return new(sources.GenericConfig) },
		"google":   func() sources.Config { return new(google.Config) },
		"hibob":    func() sources.Config { return new(hibob.Config) },
		"okta":     func() sources.Config { return new(okta.Config) },
		"ssf":      func() sources.Config { return new(ssf.Config) },
	}
}
