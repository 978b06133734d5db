package sources

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/offboarder/offboarder/offboard"
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

type oktaConfig struct {
	Secret *string        `json:"secret"`
	Header string         `json:"header"`
	Events map[string]any `json:"events"` // values checked one by one, to name the key
}

func newOkta(s Spec, path string) (Source, error) {
	var c oktaConfig
	if err := decodeSettings(s, path, &c); err != nil {
		return nil, err
	}
	switch {
	case c.Secret == nil || *c.Secret == "":
		return nil, fmt.Errorf("%s.secret: required", path)
	case len(*c.Secret) < 16:
		return nil, fmt.Errorf("%s.secret: too short: use at least 16 random bytes", path)
	case len(*c.Secret) > 4096:
		return nil, fmt.Errorf("%s.secret: longer than 4096 bytes", path)
	case !httpguts.ValidHeaderFieldValue(*c.Secret) || strings.TrimSpace(*c.Secret) != *c.Secret:
		// HTTP servers drop surrounding spaces from header values, so such a
		// secret could never match.
		return nil, fmt.Errorf("%s.secret: must be a header value without control characters or surrounding spaces", path)
	}
	o := &Okta{name: s.Name, header: OktaDefaultHeader, secret: secretHash(*c.Secret), events: map[string]offboard.Reason{}}
	if c.Header != "" {
		h := http.CanonicalHeaderKey(c.Header)
		if !httpguts.ValidHeaderFieldName(c.Header) || h == OktaChallengeHeader {
			return nil, fmt.Errorf("%s.header: want an HTTP header name such as Authorization", path)
		}
		o.header = h
	}
	for t, r := range oktaDefaultEvents {
		o.events[t] = offboard.Reason(r)
	}
	types := make([]string, 0, len(c.Events))
	for t := range c.Events {
		types = append(types, t)
	}
	sort.Strings(types) // a stable first error
	for _, t := range types {
		r, _ := c.Events[t].(string)
		if len(t) > 255 || !oktaEventTypeRE.MatchString(t) {
			return nil, fmt.Errorf("%s.events[%q]: not an Okta event type such as user.lifecycle.deactivate", path, truncate(t, 64))
		}
		if !offboard.Reason(r).Valid() {
			return nil, fmt.Errorf("%s.events[%q]: want one of terminated, suspended, deactivated, security, manual", path, t)
		}
		o.events[t] = offboard.Reason(r)
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
		return jsonResponse(http.StatusUnauthorized, map[string]string{"error": "invalid or missing authorization"}), true
	}
	c := values[0]
	if len(values) != 1 || c == "" || len(c) > oktaMaxChallenge || !printable(c) {
		return jsonResponse(http.StatusBadRequest, map[string]string{"error": "okta: bad " + OktaChallengeHeader + " header"}), true
	}
	return jsonResponse(http.StatusOK, map[string]string{"verification": c}), true
}

func jsonResponse(status int, v map[string]string) *Response {
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
		return fmt.Errorf("okta: %w", unauthorized("missing %s header", o.header))
	case 1:
	default:
		return fmt.Errorf("okta: %w", unauthorized("more than one %s header", o.header))
	}
	if !sameSecret(values[0], o.secret) {
		return fmt.Errorf("okta: %w", unauthorized("%s header does not match", o.header))
	}
	return nil
}
