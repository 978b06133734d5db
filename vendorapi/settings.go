package vendorapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strings"
)

// Secret is a credential from a connector's or a source's settings. It prints, formats
// and marshals as "<secret>", so a config struct logged or wrapped by
// mistake does not leak it; string(s) is the value.
type Secret string

// String returns "<secret>", or "" when the secret is unset.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "<secret>"
}

// GoString returns what String returns, for %#v.
func (s Secret) GoString() string { return s.String() }

// MarshalJSON marshals what String returns.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// FieldError is one problem with one settings key; a registry's Build
// prefixes its key with the entry's place in the config.
type FieldError struct {
	Key string // the settings key, e.g. "base_url"
	msg string
	err error // the cause, if any
}

// Error returns "<key>: <problem>".
func (e *FieldError) Error() string { return e.Key + ": " + e.msg }

// Unwrap returns the cause, if any.
func (e *FieldError) Unwrap() error { return e.err }

// FieldErr is a problem with the key, described by format and args.
func FieldErr(key, format string, args ...any) error {
	return &FieldError{Key: key, msg: fmt.Sprintf(format, args...)}
}

// KeyErr names the key err is about.
func KeyErr(key string, err error) error {
	return &FieldError{Key: key, msg: err.Error(), err: err}
}

// DecodeSettings fills cfg (a pointer to a type's config struct) from
// settings through a JSON round trip, one key at a time so that every
// problem is found: each unknown key (sorted) and each value of the wrong
// type is a *FieldError. Values are never echoed, as they may be secrets.
func DecodeSettings(settings map[string]any, cfg any) error {
	known := jsonKeys(cfg)
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		if !known[k] {
			errs = append(errs, FieldErr(k, "unknown key (known: %s)", strings.Join(slices.Sorted(maps.Keys(known)), ", ")))
			continue
		}
		raw, err := json.Marshal(map[string]any{k: settings[k]})
		if err != nil {
			errs = append(errs, FieldErr(k, "cannot be read"))
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(cfg); err != nil {
			if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
				errs = append(errs, FieldErr(k, "must be %s, not %s", kindWord(te.Type), valueWord(te.Value)))
			} else {
				errs = append(errs, FieldErr(k, "cannot be read"))
			}
		}
	}
	return errors.Join(errs...)
}

// jsonKeys returns the JSON names of the fields of the struct cfg points to.
func jsonKeys(cfg any) map[string]bool {
	t := reflect.TypeOf(cfg).Elem()
	keys := make(map[string]bool, t.NumField())
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		keys[name] = true
	}
	return keys
}

// valueWord names a JSON value kind as encoding/json reports it.
func valueWord(v string) string {
	switch {
	case v == "array":
		return "a list"
	case v == "object":
		return "a mapping"
	case v == "bool":
		return "true or false"
	case strings.HasPrefix(v, "number"):
		return "a number"
	}
	return "a " + v
}

// kindWord names what a Go type takes, in a config's words.
func kindWord(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "of another type"
}

// CheckURL checks a URL a vendor call goes to (a base_url, a token_url): an
// absolute http or https URL with a host and no credentials, query or
// fragment; http is allowed for tests and the simulator. Its errors never echo the value.
func CheckURL(s string) error {
	if s == "" {
		return errors.New("required")
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return errors.New("not a valid url")
	case u.Scheme != "https" && u.Scheme != "http":
		return errors.New("must be an http or https url")
	case u.Host == "" || u.Opaque != "":
		return errors.New("must be an absolute url with a host")
	case u.User != nil:
		return errors.New("must not hold credentials; put them in their own keys")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return errors.New("must not have a query or fragment")
	}
	return nil
}

// Validator is a settings struct that checks itself: Validate reports
// every problem, each a FieldError naming its key (errors.Join).
type Validator interface {
	Validate() error
}

// CheckSettings decodes settings into cfg (a pointer to a type's settings
// struct) and validates it, reporting each key once: a key whose value
// could not be decoded is not also reported by Validate. It is the one
// check connectors.Build and sources.Build run on every entry.
func CheckSettings(settings map[string]any, cfg Validator) error {
	derrs := Flatten(DecodeSettings(settings, cfg))
	bad := make(map[string]bool, len(derrs))
	for _, e := range derrs {
		if fe, ok := errors.AsType[*FieldError](e); ok {
			bad[fe.Key] = true
		}
	}
	errs := derrs
	for _, e := range Flatten(cfg.Validate()) {
		if fe, ok := errors.AsType[*FieldError](e); !ok || !bad[fe.Key] {
			errs = append(errs, e)
		}
	}
	return errors.Join(errs...)
}

// Flatten lists the errors inside errors.Join trees.
func Flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, Flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// At puts an entry's place in the config before each error in err, so
// that it reads as a key path: "connectors[1] (okta).token: required" for
// a FieldError, "connectors[1] (okta): …" for any other.
func At(at string, err error) []error {
	var out []error
	for _, e := range Flatten(err) {
		if _, ok := errors.AsType[*FieldError](e); ok {
			out = append(out, fmt.Errorf("%s.%w", at, e))
		} else {
			out = append(out, fmt.Errorf("%s: %w", at, e))
		}
	}
	return out
}
