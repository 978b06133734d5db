// Package sources is what every sender of offboarding events shares: the
// Source interface and its optional ones (Resolver, Maintainer, …), the
// request, event and error types, NormalizeEmail, the settings checks and
// Build, which opens the configured sources from the registry's list of
// types. Each sender type lives in its own package below (sources/okta, …);
// the generic offboarder-native webhook lives here.
//
// A source knows nothing of Gin, asynq or the store. The webhook package hands
// it the request as bytes and headers and gets back typed events or a
// classified error.
package sources

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
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
	// Since is set on an event a Maintainer found whose ID cannot be the one
	// the push of the same change carried (a Graph delta query sees a
	// user's state, not the notification): an event of the same source
	// about the same subject received at or after Since is that push, and
	// this event is then a duplicate. Zero: the ID alone deduplicates.
	Since time.Time
}

// Delivery is the parsed content of one request: the events to offboard and,
// when there are none, why the request was recognised but ignored.
type Delivery struct {
	Events  []Event
	Ignored string
	// WithoutEmail is set, with Ignored, when events were left out because
	// their subject names no email and the source cannot have it resolved
	// (an ssf source without resolve_with): the delivery is counted apart.
	WithoutEmail bool
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
	// and names the problem. JSON a sender pushes is read with Decode (or
	// DecodeStrict), so a repeated key, a key in another case than its
	// field's and invalid UTF-8 are malformed in every source; the registry
	// test TestEverySourceRefusesAmbiguousJSON holds each type to it.
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

// Error returns the error's text.
func (e *ResponseError) Error() string { return e.Err.Error() }

// Unwrap returns the classified error.
func (e *ResponseError) Unwrap() error { return e.Err }

// Classified errors of sources.
var (
	// ErrUnauthorized: missing, malformed, stale or wrong signature (401).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrMalformed: the body cannot be understood (400).
	ErrMalformed = errors.New("malformed")
)

// Unauthorized is an error wrapping ErrUnauthorized, saying why.
func Unauthorized(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnauthorized}, a...)...)
}

// Malformed is an error wrapping ErrMalformed, naming the problem.
func Malformed(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, a...)...)
}

// HashSecret is how a configured shared secret is kept: its SHA-256.
func HashSecret(secret vendorapi.Secret) [32]byte { return sha256.Sum256([]byte(secret)) }

// SameSecret compares what a request presents with a secret kept as its
// HashSecret. Both sides are hashed before a constant-time compare, so
// neither the content nor the length of the secret shows in the timing.
func SameSecret(got string, want [32]byte) bool {
	h := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(h[:], want[:]) == 1
}
