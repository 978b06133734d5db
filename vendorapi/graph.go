package vendorapi

import (
	"encoding/json"
	"strings"
)

// GraphError reads Microsoft Graph's error body into one short line, for
// the entra connector and the entra source alike (a ClientOptions
// VendorError): "Request_ResourceNotFound: Resource 'x' does not exist.
// (request-id …)". Graph's error resource:
// https://learn.microsoft.com/en-us/graph/errors
func GraphError(body []byte) string {
	var b struct {
		Error struct {
			Code       string `json:"code"`
			Message    string `json:"message"`
			InnerError struct {
				RequestID string `json:"request-id"`
			} `json:"innerError"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &b) != nil || (b.Error.Code == "" && b.Error.Message == "") {
		return ""
	}
	s := strings.TrimPrefix(b.Error.Code+": "+b.Error.Message, ": ")
	if id := b.Error.InnerError.RequestID; id != "" {
		s += " (request-id " + id + ")"
	}
	return AsRead(s)
}

// asRead puts back one "?" for each byte of invalid UTF-8 that JSON
// decoding turned into U+FFFD (three bytes), so that a vendor's summary is
// never longer than the body it was read from.
func AsRead(s string) string { return strings.ReplaceAll(s, "\uFFFD", "?") }
