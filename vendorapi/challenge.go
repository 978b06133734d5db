package vendorapi

import "strings"

// challengeError returns the error and error_description auth-params of a
// WWW-Authenticate challenge, as "error: description", or "". Servers put
// why a token or proof was refused there, often with an empty body: RFC
// 6750 §3 (Bearer) and RFC 9449 §7.1 (DPoP), e.g. Okta's
//
//	DPoP algs="ES256 …", realm="…", error="invalid_dpop_proof",
//	  error_description="'htu' claim in the DPoP proof JWT is invalid."
//
// Values are tokens or quoted strings with backslash escapes (RFC 9110
// §11.2); the first occurrence of each name counts. Anything it cannot
// read ends the scan.
func challengeError(h string) string {
	code, desc := challengeParams(h)
	switch {
	case code == "":
		return desc
	case desc == "":
		return code
	}
	return code + ": " + desc
}

// challengeParams returns the error and error_description auth-params of
// a WWW-Authenticate challenge, "" for each that is absent.
func challengeParams(h string) (code, desc string) {
	seenCode, seenDesc := false, false
	for i := 0; i < len(h); {
		// Skip separators, then read a token (a scheme or a parameter name).
		for i < len(h) && (h[i] == ' ' || h[i] == '\t' || h[i] == ',') {
			i++
		}
		start := i
		for i < len(h) && h[i] != '=' && h[i] != ' ' && h[i] != '\t' && h[i] != ',' && h[i] != '"' {
			i++
		}
		name := strings.ToLower(h[start:i])
		if i < len(h) && h[i] == '"' { // a quoted string where a name belongs
			return code, desc
		}
		if i >= len(h) || h[i] != '=' {
			continue // a scheme, or a token68 without "="
		}
		i++
		for i < len(h) && h[i] == '=' { // token68 padding ("abc==")
			i++
		}
		var value string
		if i < len(h) && h[i] == '"' {
			var b strings.Builder
			i++
			closed := false
			for i < len(h) {
				c := h[i]
				i++
				if c == '\\' && i < len(h) {
					b.WriteByte(h[i])
					i++
					continue
				}
				if c == '"' {
					closed = true
					break
				}
				b.WriteByte(c)
			}
			if !closed {
				return code, desc
			}
			value = b.String()
		} else {
			start := i
			for i < len(h) && h[i] != ',' && h[i] != ' ' && h[i] != '\t' {
				i++
			}
			value = h[start:i]
		}
		switch {
		case name == "error" && !seenCode:
			code, seenCode = value, true
		case name == "error_description" && !seenDesc:
			desc, seenDesc = value, true
		}
	}
	return code, desc
}
