// Package okta is the okta source: it receives Okta Event Hooks, answers
// their one-time verification, authenticates each request by the hook's
// secret header, and turns the System Log events of a delivery into
// offboarding events (user deactivated, deleted, suspended).
package okta

import (
	"fmt"
	"net/http"
	"regexp"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
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

// ChallengeHeader carries the value Okta's one-time verification GET
// asks the endpoint to echo back.
// https://developer.okta.com/docs/concepts/event-hooks/#one-time-verification-request
const ChallengeHeader = "X-Okta-Verification-Challenge"

// DefaultHeader is the header Okta sends the hook's secret in unless the
// hook's authScheme names another ("Authentication field" in the Admin
// Console).
// https://developer.okta.com/docs/concepts/event-hooks/#http-headers
const DefaultHeader = "Authorization"

// MaxEvents bounds the events of one delivery; a larger batch is
// malformed. Okta documents no batch size ("events that occur within a short
// time of each other are amalgamated"); this is far above what the webhook's
// 1 MiB body cap lets a batch of real LogEvents reach.
const MaxEvents = 1000

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

// Source is an Okta Event Hooks source. It answers the one-time verification
// request, authenticates every request by the secret header value the hook
// was configured with, and turns the batched System Log events of a delivery
// into one event per offboarded user.
type Source struct {
	name   string
	header string   // canonical header name
	secret [32]byte // SHA-256 of the configured value: compared in constant time
	events map[string]offboard.Reason
}

var (
	_ sources.Source         = (*Source)(nil)
	_ sources.AcceptStatuser = (*Source)(nil)
)

// Name implements sources.Source.
func (o *Source) Name() string { return o.name }

// Type implements sources.Source.
func (o *Source) Type() string { return "okta" }

// AcceptStatus implements sources.AcceptStatuser: Okta wants an empty 200 or 204 for
// an event delivery, so an accepted one is a 204 No Content.
// https://developer.okta.com/docs/concepts/event-hooks/#your-service-s-responses-to-event-delivery-requests
func (o *Source) AcceptStatus() int { return http.StatusNoContent }

// Handshake implements sources.Source: a GET carrying X-Source-Verification-Challenge
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
func (o *Source) Handshake(r *sources.Request) (*sources.Response, bool) {
	if r.Method != http.MethodGet {
		return nil, false
	}
	values := r.Header.Values(ChallengeHeader)
	if len(values) == 0 {
		return nil, false
	}
	if err := o.Verify(r); err != nil {
		return sources.JSONResponse(http.StatusUnauthorized, map[string]string{"error": "invalid or missing authorization"}), true
	}
	c := values[0]
	if len(values) != 1 || c == "" || len(c) > oktaMaxChallenge || !sources.Printable(c) {
		return sources.JSONResponse(http.StatusBadRequest, map[string]string{"error": "okta: bad " + ChallengeHeader + " header"}), true
	}
	return sources.JSONResponse(http.StatusOK, map[string]string{"verification": c}), true
}

// Verify implements sources.Source: exactly one header of the configured name
// (Authorization unless `header` says otherwise) whose value equals the
// configured secret. Both sides are hashed before a constant-time compare,
// so neither the content nor the length of the secret shows in the timing.
// https://developer.okta.com/docs/concepts/event-hooks/#http-headers
func (o *Source) Verify(r *sources.Request) error {
	values := r.Header.Values(o.header)
	switch len(values) {
	case 0:
		return fmt.Errorf("okta: %w", sources.Unauthorized("missing %s header", o.header))
	case 1:
	default:
		return fmt.Errorf("okta: %w", sources.Unauthorized("more than one %s header", o.header))
	}
	if !sources.SameSecret(values[0], o.secret) {
		return fmt.Errorf("okta: %w", sources.Unauthorized("%s header does not match", o.header))
	}
	return nil
}
