package sources

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// Settings checks shared by several source types.

// Secrets is a shared secret given as one string or, during a rotation, a
// list of strings; one match with any of them is enough.
type Secrets []vendorapi.Secret

// UnmarshalJSON takes a string or a list of strings; anything else is
// reported as a wrong type, never echoing the value.
func (s *Secrets) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	wrong := func(v any) error {
		word := "object"
		switch v.(type) {
		case bool:
			word = "bool"
		case float64:
			word = "number"
		case []any:
			word = "array"
		}
		return &json.UnmarshalTypeError{Value: word, Type: reflect.TypeFor[string]()}
	}
	switch t := v.(type) {
	case nil:
		*s = nil
	case string:
		*s = Secrets{vendorapi.Secret(t)}
	case []any:
		out := make(Secrets, 0, len(t))
		for _, x := range t {
			str, ok := x.(string)
			if !ok {
				return wrong(x)
			}
			out = append(out, vendorapi.Secret(str))
		}
		*s = out
	default:
		return wrong(t)
	}
	return nil
}

// Check reports why the secrets cannot authenticate a sender: none, or one
// blank or shorter than 16 bytes (a placeholder or an unset variable).
func (s Secrets) Check() error {
	if len(s) == 0 {
		return errors.New("required")
	}
	for _, v := range s {
		if strings.TrimSpace(string(v)) == "" {
			return errors.New("required: blanks are not a secret")
		}
		if len(v) < 16 {
			return errors.New("too short: use at least 16 random bytes")
		}
	}
	return nil
}

// Bytes returns the secrets as the byte strings an HMAC is keyed with.
func (s Secrets) Bytes() [][]byte {
	out := make([][]byte, len(s))
	for i, v := range s {
		out[i] = []byte(v)
	}
	return out
}

// DefaultTolerance is how far a signature's timestamp may be from now, either
// way, before the delivery is refused as stale (or from the future).
const DefaultTolerance = 5 * time.Minute

// Tolerance parses a tolerance setting: "" is DefaultTolerance; otherwise a
// duration between 1s and 1h.
func Tolerance(s string) (time.Duration, error) {
	if s == "" {
		return DefaultTolerance, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Second || d > time.Hour {
		return 0, errors.New("want a duration between 1s and 1h")
	}
	return d, nil
}

// BasicCredential checks a credential sent as the user name (or password)
// of HTTP Basic authentication: present, printable, no colon, not padded.
func BasicCredential(v string) error {
	switch {
	case v == "":
		return errors.New("required")
	case len(v) > 4096:
		return errors.New("longer than 4096 bytes")
	case !Printable(v) || strings.ContainsAny(v, ": \t") || strings.TrimSpace(v) != v:
		return errors.New("must be printable, without spaces or a colon")
	}
	return nil
}

// Cause returns the cause err wraps, or err itself: vendorapi.NewClient
// prefixes its own name and key, which Build replaces with the key path.
func Cause(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return err
}

// EventReasons is an `events` setting merged over a type's defaults: each
// key must pass validKey (else it is refused with notType, e.g. "not an
// Okta event type such as user.lifecycle.deactivate") and each value must
// be a reason; with drop, "" removes a default. Every problem is returned,
// in the order of the keys, each naming events["<type>"].
func EventReasons(defaults map[string]offboard.Reason, given map[string]any, validKey func(string) bool, notType string, drop bool) (map[string]offboard.Reason, []error) {
	out := make(map[string]offboard.Reason, len(defaults)+len(given))
	for t, r := range defaults {
		out[t] = r
	}
	var errs []error
	for _, t := range slices.Sorted(maps.Keys(given)) {
		r, _ := given[t].(string)
		switch {
		case !validKey(t):
			errs = append(errs, vendorapi.FieldErr(fmt.Sprintf("events[%q]", Truncate(t, 64)), "%s", notType))
		case drop && r == "":
			delete(out, t)
		case !offboard.Reason(r).Valid() && drop:
			errs = append(errs, vendorapi.FieldErr(fmt.Sprintf("events[%q]", t), "want one of terminated, suspended, deactivated, security, manual, or \"\" to drop a default"))
		case !offboard.Reason(r).Valid():
			errs = append(errs, vendorapi.FieldErr(fmt.Sprintf("events[%q]", t), "want one of terminated, suspended, deactivated, security, manual"))
		default:
			out[t] = offboard.Reason(r)
		}
	}
	return out, errs
}

// NotificationURL checks the public URL a sender is told to post to: the
// sender requires https (plain http is allowed only to a loopback host, for
// the simulator), without credentials or fragment. The sender calls it as
// given, so it must be this source's /webhooks/{name} as the world sees it.
func NotificationURL(raw string) error {
	if raw == "" {
		return errors.New("required: this source's public https URL, e.g. https://offboarder.example.com/webhooks/<name>")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return errors.New("not an absolute url")
	case u.User != nil || u.Fragment != "":
		return errors.New("must not hold credentials or a fragment")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && loopbackHost(u.Hostname()):
		return nil
	}
	return errors.New("must be an https url (the sender refuses plain http)")
}

func loopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// PrintableASCII reports whether s is non-empty printable ASCII without
// spaces: safe in a header, a JSON string and a log line alike.
func PrintableASCII(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// DefaultReconcileInterval is how often a source that can read its sender's
// record of events (the Okta System Log, a Graph delta query) looks for
// pushes that never arrived, unless reconcile_interval says otherwise.
const DefaultReconcileInterval = 5 * time.Minute

// ReconcileInterval parses a reconcile_interval setting: "" is
// DefaultReconcileInterval; otherwise a duration between 1m (the worker's
// maintenance schedule runs no more often) and 24h.
func ReconcileInterval(s string) (time.Duration, error) {
	if s == "" {
		return DefaultReconcileInterval, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Minute || d > 24*time.Hour {
		return 0, errors.New("want a duration between 1m and 24h")
	}
	return d, nil
}
