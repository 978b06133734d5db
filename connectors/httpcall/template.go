package httpcall

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"

	"github.com/offboarder/offboarder/offboard"
)

// data is what every template sees: the subject's fields.
type data struct {
	Email  string            // the normalised email
	IDs    map[string]string // the ids the event carried, by kind (e.g. "okta")
	Reason offboard.Reason   // why: terminated, suspended, deactivated, security, manual
}

func dataOf(s offboard.Subject) data {
	return data{Email: s.Email, IDs: s.IDs, Reason: s.Reason}
}

// funcs are the helpers every template has:
//
//	pathescape  escapes a value as one path segment ("/", "?", "#" and "%"
//	            too); an empty value, "." and ".." are errors
//	urlquery    escapes a value for a query string
//	json        encodes a value as JSON (a string gets its quotes)
func funcs() template.FuncMap {
	return template.FuncMap{
		"pathescape": pathEscape,
		"urlquery":   func(v ...any) string { return url.QueryEscape(fmt.Sprint(v...)) },
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
	}
}

// errSegment is pathescape's error: such a value would take the request
// to another resource below base_url (the collection, the parent).
var errSegment = errors.New(`a value of the path is empty, "." or ".."`)

func pathEscape(v any) (string, error) {
	s := fmt.Sprint(v)
	if s == "" || s == "." || s == ".." {
		return "", errSegment
	}
	return url.PathEscape(s), nil
}

// tmpl is one parsed template of the config and the id kinds it reads.
type tmpl struct {
	t   *template.Template
	ids []string // the keys of .IDs it names, sorted
}

// parseTemplate parses text as the template of key, with missingkey=error:
// a map key a template names that the subject lacks is an error, never
// "<no value>". {{define}}, {{block}} and {{template}} are refused: every
// template is one piece of text.
func parseTemplate(key, text string) (*tmpl, error) {
	t, err := template.New(key).Option("missingkey=error").Funcs(funcs()).Parse(text)
	if err != nil {
		return nil, err
	}
	if len(t.Templates()) > 1 {
		return nil, errors.New("{{define}} and {{block}} are not allowed")
	}
	out := &tmpl{t: t}
	if t.Tree == nil || t.Root == nil {
		return out, nil
	}
	var bad error
	walk(t.Root, func(n parse.Node) {
		switch n := n.(type) {
		case *parse.TemplateNode:
			bad = errors.New("{{template}} is not allowed")
		case *parse.FieldNode:
			if len(n.Ident) > 1 && n.Ident[0] == "IDs" {
				out.ids = append(out.ids, n.Ident[1])
			}
		case *parse.VariableNode:
			if len(n.Ident) > 2 && n.Ident[0] == "$" && n.Ident[1] == "IDs" {
				out.ids = append(out.ids, n.Ident[2])
			}
		}
	})
	slices.Sort(out.ids)
	out.ids = slices.Compact(out.ids)
	return out, bad
}

// exec runs the template on d.
func (t *tmpl) exec(d data) (string, error) {
	var b strings.Builder
	err := t.t.Execute(&b, d)
	return b.String(), err
}

// missing returns the first id kind the template names that s lacks.
func (t *tmpl) missing(s offboard.Subject) (string, bool) {
	for _, k := range t.ids {
		if _, ok := s.IDs[k]; !ok {
			return k, true
		}
	}
	return "", false
}

// escapePath makes every value the path prints escaped for where it
// stands: an action after the path's first literal "?" ends in urlquery,
// any other in pathescape, unless its last command already is one of the
// two. So a value can never add a segment, a "..", a query or a fragment
// of its own, and the request stays below base_url.
func escapePath(t *tmpl) {
	inQuery := false
	walkList(t.t.Root, func(n parse.Node) {
		switch n := n.(type) {
		case *parse.TextNode:
			if strings.Contains(string(n.Text), "?") {
				inQuery = true
			}
		case *parse.ActionNode:
			if len(n.Pipe.Decl) > 0 || endsIn(n.Pipe, "pathescape", "urlquery") {
				return
			}
			name := "pathescape"
			if inQuery {
				name = "urlquery"
			}
			id := parse.NewIdentifier(name).SetTree(t.t.Tree).SetPos(n.Pos)
			n.Pipe.Cmds = append(n.Pipe.Cmds, &parse.CommandNode{NodeType: parse.NodeCommand, Pos: n.Pos, Args: []parse.Node{id}})
		}
	})
}

// requireJSON reports an action of the body that prints a value without
// encoding it with json: a JSON body stays JSON whatever the subject's
// fields hold.
func requireJSON(t *tmpl) error {
	var bad []string
	walkList(t.t.Root, func(n parse.Node) {
		if a, ok := n.(*parse.ActionNode); ok && len(a.Pipe.Decl) == 0 && !endsIn(a.Pipe, "json") {
			bad = append(bad, a.String())
		}
	})
	if len(bad) > 0 {
		return fmt.Errorf("every value the body prints must be encoded with json, e.g. {{json .Email}} (with its quotes); not: %s", strings.Join(bad, " "))
	}
	return nil
}

// endsIn reports whether the pipeline's last command is a call of one of
// the functions names.
func endsIn(p *parse.PipeNode, names ...string) bool {
	if len(p.Cmds) == 0 || len(p.Cmds[len(p.Cmds)-1].Args) == 0 {
		return false
	}
	id, ok := p.Cmds[len(p.Cmds)-1].Args[0].(*parse.IdentifierNode)
	return ok && slices.Contains(names, id.Ident)
}

// walkList calls f on every node of l that prints or holds text, in
// order, descending into if, range and with (not into their pipelines).
func walkList(l *parse.ListNode, f func(parse.Node)) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		f(n)
		switch n := n.(type) {
		case *parse.IfNode:
			walkList(n.List, f)
			walkList(n.ElseList, f)
		case *parse.RangeNode:
			walkList(n.List, f)
			walkList(n.ElseList, f)
		case *parse.WithNode:
			walkList(n.List, f)
			walkList(n.ElseList, f)
		}
	}
}

// walk calls f on every node under l, pipelines and arguments included.
func walk(l *parse.ListNode, f func(parse.Node)) {
	var pipe func(p *parse.PipeNode)
	pipe = func(p *parse.PipeNode) {
		if p == nil {
			return
		}
		for _, v := range p.Decl {
			f(v)
		}
		for _, c := range p.Cmds {
			for _, a := range c.Args {
				f(a)
				switch a := a.(type) {
				case *parse.PipeNode:
					pipe(a)
				case *parse.ChainNode:
					if p, ok := a.Node.(*parse.PipeNode); ok {
						pipe(p)
					}
				}
			}
		}
	}
	walkList(l, func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ActionNode:
			pipe(n.Pipe)
		case *parse.IfNode:
			pipe(n.Pipe)
		case *parse.RangeNode:
			pipe(n.Pipe)
		case *parse.WithNode:
			pipe(n.Pipe)
		case *parse.TemplateNode:
			f(n)
			pipe(n.Pipe)
		}
	})
}

// checkPath reports whether p, a filled-in path, is only a path: it
// starts with one "/", has no empty, "." or ".." segment (escaped or not),
// no scheme, host or fragment. It returns the path and the query apart.
func checkPath(p string) (string, url.Values, error) {
	path, rawQuery, _ := strings.Cut(p, "?")
	u, err := url.Parse(path)
	if err != nil || !strings.HasPrefix(path, "/") || u.Scheme != "" || u.Host != "" || u.User != nil || u.Fragment != "" || strings.Contains(path, "#") {
		return "", nil, errors.New("not a path below base_url")
	}
	// As vendorapi.Client does, a "." or ".." is refused once decoded
	// too, even inside an escaped segment ("..%2Fadmin"): a server that
	// decodes before routing would climb.
	for seg := range strings.SplitSeq(u.Path, "/") {
		if seg == "." || seg == ".." {
			return "", nil, errors.New(`not a path below base_url: a "." or ".." segment`)
		}
	}
	raw := strings.Split(u.EscapedPath(), "/")
	for _, seg := range raw[1 : len(raw)-1] {
		if seg == "" {
			return "", nil, errors.New("not a path below base_url: an empty segment")
		}
	}
	if strings.Contains(rawQuery, "#") {
		return "", nil, errors.New("a fragment is not allowed")
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", nil, errors.New("the query does not parse")
	}
	if len(q) == 0 {
		q = nil
	}
	return path, q, nil
}
