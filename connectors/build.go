package connectors

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"

	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/vendorapi"
)

// Spec is one configured connector: its name, type and the keys of its type
// (secrets already resolved to plain strings; lists as []any; bools as bool).
type Spec struct {
	Name, Type string
	Settings   map[string]any
}

// Deps are what a connector may need from the process.
type Deps struct {
	HTTPClient *http.Client // nil: vendorapi.NewHTTPClient(), shared by every connector Build opens
	Logger     zerolog.Logger
}

// Config is one connector type's settings: decoded from a Spec, checked by
// Validate (which reports every problem, each naming its key), then opened.
// Each system's package exports its own (okta.Config, …); the registry
// package maps type names to them.
type Config interface {
	Validate() error
	Open(name string, deps Deps) (Connector, error)
}

// namePattern is what a connector name may be: it goes into task ids, logs
// and error prefixes.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// Types returns the type names of types, sorted.
func Types(types map[string]func() Config) []string { return slices.Sorted(maps.Keys(types)) }

// Build opens every spec and reports all problems together (errors.Join),
// each naming its key path, e.g. `connectors[1] (okta).token: required`. An
// unknown type, an unknown key, a missing key and a duplicate name all fail,
// and so does a Follower's after that names no configured connector or
// leads back to itself (`connectors[2] (lucid-logout).after: no connector
// is named "lucid"`).
// It returns connectors only when there is no problem at all. types maps each
// known type name to a fresh Config of that type (registry.Connectors).
func Build(specs []Spec, types map[string]func() Config, deps Deps) ([]Connector, error) {
	if deps.HTTPClient == nil {
		deps.HTTPClient = vendorapi.NewHTTPClient()
	}
	var errs []error
	out := make([]Connector, 0, len(specs))
	seen := make(map[string]int, len(specs))
	for i, s := range specs {
		at := fmt.Sprintf("connectors[%d]", i)
		if s.Name != "" {
			at += " (" + s.Name + ")"
		}
		fail := func(err error) {
			for _, e := range flatten(err) {
				if _, ok := errors.AsType[*vendorapi.FieldError](e); ok {
					errs = append(errs, fmt.Errorf("%s.%w", at, e))
				} else {
					errs = append(errs, fmt.Errorf("%s: %w", at, e))
				}
			}
		}
		switch j, dup := seen[s.Name]; {
		case s.Name == "":
			fail(vendorapi.FieldErr("name", "required"))
		case !namePattern.MatchString(s.Name):
			fail(vendorapi.FieldErr("name", "must be 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit"))
		case dup:
			fail(vendorapi.FieldErr("name", "duplicate of connectors[%d]", j))
		default:
			seen[s.Name] = i
		}
		newConfig, ok := types[s.Type]
		if !ok {
			if s.Type == "" {
				fail(vendorapi.FieldErr("type", "required (known: %v)", Types(types)))
			} else {
				fail(vendorapi.FieldErr("type", "unknown type %q (known: %v)", s.Type, Types(types)))
			}
			continue
		}
		cfg := newConfig()
		if err := check(cfg, s.Settings); err != nil {
			fail(err)
			continue
		}
		c, err := cfg.Open(s.Name, deps)
		if err != nil {
			fail(err)
			continue
		}
		out = append(out, c)
	}
	errs = append(errs, checkAfter(out, seen)...)
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
