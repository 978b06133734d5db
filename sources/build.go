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

// ReservedName is the source name under which events of the admin API's
// manual trigger are recorded; no configured source may take it.
const ReservedName = "admin"

// Types returns the type names of types, sorted.
func Types(types map[string]func() Config) []string { return slices.Sorted(maps.Keys(types)) }

// Build opens every spec with the config of its type in types (the registry
// package's list) and reports all problems together (errors.Join), each
// naming its key path, e.g. `sources[1] (okta).secret: required`. It
// returns sources only when there is no problem at all.
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
		seen = map[string]bool{}
	)
	for i, s := range specs {
		at := fmt.Sprintf("sources[%d] (%s)", i, s.Name)
		if s.Name == "" { // the name's form is the config package's to check
			errs = append(errs, fmt.Errorf("%s.name: required", at))
			continue
		}
		if s.Name == ReservedName {
			errs = append(errs, fmt.Errorf("%s.name: %q is reserved for the admin API", at, ReservedName))
			continue
		}
		if seen[s.Name] {
			errs = append(errs, fmt.Errorf("%s.name: duplicate source name", at))
			continue
		}
		seen[s.Name] = true
		newConfig, ok := types[s.Type]
		if !ok {
			errs = append(errs, fmt.Errorf("%s.type: unknown source type %q (known: %v)", at, s.Type, Types(types)))
			continue
		}
		cfg := newConfig()
		err := check(cfg, s.Settings)
		if err == nil {
			var src Source
			if src, err = cfg.Open(s.Name, deps); err == nil {
				out = append(out, src)
				continue
			}
		}
		for _, e := range flatten(err) {
			if _, ok := errors.AsType[*vendorapi.FieldError](e); ok {
				errs = append(errs, fmt.Errorf("%s.%w", at, e))
			} else {
				errs = append(errs, fmt.Errorf("%s: %w", at, e))
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// check decodes settings into cfg and validates it, reporting each key once:
// a key whose value could not be decoded is not also reported by Validate.
func check(cfg Config, settings map[string]any) error {
	derrs := flatten(vendorapi.DecodeSettings(settings, cfg))
	bad := make(map[string]bool, len(derrs))
	for _, e := range derrs {
		if fe, ok := errors.AsType[*vendorapi.FieldError](e); ok {
			bad[fe.Key] = true
		}
	}
	errs := derrs
	for _, e := range flatten(cfg.Validate()) {
		if fe, ok := errors.AsType[*vendorapi.FieldError](e); !ok || !bad[fe.Key] {
			errs = append(errs, e)
		}
	}
	return errors.Join(errs...)
}

// flatten lists the errors inside errors.Join trees.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}
