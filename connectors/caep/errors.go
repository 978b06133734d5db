package caep

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/offboarder/offboarder/vendorapi"
)

// A receiver that refuses a SET answers 400 with a JSON object holding
// "err", one of the error codes of RFC 8935 §2.4 (registered at IANA
// [iana-errors]), and "description", free text [RFC 8935 §2.3]; Okta's
// SecurityEventTokenError has the same two members and the codes
// authentication_failed, invalid_audience, invalid_issuer, invalid_key and
// invalid_request [okta-openapi]. Every other failure is a plain HTTP error
// ("the applicable HTTP Status Code" [RFC 8935 §2.3]) and is classified by
// the shared layer: 401/403 auth, 429 and 5xx retryable with their
// Retry-After, 404 a wrong url.

// setError is the RFC 8935 §2.3 error body.
type setError struct {
	Err         string `json:"err"`
	Description string `json:"description"`
}

// readSETError reads an RFC 8935 error body: its err code and description,
// ok when the body is a JSON object with a non-empty string "err". Any
// other body (HTML from a proxy, a vendor's own shape) is not ok.
func readSETError(body []byte) (setError, bool) {
	var e setError
	if json.Unmarshal(body, &e) != nil || strings.TrimSpace(e.Err) == "" {
		return setError{}, false
	}
	return e, true
}

// summary is the vendor summary of an error body for the shared layer
// (which sanitizes and shortens it): "err: description".
func summary(body []byte) string {
	e, ok := readSETError(body)
	if !ok {
		return ""
	}
	if e.Description == "" {
		return e.Err
	}
	return e.Err + ": " + e.Description
}

// keyRetryAfter is the wait after an invalid_key answer: the time the
// published JWKS may be cached (jwksMaxAge), so that a receiver holding
// the key set from before a rotation has fetched it again.
const keyRetryAfter = jwksMaxAge

// keyRetries is how many invalid_key answers for one SET (one jti) are
// retried before the entry fails. They are counted in this process: a
// worker that restarts counts again, which only means a few more tries.
const keyRetries = 3

// refine classifies an RFC 8935 error code; the status alone (400 for
// all of them) does not tell them apart. The decisions:
//
//   - invalid_request ("the request body cannot be parsed as a SET or the
//     Event Payload within the SET does not conform to the event's
//     definition"): the same SET is refused again; permanent. Often a
//     receiver that wants the other subject_format.
//   - invalid_key ("one or more keys used to encrypt or sign the SET is
//     invalid or otherwise unacceptable … (expired, revoked, failed
//     certificate validation, etc.)"): right after a key rotation a
//     receiver may still hold the key set from before it, so it is
//     retried after keyRetryAfter, at most keyRetries times for one SET
//     (Revoke counts), then permanent.
//   - invalid_issuer ("the SET Issuer is invalid for the SET Recipient")
//     and invalid_audience ("the SET Audience does not correspond to the
//     SET Recipient"): configuration on one side or the other; permanent.
//   - authentication_failed ("the SET Recipient could not authenticate the
//     SET Transmitter") and access_denied ("the SET Transmitter is not
//     authorized to transmit the SET to the SET Recipient"): credentials
//     or registration, which a person must fix; permanent auth errors, as
//     a 401 or 403 is.
//
// A 429 or 5xx keeps its retryable classification whatever its body says;
// an unknown code keeps the shared layer's (a 400 is permanent).
func refine(status int, body []byte) (vendorapi.Kind, string, time.Duration, bool) {
	if status == http.StatusTooManyRequests || status >= 500 || status < 400 {
		return 0, "", 0, false
	}
	e, ok := readSETError(body)
	if !ok {
		return 0, "", 0, false
	}
	switch e.Err {
	case "invalid_request":
		return vendorapi.Invalid, "the receiver refused the SET as malformed (invalid_request); check this receiver's subject_format", 0, true
	case "invalid_key":
		return vendorapi.Transient, "the receiver does not accept the signing key (invalid_key); it may still hold the key set from before a rotation", keyRetryAfter, true
	case "invalid_issuer":
		return vendorapi.Invalid, "the receiver does not accept the issuer (invalid_issuer); register offboarder there with this issuer, or set issuer to the one registered", 0, true
	case "invalid_audience":
		return vendorapi.Invalid, "the receiver does not take the SET's audience (invalid_audience); set this receiver's audience to the value it expects", 0, true
	case "authentication_failed":
		return vendorapi.Auth, "the receiver could not authenticate offboarder (authentication_failed); check this receiver's token and that it has offboarder's issuer and jwks_uri registered", 0, true
	case "access_denied":
		return vendorapi.Auth, "the receiver does not allow offboarder to send this event (access_denied)", 0, true
	}
	return 0, "", 0, false
}
