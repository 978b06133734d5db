package sources

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// The okta source receives Okta Event Hooks. Sources, each cited again where
// it decides:
//
//   - Event hooks: https://developer.okta.com/docs/concepts/event-hooks/
//   - Event hook guide (a user.lifecycle.deactivate event): https://developer.okta.com/docs/guides/event-hook-implementation/nodejs/main/
//   - Event Hooks API (channel.config.authScheme): https://developer.okta.com/docs/api/openapi/okta-management/management/tag/EventHook/
//   - Add an event hook (authentication field and secret): https://help.okta.com/en-us/Content/Topics/automation-hooks/add-event-hooks.htm
//   - System Log LogEvent object: https://developer.okta.com/docs/reference/api/system-log/
//   - Event types: https://developer.okta.com/docs/reference/api/event-types/

// OktaChallengeHeader carries the value Okta's one-time verification GET
// asks the endpoint to echo back.
// https://developer.okta.com/docs/concepts/event-hooks/#one-time-verification-request
const OktaChallengeHeader = "X-Okta-Verification-Challenge"

// OktaDefaultHeader is the header Okta sends the hook's secret in unless the
// hook's authScheme names another ("Authentication field" in the Admin
// Console).
// https://developer.okta.com/docs/concepts/event-hooks/#http-headers
const OktaDefaultHeader = "Authorization"

// OktaMaxEvents bounds the events of one delivery; a larger batch is
// malformed. Okta documents no batch size ("events that occur within a short
// time of each other are amalgamated"); this is far above what the webhook's
// 1 MiB body cap lets a batch of real LogEvents reach.
const OktaMaxEvents = 1000

// oktaMaxChallenge bounds the challenge echoed back. Okta's are ~40 characters.
const oktaMaxChallenge = 1024

// oktaDefaultEvents maps Okta event types to reasons; `events` adds to it and
// overrides it. Every one of them targets the user it happened to.
// https://developer.okta.com/docs/reference/api/event-types/
var oktaDefaultEvents = map[string]offboard.Reason{
	"user.lifecycle.deactivate":       offboard.ReasonTerminated,
	"user.lifecycle.delete.initiated": offboard.ReasonTerminated,
	"user.lifecycle.suspend":          offboard.ReasonSuspended,
}

// oktaEventTypeRE is the form of an Okta event type (user.lifecycle.deactivate).
var oktaEventTypeRE = regexp.MustCompile(`^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)+$`)

// oktaIDRE is the form of an Okta object id (00u3m90rxKjGQ0G6L1d6).
var oktaIDRE = regexp.MustCompile(`^[A-Za-z0-9]{1,64}$`)

// Okta is an Okta Event Hooks source. It answers the one-time verification
// request, authenticates every request by the secret header value the hook
// was configured with, and turns the batched System Log events of a delivery
// into one event per offboarded user.
type Okta struct {
	name   string
	header string   // canonical header name
	secret [32]byte // SHA-256 of the configured value: compared in constant time
	events map[string]offboard.Reason
}

var (
	_ Source         = (*Okta)(nil)
	_ AcceptStatuser = (*Okta)(nil)
)

// OktaConfig is the settings of an okta source.
type OktaConfig struct {
	// Secret is the value the hook sends in its authentication header
	// ("Authentication secret" in the Admin Console).
	Secret vendorapi.Secret `json:"secret"`
	// Header is that header's name ("Authentication field"); empty means
	// Authorization.
	Header string `json:"header"`
	// Events adds event types to the defaults, or maps them to another
	// reason; values are checked one by one, to name the key.
	Events map[string]any `json:"events"`
}

// Validate implements Config.
func (c *OktaConfig) Validate() error {
	var errs []error
	switch s := string(c.Secret); {
	case s == "":
		errs = append(errs, vendorapi.FieldErr("secret", "required"))
	case len(s) < 16:
		errs = append(errs, vendorapi.FieldErr("secret", "too short: use at least 16 random bytes"))
	case len(s) > 4096:
		errs = append(errs, vendorapi.FieldErr("secret", "longer than 4096 bytes"))
	case !httpguts.ValidHeaderFieldValue(s) || strings.TrimSpace(s) != s:
		// HTTP servers drop surrounding spaces from header values, so such a
		// secret could never match.
		errs = append(errs, vendorapi.FieldErr("secret", "must be a header value without control characters or surrounding spaces"))
	}
	if c.Header != "" && (!httpguts.ValidHeaderFieldName(c.Header) || http.CanonicalHeaderKey(c.Header) == OktaChallengeHeader) {
		errs = append(errs, vendorapi.FieldErr("header", "want an HTTP header name such as Authorization"))
	}
	_, bad := c.events()
	return errors.Join(append(errs, bad...)...)
}

// events is the event map: the defaults with Events over them.
func (c *OktaConfig) events() (map[string]offboard.Reason, []error) {
	return EventReasons(oktaDefaultEvents, c.Events, func(t string) bool {
		return len(t) <= 255 && oktaEventTypeRE.MatchString(t)
	}, "not an Okta event type such as user.lifecycle.deactivate", false)
}

// Open implements Config.
func (c *OktaConfig) Open(name string, _ Deps) (Source, error) {
	events, _ := c.events() // checked by Validate
	o := &Okta{name: name, header: OktaDefaultHeader, secret: HashSecret(c.Secret), events: events}
	if c.Header != "" {
		o.header = http.CanonicalHeaderKey(c.Header)
	}
	return o, nil
}

// Name implements Source.
func (o *Okta) Name() string { return o.name }

// Type implements Source.
func (o *Okta) Type() string { return "okta" }

// AcceptStatus implements AcceptStatuser: Okta wants an empty 200 or 204 for
// an event delivery, so an accepted one is a 204 No Content.
// https://developer.okta.com/docs/concepts/event-hooks/#your-service-s-responses-to-event-delivery-requests
func (o *Okta) AcceptStatus() int { return http.StatusNoContent }

// Handshake implements Source: a GET carrying X-Okta-Verification-Challenge
// is Okta's one-time verification request. It carries the hook's secret
// header like every request Okta sends, so it is authenticated first (a 401
// otherwise); then the challenge is echoed as {"verification": "<value>"}
// with 200. One challenge of 1 to 1024 printable characters is accepted;
// anything else is a 400. A request of another method, or a GET without the
// header, is not a handshake.
//
// https://developer.okta.com/docs/concepts/event-hooks/#one-time-verification-request
// The verification GET carries "Authorization: my-shared-secret":
// https://support.okta.com/help/s/article/Unable-to-verify-event-hook-Hook-hook-name-execution-failed
func (o *Okta) Handshake(r *Request) (*Response, bool) {
	if r.Method != http.MethodGet {
		return nil, false
	}
	values := r.Header.Values(OktaChallengeHeader)
	if len(values) == 0 {
		return nil, false
	}
	if err := o.Verify(r); err != nil {
		return JSONResponse(http.StatusUnauthorized, map[string]string{"error": "invalid or missing authorization"}), true
	}
	c := values[0]
	if len(values) != 1 || c == "" || len(c) > oktaMaxChallenge || !Printable(c) {
		return JSONResponse(http.StatusBadRequest, map[string]string{"error": "okta: bad " + OktaChallengeHeader + " header"}), true
	}
	return JSONResponse(http.StatusOK, map[string]string{"verification": c}), true
}

func JSONResponse(status int, v map[string]string) *Response {
	b, _ := json.Marshal(v) // a map of strings always marshals
	return &Response{Status: status, ContentType: "application/json", Body: b}
}

// Verify implements Source: exactly one header of the configured name
// (Authorization unless `header` says otherwise) whose value equals the
// configured secret. Both sides are hashed before a constant-time compare,
// so neither the content nor the length of the secret shows in the timing.
// https://developer.okta.com/docs/concepts/event-hooks/#http-headers
func (o *Okta) Verify(r *Request) error {
	values := r.Header.Values(o.header)
	switch len(values) {
	case 0:
		return fmt.Errorf("okta: %w", Unauthorized("missing %s header", o.header))
	case 1:
	default:
		return fmt.Errorf("okta: %w", Unauthorized("more than one %s header", o.header))
	}
	if !SameSecret(values[0], o.secret) {
		return fmt.Errorf("okta: %w", Unauthorized("%s header does not match", o.header))
	}
	return nil
}
