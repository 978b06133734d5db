package slack

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/offboarder/offboarder/vendorapi"
)

// Slack answers most failures with HTTP 200 and {"ok":false,"error":"…"}
// [web-api]; the shared client sees a success, so this file reads the
// error code and classifies it the way the shared classifier would have
// classified the HTTP answer it stands for. Errors Slack answers with an
// HTTP status (429, 5xx) are classified by the shared client, their body
// read by readError.

// ratelimitedWait is the wait of a ratelimited error answered with HTTP
// 200, where no Retry-After can be read: Slack's tiers are counted per
// minute [rate-limits], so a minute is always enough.
const ratelimitedWait = time.Minute

// answer is the envelope of every Web API answer [web-api]: ok, and on a
// failure the error code; a missing_scope also names the scope needed and
// the scopes the token has [web-api].
type answer struct {
	OK       bool   `json:"ok"`
	Error    string `json:"error"`
	Needed   string `json:"needed"`
	Provided string `json:"provided"`
}

func (a *answer) envelope() *answer { return a }

// fail turns an ok:false answer of method, sent with verb, into a
// classified error.
// Unknown codes are permanent (Invalid) and quoted, so a person can look
// them up in the method's documentation.
func (s *Connector) fail(verb, method string, a *answer) *vendorapi.Error {
	e := &vendorapi.Error{System: s.name, Status: 200}
	what := verb + " /api/" + method + ": "
	code := sanitizeCode(a.Error)
	switch code {
	case "users_not_found", "user_not_found":
		// [lookup] users_not_found: no user with that email; [reset]
		// user_not_found: no user with that id.
		e.Kind, e.Msg = vendorapi.NotFound, what+"no such slack user"
	case "ratelimited":
		// [rate-limits]: over the method's tier. Answered with HTTP 429
		// and Retry-After as a rule; this is the same code with HTTP 200.
		e.Kind, e.RetryAfter = vendorapi.RateLimited, ratelimitedWait
		e.Msg = what + "rate limited by slack; retry after " + ratelimitedWait.String()
	case "fatal_error", "internal_error", "service_unavailable", "request_timeout", "user_session_reset_failed":
		// [errors] fatal_error, internal_error, service_unavailable,
		// request_timeout: Slack's side failed; [reset]
		// user_session_reset_failed: "There was an error starting the
		// session reset. Try again." The reset may be sent again: it is
		// idempotent.
		e.Kind, e.Msg = vendorapi.Transient, what+"slack failed to complete the request"
	case "missing_scope":
		// [errors] missing_scope: the token lacks a scope; Slack names it
		// in needed.
		needed := sanitizeCode(a.Needed)
		if needed == "" {
			needed = scopeOf(method)
		}
		e.Kind, e.Msg = vendorapi.Auth, what+"the token lacks the scope "+needed+
			"; add it to the app's user token scopes, reinstall the app on the org, and configure the new token"
	case "not_an_admin", "admin_unauthorized", "restricted_action":
		// [reset][list] not_an_admin: "only accessible by org/compliance
		// team owners and admins".
		e.Kind, e.Msg = vendorapi.Auth, what+"the token's user is not an org owner or admin; use the user token (xoxp-) of an Enterprise Grid org owner or admin"
	case "not_allowed_token_type":
		// [errors]: admin.* methods take user tokens only.
		e.Kind, e.Msg = vendorapi.Auth, what+"slack refuses this type of token; use a user token (xoxp-) of an org owner or admin, not a bot (xoxb-) or app-level token"
	case "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive":
		// [errors]: no, a wrong, a revoked or an expired token, or one of
		// a deactivated user.
		e.Kind, e.Msg = vendorapi.Auth, what+"credentials rejected ("+code+"): check that the configured token is valid, not revoked, and belongs to an active org admin"
	case "feature_not_enabled", "enterprise_is_restricted", "team_not_on_enterprise":
		// [reset][list] feature_not_enabled: "not available for this
		// product level": admin.users.session.* need Enterprise Grid.
		e.Kind, e.Msg = vendorapi.Invalid, what+"slack says this method is not available for the org's plan ("+code+"): the admin session methods need Enterprise Grid"
	case "cannot_reset_primary_owner", "session_reset_not_allowed", "cannot_reset_bot":
		// [reset]: only the primary owner may reset the primary owner's
		// sessions; bots have none to reset.
		e.Kind, e.Msg = vendorapi.Invalid, what+"slack does not allow resetting this user's sessions ("+code+"); the primary owner must do it in the admin UI"
	default:
		e.Kind, e.Msg = vendorapi.Invalid, what+"request rejected; a person must look"
		if code == "" {
			code = "no error code"
		}
		e.Msg += "; slack said " + `"` + code + `"`
	}
	return e
}

// scopeOf is the scope a method needs, for a missing_scope without needed.
func scopeOf(method string) string {
	switch method {
	case methodLookup:
		return "users:read.email" // [lookup]
	case methodReset:
		return "admin.users:write" // [reset]
	case methodList:
		return "admin.users:read" // [list]
	}
	return "the method's scope"
}

// sanitizeCode keeps an error code or a scope list fit for an error
// message: Slack's codes are snake_case words, scopes a comma-separated
// list of words with dots and colons; anything else is dropped.
func sanitizeCode(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 100 {
		s = s[:100]
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_.:,-", r)
		if !ok {
			return ""
		}
	}
	return s
}

// readError reads the error code from the body of an answer Slack sent
// with an HTTP error status, e.g. {"ok":false,"error":"ratelimited"} with
// 429 [rate-limits]; "" when there is none.
func readError(body []byte) string { return vendorapi.AsRead(decodeError(body)) }

// decodeError is readError before invalid UTF-8 is put back as read.
func decodeError(body []byte) string {
	var a answer
	if json.Unmarshal(body, &a) != nil || a.OK {
		return ""
	}
	code := sanitizeCode(a.Error)
	if needed := sanitizeCode(a.Needed); code == "missing_scope" && needed != "" {
		code += " (needed: " + needed + ")"
	}
	return code
}
