package salesforce

import (
	"errors"
	"strconv"
	"strings"
	"unicode"
)

// The part of SOQL the fake understands, from the SOQL reference
// (https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select.htm):
//
//	SELECT field {, field} FROM object [WHERE cond {AND cond | OR cond}] [LIMIT n]
//	cond = field = 'literal'
//
// Keywords, objects and fields are case-insensitive; string comparison is
// too. A literal's escapes are those of "Quoted String Escape Sequences"
// (https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_quotedstringescapes.htm):
// \n \r \t \b \f \" \' \\ and \uXXXX; a backslash in any other context is an
// error. Mixing AND and OR without parentheses is refused, as SOQL does.

// soql is a parsed query.
type soql struct {
	fields []string
	object string
	conds  []cond
	or     bool // the conditions are joined by OR (else AND)
	limit  int  // 0: none
}

// cond is field = value.
type cond struct{ field, value string }

// token kinds of the scanner.
const (
	tWord = iota
	tString
	tComma
	tEquals
	tEnd
)

type token struct {
	kind int
	text string
}

// scan splits q into tokens.
func scan(q string) ([]token, error) {
	var out []token
	rs := []rune(q)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			i++
		case r == ',':
			out, i = append(out, token{tComma, ","}), i+1
		case r == '=':
			out, i = append(out, token{tEquals, "="}), i+1
		case r == '\'':
			s, n, err := literal(rs[i+1:])
			if err != nil {
				return nil, err
			}
			out, i = append(out, token{tString, s}), i+1+n
		case r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			j := i
			for j < len(rs) && (rs[j] == '_' || rs[j] == '.' || unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j])) {
				j++
			}
			out, i = append(out, token{tWord, string(rs[i:j])}), j
		default:
			return nil, errors.New("unexpected token: '" + string(r) + "'")
		}
	}
	return append(out, token{tEnd, ""}), nil
}

// literal reads a quoted string's body up to its closing quote, returning
// its value and the runes read (the closing quote included).
func literal(rs []rune) (string, int, error) {
	var b strings.Builder
	for i := 0; i < len(rs); i++ {
		switch rs[i] {
		case '\'':
			return b.String(), i + 1, nil
		case '\\':
			if i+1 >= len(rs) {
				return "", 0, errors.New("unterminated string")
			}
			i++
			switch rs[i] {
			case 'n', 'N':
				b.WriteByte('\n')
			case 'r', 'R':
				b.WriteByte('\r')
			case 't', 'T':
				b.WriteByte('\t')
			case 'b', 'B':
				b.WriteByte('\b')
			case 'f', 'F':
				b.WriteByte('\f')
			case '"', '\'', '\\':
				b.WriteRune(rs[i])
			case 'u':
				if i+4 >= len(rs) {
					return "", 0, errors.New("invalid unicode escape")
				}
				n, err := strconv.ParseUint(string(rs[i+1:i+5]), 16, 16)
				if err != nil {
					return "", 0, errors.New("invalid unicode escape")
				}
				b.WriteRune(rune(n))
				i += 4
			default:
				return "", 0, errors.New("invalid escape sequence: \\" + string(rs[i]))
			}
		default:
			b.WriteRune(rs[i])
		}
	}
	return "", 0, errors.New("unterminated string")
}

// parse reads q.
func parse(q string) (*soql, error) {
	ts, err := scan(q)
	if err != nil {
		return nil, err
	}
	p := &parser{ts: ts}
	s := &soql{}
	if !p.keyword("SELECT") {
		return nil, errors.New("expecting SELECT")
	}
	for {
		f := p.next()
		if f.kind != tWord || strings.EqualFold(f.text, "FROM") {
			return nil, errors.New("expecting a field name")
		}
		s.fields = append(s.fields, f.text)
		if p.peek().kind != tComma {
			break
		}
		p.next()
	}
	if !p.keyword("FROM") {
		return nil, errors.New("expecting FROM")
	}
	if o := p.next(); o.kind == tWord {
		s.object = o.text
	} else {
		return nil, errors.New("expecting an object name")
	}
	if p.keyword("WHERE") {
		joiner := ""
		for {
			f, eq, v := p.next(), p.next(), p.next()
			if f.kind != tWord || eq.kind != tEquals || v.kind != tString {
				return nil, errors.New("expecting field = 'value'")
			}
			s.conds = append(s.conds, cond{f.text, v.text})
			w := strings.ToUpper(p.peek().text)
			if p.peek().kind != tWord || (w != "AND" && w != "OR") {
				break
			}
			if joiner != "" && joiner != w {
				return nil, errors.New("unexpected token: '" + w + "': use parentheses to mix AND and OR")
			}
			joiner = w
			p.next()
		}
		s.or = joiner == "OR"
	}
	if p.keyword("LIMIT") {
		n, err := strconv.Atoi(p.next().text)
		if err != nil || n < 0 {
			return nil, errors.New("expecting a number after LIMIT")
		}
		s.limit = n
	}
	if t := p.next(); t.kind != tEnd {
		return nil, errors.New("unexpected token: '" + t.text + "'")
	}
	return s, nil
}

type parser struct {
	ts []token
	i  int
}

func (p *parser) peek() token { return p.ts[p.i] }

func (p *parser) next() token {
	t := p.ts[p.i]
	if t.kind != tEnd {
		p.i++
	}
	return t
}

// keyword takes the next token if it is the keyword kw.
func (p *parser) keyword(kw string) bool {
	if t := p.peek(); t.kind == tWord && strings.EqualFold(t.text, kw) {
		p.i++
		return true
	}
	return false
}

// match reports whether a record (field → value, keys in the object's
// spelling) meets the conditions; fields are compared without regard to
// case, as SOQL does.
func (s *soql) match(get func(field string) (string, bool)) bool {
	if len(s.conds) == 0 {
		return true
	}
	for _, c := range s.conds {
		v, _ := get(c.field)
		ok := strings.EqualFold(v, c.value)
		if ok && s.or {
			return true
		}
		if !ok && !s.or {
			return false
		}
	}
	return !s.or
}
