package scim

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// filter is one parsed filter expression: attrPath eq compValue
// [RFC 7644 §3.4.2.2], the only form Lucid supports ("The only operator
// currently supported is eq", https://developer.lucid.co/reference/getallusers).
// attr is the attribute's canonical name (attrs); value is a string, a
// bool or nil (null).
type filter struct {
	attr  string
	value any
}

// attrs are the attributes the fake filters on, by their lower-case name
// (attribute names are case-insensitive [RFC 7644 §3.4.2.2]): Lucid's
// optimised ones — email / emails.value / workemail, username /
// displayname, externalid (getallusers) — and id and active.
var attrs = map[string]string{
	"username": "userName", "displayname": "displayName", "externalid": "externalId", "id": "id",
	"emails": "emails.value", "emails.value": "emails.value", "email": "emails.value", "workemail": "emails.value",
	"active": "active",
}

// operators are the comparison operators of RFC 7644 §3.4.2.2, lower case.
var operators = map[string]bool{"eq": true, "ne": true, "co": true, "sw": true, "ew": true, "gt": true, "lt": true, "ge": true, "le": true, "pr": true}

// errFilter is the scimType invalidFilter [RFC 7644 §3.12]: "The specified
// filter syntax was invalid … or the specified attribute and filter
// comparison combination is not supported."
var errFilter = errors.New("invalidFilter")

// parseFilter parses s: an attribute path, spaces, eq, spaces and a JSON
// string, true, false or null. A URN-qualified attribute
// (urn:…:User:userName) is read by its last name. Any other operator, a
// logical one (and, or, not), grouping or a value filter ([…]) is
// errFilter, with what is wrong.
func parseFilter(s string) (filter, error) {
	s = strings.TrimSpace(s)
	path, rest, _ := strings.Cut(s, " ")
	rest = strings.TrimLeft(rest, " ")
	op, value, _ := strings.Cut(rest, " ")
	value = strings.TrimSpace(value)
	name := strings.ToLower(path)
	if i := strings.LastIndex(name, ":"); i >= 0 && strings.HasPrefix(name, "urn:") {
		name = name[i+1:]
	}
	op = strings.ToLower(op)
	switch {
	case path == "" || strings.ContainsAny(path, `()[]"`) || strings.EqualFold(path, "not"):
		return filter{}, fmt.Errorf("%w: want attribute eq value; grouping, not and value filters are not supported", errFilter)
	case op == "":
		return filter{}, fmt.Errorf("%w: no operator after %q", errFilter, path)
	case !operators[op]:
		return filter{}, fmt.Errorf("%w: %q is not an operator", errFilter, op)
	case op != "eq":
		return filter{}, fmt.Errorf("%w: operator %s is not supported; the only operator supported is eq", errFilter, op)
	case attrs[name] == "":
		return filter{}, fmt.Errorf("%w: cannot filter on %q", errFilter, path)
	}
	f := filter{attr: attrs[name]}
	switch {
	case value == "":
		return filter{}, fmt.Errorf("%w: no value to compare %s with", errFilter, path)
	case value[0] == '"':
		var v string
		// A whole JSON string and nothing after it: a trailing "and …"
		// makes it invalid JSON.
		if err := json.Unmarshal([]byte(value), &v); err != nil {
			return filter{}, fmt.Errorf("%w: the value is not one JSON string (logical operators are not supported)", errFilter)
		}
		f.value = v
	case value == "true" || value == "false":
		f.value = value == "true"
	case value == "null":
		f.value = nil
	default:
		return filter{}, fmt.Errorf("%w: the value must be a JSON string, true, false or null", errFilter)
	}
	if _, isBool := f.value.(bool); isBool != (f.attr == "active") && f.value != nil {
		return filter{}, fmt.Errorf("%w: %s is compared with the wrong type", errFilter, path)
	}
	return f, nil
}

// matches reports whether u meets f: strings compare case-insensitively,
// as userName and emails are caseExact false [RFC 7643 §4.1], and ids
// exactly; a multi-valued attribute matches when any value does
// [RFC 7644 §3.4.2.2]. lucid.mu must be held.
func (f filter) matches(u *lucidUser) bool {
	want, _ := f.value.(string)
	switch f.attr {
	case "userName":
		return strings.EqualFold(u.email, want)
	case "displayName":
		return strings.EqualFold(u.displayName(), want)
	case "emails.value":
		return strings.EqualFold(u.email, want)
	case "id":
		return u.id == want
	case "externalId":
		return false // the fake's users have none
	case "active":
		b, ok := f.value.(bool)
		return ok && b == u.active
	}
	return false
}

// email is the address a filter on userName or an email names, lower case,
// or "".
func (f filter) email() string {
	if s, ok := f.value.(string); ok && (f.attr == "userName" || f.attr == "emails.value") {
		return strings.ToLower(s)
	}
	return ""
}
