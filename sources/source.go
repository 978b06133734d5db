// Package sources holds one file per sender type: its handshake, signature
// verification, parsing, and the mapping of its event types to reasons.
//
// A source knows nothing of Gin, asynq or the store. The webhook package hands
// it the request as bytes and headers and gets back typed events or a
// classified error.
package sources

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"time"

	"github.com/offboarder/offboarder/offboard"
)

// Request is what a source sees of one HTTP delivery.
type Request struct {
	// Context is the request's context: it ends when the sender goes away or
	// the server shuts down. Sources that fetch verification keys use it.
	Context context.Context
	Method  string
	Header  http.Header
	Query   url.Values
	Body    []byte // at most the webhook's body cap
}

// Response is an answer a source writes itself (a handshake).
type Response struct {
	Status      int
	ContentType string
	Body        []byte
}

// Event is one normalised offboarding request from a sender.
type Event struct {
	ID          string            // the sender's event id: the dedupe key within the source
	Type        string            // the sender's event type, as sent
	Email       string            // normalised (see NormalizeEmail)
	IDs         map[string]string // other subject ids the event carried
	Reason      offboard.Reason
	EffectiveAt time.Time // zero: now
	Systems     []string  // connector names; nil: all
	DryRun      bool
}

// Delivery is the parsed content of one request: the events to offboard and,
// when there are none, why the request was recognised but ignored.
type Delivery struct {
	Events  []Event
	Ignored string
}

// Source is one configured sender of webhooks.
type Source interface {
	// Name is the route segment (/webhooks/{name}).
	Name() string
	// Type is the sender type (generic, okta, …).
	Type() string
	// Handshake answers r if it is a sender's verification request; ok is
	// false for an ordinary delivery. It is called before Verify.
	Handshake(r *Request) (resp *Response, ok bool)
	// Verify authenticates r; its error wraps ErrUnauthorized.
	Verify(r *Request) error
	// Parse turns a verified request into events; its error wraps ErrMalformed
	// and names the problem.
	Parse(r *Request) (Delivery, error)
}

// AcceptStatuser is implemented by a source whose sender wants a particular
// 2xx status for an accepted delivery (the default is 202 Accepted).
type AcceptStatuser interface {
	AcceptStatus() int
}

// IgnoreStatuser is implemented by a source whose protocol fixes the status
// of a recognised delivery that is not an offboarding (RFC 8935: 202 for
// every valid SET); the default is 200. The body still says why.
type IgnoreStatuser interface {
	IgnoreStatus() int
}

// ResponseError is an error that carries the answer the sender's protocol
// prescribes for it (e.g. RFC 8935's {"err": …, "description": …}). It still
// wraps ErrUnauthorized or ErrMalformed, which decide what is recorded.
type ResponseError struct {
	Err      error
	Response Response
}

func (e *ResponseError) Error() string { return e.Err.Error() }
func (e *ResponseError) Unwrap() error { return e.Err }

// Classified errors of sources.
var (
	// ErrUnauthorized: missing, malformed, stale or wrong signature (401).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrMalformed: the body cannot be understood (400).
	ErrMalformed = errors.New("malformed")
)

func unauthorized(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnauthorized}, a...)...)
}

func malformed(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, a...)...)
}

// Spec is one configured source: name, type and the keys of its type, with
// secrets resolved to plain strings.
type Spec struct {
	Name     string
	Type     string
	Settings map[string]any
}

// types maps each source type to its constructor. One explicit map; no init().
var types = map[string]func(s Spec, path string) (Source, error){
	"bamboohr": newBambooHR,
	"entra":    newEntra,
	"generic":  newGeneric,
	"google":   newGoogle,
	"hibob":    newHiBob,
	"okta":     newOkta,
	"ssf":      newSSF,
}

// Types returns the known source type names, sorted.
func Types() []string {
	out := make([]string, 0, len(types))
	for t := range types {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// ReservedName is the source name under which events of the admin API's
// manual trigger are recorded; no configured source may take it.
const ReservedName = "admin"

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Build opens every spec and reports all problems together, each naming its
// key path (sources[0] (hr).secret: required).
func Build(specs []Spec) ([]Source, error) {
	var (
		out  []Source
		errs []error
		seen = map[string]bool{}
	)
	for i, s := range specs {
		path := fmt.Sprintf("sources[%d] (%s)", i, s.Name)
		if s.Name == "" { // the name's form is the config package's to check
			errs = append(errs, fmt.Errorf("%s.name: required", path))
			continue
		}
		if s.Name == ReservedName {
			errs = append(errs, fmt.Errorf("%s.name: %q is reserved for the admin API", path, ReservedName))
			continue
		}
		if seen[s.Name] {
			errs = append(errs, fmt.Errorf("%s.name: duplicate source name", path))
			continue
		}
		seen[s.Name] = true
		newFn, ok := types[s.Type]
		if !ok {
			errs = append(errs, fmt.Errorf("%s.type: unknown source type %q (known: %v)", path, s.Type, Types()))
			continue
		}
		src, err := newFn(s, path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, src)
	}
	return out, errors.Join(errs...)
}

// decodeSettings decodes a spec's settings into dst (a pointer to the type's
// config struct), refusing unknown keys. The error names the key path but
// never a value.
func decodeSettings(s Spec, path string, dst any) error {
	b, err := json.Marshal(s.Settings)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	dec := json.NewDecoder(bytesReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var ute *json.UnmarshalTypeError
		switch {
		case errors.As(err, &ute):
			return fmt.Errorf("%s.%s: wrong type (want %s)", path, ute.Field, ute.Type)
		default:
			return fmt.Errorf("%s: %s", path, sanitizeDecodeError(err))
		}
	}
	return nil
}

// secretHash is how a configured shared secret is kept: its SHA-256.
func secretHash(secret string) [32]byte { return sha256.Sum256([]byte(secret)) }

// sameSecret compares what a request presents with a secret kept as its
// secretHash. Both sides are hashed before a constant-time compare, so
// neither the content nor the length of the secret shows in the timing.
func sameSecret(got string, want [32]byte) bool {
	h := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(h[:], want[:]) == 1
}
