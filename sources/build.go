package sources

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/offboarder/offboarder/vendorapi"
)

// Spec is one configured source: its name, type and the keys of its type
// (secrets already resolved to plain strings; lists as []any).
type Spec struct {
	Name     string
	Type     string
	Settings map[string]any
}

// Deps are what a source may need from the process.
type Deps struct {
	// HTTPClient calls the senders' APIs (nil: vendorapi.NewHTTPClient(),
	// shared by every source Build opens).
	HTTPClient *http.Client
	// Now is the clock (nil: time.Now); tests pass a fixed one. Build sets
	// both, so Open may use them as they are.
	Now func() time.Time
}

// Config is one source type's settings: decoded from a Spec by
// vendorapi.DecodeSettings (json tags are the config keys), checked by
// Validate, which reports every problem (an errors.Join of
// vendorapi.FieldErr or KeyErr, each naming its key), then opened.
// Credentials are vendorapi.Secret, never plain strings.
type Config interface {
	Validate() error
	Open(name string, deps Deps) (Source, error)
}

// Types returns the type names of types, sorted.
func Types(types map[string]func() Config) []string { return slices.Sorted(maps.Keys(types)) }

// Build opens every spec with the config of its type in types (the registry
// package's list) and reports all problems together (errors.Join), each
// naming its key path, e.g. `sources[1] (okta).secret: required`. Names
// are the config package's to check (their form, duplicates, the admin
// API's reserved name). It returns sources only when there is no problem at
// all.
func Build(specs []Spec, types map[string]func() Config, deps Deps) ([]Source, error) {
	if deps.HTTPClient == nil {
		deps.HTTPClient = vendorapi.NewHTTPClient()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	var (
		out  []Source
		errs []error
	)
	for i, s := range specs {
		at := fmt.Sprintf("sources[%d] (%s)", i, s.Name)
		newConfig, ok := types[s.Type]
		if !ok {
			errs = append(errs, vendorapi.At(at, vendorapi.FieldErr("type", "unknown source type %q (known: %v)", s.Type, Types(types)))...)
			continue
		}
		cfg := newConfig()
		err := vendorapi.CheckSettings(s.Settings, cfg)
		if err == nil {
			var src Source
			if src, err = cfg.Open(s.Name, deps); err == nil {
				out = append(out, src)
				continue
			}
		}
		errs = append(errs, vendorapi.At(at, err)...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}
