package caep

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// contentType is a SET's media type [RFC 8417 §7.2], the body of an RFC
// 8935 push [RFC 8935 §2].
const contentType = "application/secevent+jwt"

// send signs s's SET for receiver p and pushes it. A 202 is the receiver's
// acceptance [RFC 8935 §2.2]; another 2xx is taken as one too (and said in
// the log), as the shared layer takes every 2xx.
func (c *Connector) send(ctx context.Context, p push, s offboard.Subject) error {
	id := jti(c.name, c.issuer, p.url, p.audience, s.Case)
	set, err := sign(c.keys[0], newClaims(c.issuer, p.receiver, s, id, c.now()))
	if err != nil {
		return &vendorapi.Error{System: c.name, Kind: vendorapi.Invalid, Msg: p.label + ": " + err.Error()}
	}
	// [RFC 8935 §2] POST the SET as the body, Content-Type
	// application/secevent+jwt, Accept application/json (the shared
	// client's), with the receiver's bearer token if it has one [ssf §6.1.1].
	// [okta-set] Okta's endpoint is POST /security/api/v1/security-events; it
	// declares no security scheme ("security: []" [okta-openapi]): the SET's
	// signature authenticates it, verified against the Security Events
	// Provider registered in Okta with offboarder's issuer and JWKS URL, or
	// its well-known URL [okta-provider]. Okta answers 202 Accepted, or 400
	// with a SecurityEventTokenError (err, description) [okta-openapi]; the
	// System Log then shows security.events.provider.receive_event [okta-set].
	status, err := p.api.Do(ctx, vendorapi.Request{Method: http.MethodPost, Path: p.path, Raw: []byte(set), ContentType: contentType}, nil)
	if err != nil {
		return c.keyRefused(id, err)
	}
	c.forget(id)
	log := p.api.Logger(ctx).With().Str("connector", c.name).Str("receiver", p.label).Str("jti", id).Int("status_code", status).Logger()
	if status != http.StatusAccepted {
		log.Warn().Msg("caep receiver accepted the SET with a status other than 202 (RFC 8935 §2.2)")
	} else {
		log.Info().Msg("caep session-revoked SET accepted")
	}
	return nil
}

// keyRefused counts the invalid_key answers for one SET: refine makes
// invalid_key, and nothing else, a transient 400. After keyRetries of
// them the error is permanent: the receiver does not have the key, and
// waiting longer will not give it.
func (c *Connector) keyRefused(id string, err error) error {
	e, ok := errors.AsType[*vendorapi.Error](err)
	if !ok || e.Kind != vendorapi.Transient || e.Status != http.StatusBadRequest {
		if ok && !vendorapi.Retryable(err) {
			c.forget(id)
		}
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keyRefusals == nil {
		c.keyRefusals = map[string]int{}
	}
	c.keyRefusals[id]++
	if c.keyRefusals[id] <= keyRetries {
		return err
	}
	delete(c.keyRefusals, id)
	perm := *e
	perm.Kind, perm.RetryAfter = vendorapi.Invalid, 0
	perm.Msg += "; refused again after " + strconv.Itoa(keyRetries) + " retries: check that the receiver fetches jwks_uri (" + jwksURI(c.issuer) + ") or holds the signing key"
	return &perm
}

// forget drops the count of invalid_key answers for a SET that is done.
func (c *Connector) forget(id string) {
	c.mu.Lock()
	delete(c.keyRefusals, id)
	c.mu.Unlock()
}

// combine makes one error of the receivers' errors, each prefixed with
// its receiver: nil when all are nil; retryable when any is (the longest
// wait); otherwise the first permanent error's kind and status.
func (c *Connector) combine(errs []error) error {
	var failed []*vendorapi.Error
	var pick *vendorapi.Error
	for i, err := range errs {
		if err == nil {
			continue
		}
		e, ok := errors.AsType[*vendorapi.Error](err)
		if !ok {
			e = &vendorapi.Error{System: c.name, Kind: vendorapi.Transient, Msg: "failed", Err: err}
		}
		e = prefixed(e, c.receivers[i].label)
		failed = append(failed, e)
		switch {
		case pick == nil:
			pick = e
		case vendorapi.Retryable(e) && !vendorapi.Retryable(pick):
			pick = e
		case vendorapi.Retryable(e) && e.RetryAfter > pick.RetryAfter:
			pick = e
		}
	}
	if pick == nil {
		return nil
	}
	if len(failed) == 1 {
		return pick
	}
	out := *pick
	msgs := make([]string, len(failed))
	for i, e := range failed {
		msgs[i] = e.Msg
		if e.Status != 0 {
			msgs[i] += " (status " + strconv.Itoa(e.Status) + ")"
		}
	}
	out.Msg = strconv.Itoa(len(failed)) + " of " + strconv.Itoa(len(errs)) + " receivers failed: " + strings.Join(msgs, "; ")
	out.Status = 0
	for _, e := range failed {
		if vendorapi.Retryable(e) {
			out.RetryAfter = max(out.RetryAfter, e.RetryAfter)
		}
	}
	return &out
}

// prefixed returns a copy of e whose message names the receiver.
func prefixed(e *vendorapi.Error, label string) *vendorapi.Error {
	out := *e
	out.Msg = "receiver " + label + ": " + e.Msg
	return &out
}
