package okta

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The expression languages of listUsers' search and filter parameters.
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/#tag/User/operation/listUsers
//
//   - search: property names are case-sensitive, operators and string values
//     are not. Operators eq, sw, co (co only on profile.firstName, lastName,
//     email and login), gt, ge, lt, le; ne isn't supported. Any attribute of
//     the org's user profile may be named; the simulator's org has Okta's
//     base profile only, and a base attribute it doesn't keep (city, …) is
//     empty, so it matches nobody. Naming an attribute the profile lacks is
//     E0000031, as in Okta.
//   - filter: property names and values are case-sensitive, operators are
//     not. Only status, lastUpdated, id, profile.login, profile.email,
//     profile.firstName and profile.lastName, only eq (lastUpdated also gt,
//     ge, lt, le).
//
// Both join terms with and / or (and binds tighter) and group them with
// parentheses; values are double-quoted strings with backslash escapes.

// oktaMode says which of the two languages an expression is in.
type oktaMode int

const (
	oktaSearch oktaMode = iota
	oktaFilter
)

// oktaExpr is a parsed expression.
type oktaExpr interface{ match(u *oktaUser) bool }

type (
	oktaAny []oktaExpr // or
	oktaAll []oktaExpr // and
	oktaCmp struct {
		attr, op, value string
		fold            bool // compare case-insensitively
	}
)

func (a oktaAny) match(u *oktaUser) bool {
	return slices.ContainsFunc(a, func(e oktaExpr) bool { return e.match(u) })
}

func (a oktaAll) match(u *oktaUser) bool {
	return !slices.ContainsFunc(a, func(e oktaExpr) bool { return !e.match(u) })
}

func (c oktaCmp) match(u *oktaUser) bool {
	got, ok := oktaAttr(u, c.attr)
	if !ok {
		return false
	}
	want := c.value
	if c.fold {
		got, want = strings.ToLower(got), strings.ToLower(want)
	}
	switch c.op {
	case "eq":
		return got == want
	case "sw":
		return strings.HasPrefix(got, want)
	case "co":
		return strings.Contains(got, want)
	case "gt":
		return got > want
	case "ge":
		return got >= want
	case "lt":
		return got < want
	default: // le
		return got <= want
	}
}

// oktaAttr reads a property of u; false if the simulator doesn't keep it.
// Timestamps compare as strings, which orders Okta's fixed format correctly.
func oktaAttr(u *oktaUser, attr string) (string, bool) {
	switch attr {
	case "id":
		return u.id, true
	case "status":
		return "ACTIVE", true
	case "type.id":
		return oktaTypeID, true
	case "created", "activated", "statusChanged", "lastUpdated":
		return u.created.Format(oktaTime), true
	case "profile.login", "profile.email":
		return u.login, true
	case "profile.firstName":
		return u.firstName, true
	case "profile.lastName":
		return u.lastName, true
	}
	return "", false
}

var (
	oktaSearchOps   = []string{"eq", "sw", "co", "gt", "ge", "lt", "le"}
	oktaContainsOK  = []string{"profile.firstName", "profile.lastName", "profile.email", "profile.login"}
	oktaSearchProps = []string{"id", "status", "created", "activated", "statusChanged", "lastUpdated", "type.id"}
	// oktaBaseProfile is Okta's base user profile, the org's whole schema here.
	oktaBaseProfile = []string{"login", "email", "secondEmail", "firstName", "lastName", "middleName",
		"honorificPrefix", "honorificSuffix", "title", "displayName", "nickName", "profileUrl", "primaryPhone",
		"mobilePhone", "streetAddress", "city", "state", "zipCode", "countryCode", "postalAddress",
		"preferredLanguage", "locale", "timezone", "userType", "employeeNumber", "costCenter", "organization",
		"division", "department", "managerId", "manager"}
	oktaFilterProps = []string{"status", "lastUpdated", "id", "profile.login", "profile.email", "profile.firstName", "profile.lastName"}
	oktaRangeOps    = []string{"gt", "ge", "lt", "le"}
)

// oktaSearchable says whether search may name attr.
func oktaSearchable(attr string) bool {
	if slices.Contains(oktaSearchProps, attr) {
		return true
	}
	name, ok := strings.CutPrefix(attr, "profile.")
	return ok && slices.Contains(oktaBaseProfile, name)
}

// parseOktaExpr parses s in mode; the error says what is wrong, for the
// Error object's errorCauses.
func parseOktaExpr(s string, mode oktaMode) (oktaExpr, error) {
	toks, err := oktaTokens(s)
	if err != nil {
		return nil, err
	}
	p := &oktaParser{toks: toks, mode: mode}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("unexpected %s", p.toks[p.pos])
	}
	return e, nil
}

// oktaToken is a word, a quoted string (kind '"') or a parenthesis.
type oktaToken struct {
	kind byte // 'w', '"', '(' or ')'
	text string
}

func (t oktaToken) String() string {
	switch t.kind {
	case 'w':
		return fmt.Sprintf("%q", t.text)
	case '"':
		return fmt.Sprintf("string %q", t.text)
	}
	return fmt.Sprintf("%q", string(t.kind))
}

func oktaTokens(s string) ([]oktaToken, error) {
	var toks []oktaToken
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '(' || c == ')':
			toks = append(toks, oktaToken{kind: c})
			i++
		case c == '"':
			var b strings.Builder
			for i++; ; i++ {
				if i >= len(s) {
					return nil, errors.New("unterminated string")
				}
				if s[i] == '\\' && i+1 < len(s) {
					i++
				} else if s[i] == '"' {
					break
				}
				b.WriteByte(s[i])
			}
			toks = append(toks, oktaToken{kind: '"', text: b.String()})
			i++
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n()\"", rune(s[j])) {
				j++
			}
			toks = append(toks, oktaToken{kind: 'w', text: s[i:j]})
			i = j
		}
	}
	return toks, nil
}

type oktaParser struct {
	toks []oktaToken
	pos  int
	mode oktaMode
}

// keyword consumes the word kw (any case) if it is next.
func (p *oktaParser) keyword(kw string) bool {
	if p.pos < len(p.toks) && p.toks[p.pos].kind == 'w' && strings.EqualFold(p.toks[p.pos].text, kw) {
		p.pos++
		return true
	}
	return false
}

// next consumes a token of kind; what names it in the error.
func (p *oktaParser) next(kind byte, what string) (string, error) {
	if p.pos >= len(p.toks) {
		return "", fmt.Errorf("expected %s, found the end", what)
	}
	t := p.toks[p.pos]
	if t.kind != kind {
		return "", fmt.Errorf("expected %s, found %s", what, t)
	}
	p.pos++
	return t.text, nil
}

func (p *oktaParser) or() (oktaExpr, error) {
	return p.join("or", p.and, func(es []oktaExpr) oktaExpr { return oktaAny(es) })
}

func (p *oktaParser) and() (oktaExpr, error) {
	return p.join("and", p.term, func(es []oktaExpr) oktaExpr { return oktaAll(es) })
}

// join parses operand (kw operand)*.
func (p *oktaParser) join(kw string, operand func() (oktaExpr, error), build func([]oktaExpr) oktaExpr) (oktaExpr, error) {
	var es []oktaExpr
	for {
		e, err := operand()
		if err != nil {
			return nil, err
		}
		es = append(es, e)
		if !p.keyword(kw) {
			break
		}
	}
	if len(es) == 1 {
		return es[0], nil
	}
	return build(es), nil
}

// term is a parenthesised expression or attr op "value".
func (p *oktaParser) term() (oktaExpr, error) {
	if p.pos < len(p.toks) && p.toks[p.pos].kind == '(' {
		p.pos++
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if _, err := p.next(')', `")"`); err != nil {
			return nil, err
		}
		return e, nil
	}
	attr, err := p.next('w', "a property name")
	if err != nil {
		return nil, err
	}
	op, err := p.next('w', "an operator after "+attr)
	if err != nil {
		return nil, err
	}
	op = strings.ToLower(op)
	value, err := p.next('"', `a quoted value after `+attr+" "+op)
	if err != nil {
		return nil, err
	}
	if err := p.check(attr, op); err != nil {
		return nil, err
	}
	return oktaCmp{attr: attr, op: op, value: value, fold: p.mode == oktaSearch}, nil
}

// check enforces the properties and operators of p.mode.
func (p *oktaParser) check(attr, op string) error {
	if p.mode == oktaFilter {
		switch {
		case !slices.Contains(oktaFilterProps, attr):
			return fmt.Errorf("filter doesn't support property %q", attr)
		case op == "eq", attr == "lastUpdated" && slices.Contains(oktaRangeOps, op):
			return nil
		}
		return fmt.Errorf("filter doesn't support operator %q on %s", op, attr)
	}
	switch {
	case !oktaSearchable(attr):
		return fmt.Errorf("search doesn't support property %q", attr)
	case !slices.Contains(oktaSearchOps, op):
		return fmt.Errorf("search doesn't support operator %q", op)
	case op == "co" && !slices.Contains(oktaContainsOK, attr):
		return fmt.Errorf("operator co isn't supported on %s", attr)
	}
	return nil
}
