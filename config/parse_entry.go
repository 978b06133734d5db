package config

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// entries parses the list of sources or connectors under key list. An item
// that is not a mapping is reported and left out.
func (p *parser) entries(list string, n *yaml.Node) []Entry {
	n = deref(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.fail(list, n, "must be a list of entries, each with name and type")
		return nil
	}
	out := make([]Entry, 0, len(n.Content))
	for i, item := range n.Content {
		path := fmt.Sprintf("%s[%d]", list, i)
		if item = deref(item); item.Kind != yaml.MappingNode {
			p.fail(path, item, "must be a mapping with name, type and the keys of its type")
			continue
		}
		out = append(out, p.entry(path, item))
	}
	return out
}

func (p *parser) entry(path string, n *yaml.Node) Entry {
	e := Entry{Path: path, line: n.Line}
	// The name first, so that every later message can say which entry.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == "name" {
			e.Name, _ = p.str(path+".name", n.Content[i+1])
			break
		}
	}
	at := label(path, e.Name)
	e.settings, e.secretKeys = p.object(at, n, 0, func(key string, k, v *yaml.Node) bool {
		switch key {
		case "name":
		case "type":
			e.Type, _ = p.str(at+".type", v)
		case "name_file", "type_file":
			p.fail(at+"."+key, k, "name and type cannot be read from a file")
		default:
			return false
		}
		return true
	})
	return e
}

// object converts the mapping n into settings: a key x_file is read into x
// as a Secret, a key with a secret name holds Secret values. It returns the
// settings and the set of its keys that hold secrets. skip, when not nil,
// takes the keys that are not settings.
func (p *parser) object(path string, n *yaml.Node, depth int, skip func(key string, k, v *yaml.Node) bool) (map[string]any, map[string]bool) {
	out := map[string]any{}
	secrets := map[string]bool{}
	type file struct {
		base string
		k, v *yaml.Node
	}
	var files []file
	p.each(path, n, func(key string, k, v *yaml.Node) {
		if skip != nil && skip(key, k, v) {
			return
		}
		if base, ok := strings.CutSuffix(key, "_file"); ok && base != "" {
			files = append(files, file{base, k, v})
			return
		}
		secret := isSecretName(key) || inSecretMapping(path)
		out[key] = p.value(join(path, key), secret, v, depth+1)
		if secret && out[key] != nil {
			secrets[key] = true
		}
	})
	for _, f := range files {
		key := f.base + "_file"
		if _, both := out[f.base]; both {
			p.fail(join(path, key), f.k, "both %s and %s are set: use one", f.base, key)
			continue
		}
		if v := p.readSecret(join(path, key), f.v); v != nil {
			out[f.base] = v
			secrets[f.base] = true
		}
	}
	return out, secrets
}

// value converts n; under a secret key every scalar becomes a Secret.
func (p *parser) value(path string, secret bool, n *yaml.Node, depth int) any {
	at := n
	if n = deref(n); !p.spend(path, n, depth) {
		return nil
	}
	if n.Kind == yaml.SequenceNode || n.Kind == yaml.MappingNode {
		if p.open[n] {
			p.fail(path, at, "an alias refers to a list or mapping that contains it")
			p.stopped = true
			return nil
		}
		p.open[n] = true
		defer delete(p.open, n)
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return p.scalar(path, secret, n)
	case yaml.SequenceNode:
		list := make([]any, 0, len(n.Content))
		for i, item := range n.Content {
			list = append(list, p.value(fmt.Sprintf("%s[%d]", path, i), secret, item, depth+1))
		}
		return list
	case yaml.MappingNode:
		if secret {
			p.fail(path, n, "a secret must be a string or a list of strings")
			return nil
		}
		m, _ := p.object(path, n, depth, nil)
		return m
	}
	p.fail(path, n, "unsupported value")
	return nil
}

// spend counts n against the limits that keep aliases from looping or
// multiplying; false once a limit is hit.
func (p *parser) spend(path string, n *yaml.Node, depth int) bool {
	if p.stopped || n == nil {
		return false
	}
	p.nodes++
	switch {
	case depth > maxDepth:
		p.fail(path, n, "nested more than %d levels deep (an alias that contains itself?)", maxDepth)
	case p.nodes > maxNodes:
		p.fail(path, n, "more than %d values in the file (aliases repeated too often?)", maxNodes)
	default:
		return true
	}
	p.stopped = true
	return false
}

// scalar returns a secret as Secret, a string (expanded) as string, and
// plain numbers and booleans as int, float64 or bool; null is nil.
func (p *parser) scalar(path string, secret bool, n *yaml.Node) any {
	tag := n.ShortTag()
	if tag == "!!null" {
		return nil
	}
	if secret {
		s, _ := p.expand(path, n)
		return Secret(s)
	}
	switch tag {
	case "!!int", "!!float", "!!bool":
		var v any
		if err := n.Decode(&v); err != nil {
			p.fail(path, n, "invalid %s value", strings.TrimPrefix(tag, "!!"))
			return nil
		}
		return v
	}
	s, _ := p.expand(path, n)
	return s
}

// readSecret reads the file, or each file of a list, named by n; the value
// is a Secret or a list of them, the trailing newlines of the file trimmed.
func (p *parser) readSecret(path string, n *yaml.Node) any {
	n = deref(n)
	if n != nil && n.Kind == yaml.SequenceNode {
		list := make([]any, 0, len(n.Content))
		for i, item := range n.Content {
			if v := p.readOne(fmt.Sprintf("%s[%d]", path, i), deref(item)); v != nil {
				list = append(list, v)
			}
		}
		return list
	}
	return p.readOne(path, n)
}

// readOne reads one secret file; nil after a problem.
func (p *parser) readOne(path string, n *yaml.Node) any {
	if isNull(n) || n.Kind != yaml.ScalarNode {
		p.fail(path, n, "must be a file path or a list of file paths")
		return nil
	}
	name, ok := p.expand(path, n)
	if !ok {
		return nil
	}
	if name == "" {
		p.fail(path, n, "the file path is empty")
		return nil
	}
	data, err := p.readFile(name)
	if err != nil {
		p.fail(path, n, "cannot read %s: %s", name, pathless(err))
		return nil
	}
	return Secret(strings.TrimRight(string(data), "\r\n"))
}
