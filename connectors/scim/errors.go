package scim

import (
	"encoding/json"
	"strings"

	"github.com/offboarder/offboarder/vendorapi"
)

// readError reads an RFC 7644 §3.12 error body into one short line:
// {"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],
// "status":"400","scimType":"invalidFilter","detail":"…"} gives
// "invalidFilter: …". status is a string in the RFC and a number from
// some servers; it is not read (the HTTP status is). A body that is not
// SCIM's gives "".
func readError(body []byte) string { return vendorapi.AsRead(decodeError(body)) }

// decodeError is readError before invalid UTF-8 is put back as read.
func decodeError(body []byte) string {
	var e struct {
		ScimType string `json:"scimType"`
		Detail   string `json:"detail"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	return strings.TrimSuffix(strings.TrimPrefix(e.ScimType+": "+e.Detail, ": "), ": ")
}
