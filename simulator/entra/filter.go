package entra

import (
	"slices"
	"strings"
)

// The Entra fake's $filter language: the default (non-advanced) equality
// queries on users that Microsoft Graph serves without ConsistencyLevel:
//
//	<property> eq '<value>' [and|or <property> eq '<value>' …]
//
// over id, mail and userPrincipalName. and binds tighter than or; property
// names, operators and keywords are case-insensitive and so is the value's
// comparison. A single quote inside a value is written twice.
// https://learn.microsoft.com/en-us/graph/aad-advanced-queries
// https://learn.microsoft.com/en-us/graph/query-parameters#escaping-single-quotes
//
// Anything else (ne, startsWith, other properties) is answered as Graph
// answers a query it does not support by default: 400
// Request_UnsupportedQuery. A filter that does not parse is 400 BadRequest.

// entraFilterProps are the properties the fake filters on.
var entraFilterProps = []string{"id", "mail", "userPrincipalName"}

// parseEntraFilter parses s into a matcher, or answers the Graph error
// code and message to refuse it with.
func parseEntraFilter(s string) (func(*entraUser) bool, string, string) {
	toks, ok := entraTokens(s)
	if !ok {
		return nil, "BadRequest", "Invalid filter clause: unterminated string literal."
	}
	type term struct{ prop, value string }
	var ors [][]term // or of ands
	ands := []term{}
	for i := 0; ; {
		if i+3 > len(toks) {
			return nil, "BadRequest", "Invalid filter clause: a comparison is incomplete."
		}
		prop, op, val := toks[i], toks[i+1], toks[i+2]
		if prop.quoted || op.quoted || !val.quoted {
			return nil, "BadRequest", "Invalid filter clause: expected <property> eq '<value>'."
		}
		j := slices.IndexFunc(entraFilterProps, func(p string) bool { return strings.EqualFold(p, prop.text) })
		if j < 0 || !strings.EqualFold(op.text, "eq") {
			return nil, "Request_UnsupportedQuery", "Unsupported Query."
		}
		ands = append(ands, term{entraFilterProps[j], val.text})
		i += 3
		if i == len(toks) {
			ors = append(ors, ands)
			break
		}
		switch kw := toks[i]; {
		case !kw.quoted && strings.EqualFold(kw.text, "and"):
		case !kw.quoted && strings.EqualFold(kw.text, "or"):
			ors, ands = append(ors, ands), []term{}
		default:
			return nil, "BadRequest", "Invalid filter clause: expected and or or."
		}
		i++
	}
	return func(u *entraUser) bool {
		return slices.ContainsFunc(ors, func(ands []term) bool {
			return !slices.ContainsFunc(ands, func(t term) bool {
				got := map[string]string{"id": u.id, "mail": u.upn, "userPrincipalName": u.upn}[t.prop]
				return !strings.EqualFold(got, t.value)
			})
		})
	}, "", ""
}

// entraToken is a bare word or a quoted string literal (unquoted).
type entraToken struct {
	text   string
	quoted bool
}

// entraTokens splits a filter into words and '…' literals; false means a
// literal is not closed.
func entraTokens(s string) ([]entraToken, bool) {
	var toks []entraToken
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t':
			i++
		case c == '\'':
			var b strings.Builder
			for i++; ; i++ {
				if i >= len(s) {
					return nil, false
				}
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						b.WriteByte('\'')
						i++
						continue
					}
					break
				}
				b.WriteByte(s[i])
			}
			toks = append(toks, entraToken{text: b.String(), quoted: true})
			i++
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != '\'' {
				j++
			}
			toks = append(toks, entraToken{text: s[i:j]})
			i = j
		}
	}
	return toks, true
}
