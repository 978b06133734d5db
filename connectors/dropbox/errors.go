package dropbox

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/offboarder/offboarder/vendorapi"
)

// dropboxError is Dropbox's JSON error body [errors]: error_summary, a
// short machine-readable path such as "member_not_found/..", and error,
// the route's error union with its .tag (AuthError's missing_scope adds
// required_scope; RateLimitError nests its reason) [spec].
type dropboxError struct {
	Summary string `json:"error_summary"`
	Error   struct {
		Tag           string `json:".tag"`
		RequiredScope string `json:"required_scope"`
		Reason        struct {
			Tag string `json:".tag"`
		} `json:"reason"`
	} `json:"error"`
}

// readError reads Dropbox's error bodies into one short line: the
// error_summary of the JSON body (with the scope a missing_scope needs),
// or the plain text of a 400 "bad input" answer [errors]. An HTML page (a
// proxy's) gives "".
func readError(body []byte) string { return vendorapi.AsRead(decodeError(body)) }

// decodeError is readError before invalid UTF-8 is put back as read.
func decodeError(body []byte) string {
	var e dropboxError
	if json.Unmarshal(body, &e) != nil {
		text := strings.TrimSpace(string(body))
		if text == "" || strings.HasPrefix(text, "<") || strings.HasPrefix(text, "{") || strings.HasPrefix(text, "[") {
			return ""
		}
		return text
	}
	out := e.Summary
	if out == "" {
		out = e.Error.Tag
	}
	if out == "" {
		out = e.Error.Reason.Tag
	}
	if e.Error.RequiredScope != "" {
		out += "; the token needs the scope " + e.Error.RequiredScope
	}
	return strings.TrimPrefix(out, "; ")
}

// memberGone reports whether an answer is Dropbox's "no such member": a
// 409 whose error tag is member_not_found (list_member_devices,
// revoke_device_session) or id_not_found [spec][errors]. The shared client
// classifies it NotFound.
func memberGone(status int, body []byte) bool {
	if status != http.StatusConflict {
		return false
	}
	var e dropboxError
	if json.Unmarshal(body, &e) != nil {
		return false
	}
	return e.Error.Tag == "member_not_found" || e.Error.Tag == "id_not_found"
}
