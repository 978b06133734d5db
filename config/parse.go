package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

// parser walks the YAML node tree, collecting every problem with its key path.
type parser struct {
	env      func(string) (string, bool)
	readFile func(string) ([]byte, error)
	errs     []error
	nodes    int                 // values walked, aliases counted each time they are followed
	stopped  bool                // a limit was hit: walk no further
	open     map[*yaml.Node]bool // the lists and mappings being walked, to catch alias loops
}

const (
	maxDepth = 32     // levels of nesting inside an entry
	maxNodes = 100000 // values in the whole file, after following aliases
)

func (p *parser) fail(path string, n *yaml.Node, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if n != nil && n.Line > 0 {
		msg += fmt.Sprintf(" (line %d)", n.Line)
	}
	p.errs = append(p.errs, errors.New(path+": "+msg))
}

// parse returns the config with defaults, or nil when the file cannot be
// read as a YAML mapping at all.
func (p *parser) parse(data []byte) *Config {
	cfg := &Config{Worker: defaultWorker(), Notifications: Notifications{On: defaultNotifyOn}, Policy: defaultPolicy(), Server: defaultServer()}
	root, err := document(data)
	if err != nil {
		p.errs = append(p.errs, err)
		return nil
	}
	if root == nil {
		return cfg
	}
	if root.Kind != yaml.MappingNode {
		p.fail("config", root, "the top level must be a mapping of sources, connectors, worker and policy")
		return nil
	}
	p.each("", root, func(key string, k, v *yaml.Node) {
		switch key {
		case "sources":
			cfg.Sources = p.entries(key, v)
		case "connectors":
			cfg.Connectors = p.entries(key, v)
		case "worker":
			p.worker(v, &cfg.Worker)
		case "policy":
			p.policy(v, &cfg.Policy)
		case "notifications":
			p.notifications(v, &cfg.Notifications)
		case "server":
			p.server(v, &cfg.Server)
		default:
			p.fail(key, k, "unknown key (want sources, connectors, worker, policy, notifications or server)")
		}
	})
	return cfg
}

// document decodes the single YAML document in data; nil for an empty file
// or a null document.
func document(data []byte) (root *yaml.Node, err error) {
	defer func() {
		if recover() != nil {
			root, err = nil, errors.New("yaml: the parser failed on this file")
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc, extra yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("yaml: line %d: only one document is allowed", extra.Line)
	} else if !errors.Is(err, io.EOF) {
		return nil, err
	}
	root = deref(&doc)
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, nil
		}
		root = deref(root.Content[0])
	}
	if isNull(root) {
		return nil, nil
	}
	return root, nil
}

// each calls fn for every key of the mapping n, in file order, after
// reporting and skipping keys that are not strings, merge keys and
// duplicates. path is the mapping's key path ("" at the top level).
func (p *parser) each(path string, n *yaml.Node, fn func(key string, k, v *yaml.Node)) {
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case k.Kind != yaml.ScalarNode:
			p.fail(orTop(path), k, "every key must be a string")
		case k.ShortTag() == "!!merge":
			p.fail(join(path, k.Value), k, "merge keys (<<) are not supported")
		case seen[k.Value]:
			p.fail(join(path, k.Value), k, "duplicate key")
		default:
			seen[k.Value] = true
			fn(k.Value, k, v)
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orTop(path string) string {
	if path == "" {
		return "config"
	}
	return path
}

// deref follows aliases to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < maxDepth; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// str returns the expanded string value of n; "" for null.
func (p *parser) str(path string, n *yaml.Node) (string, bool) {
	n = deref(n)
	if isNull(n) {
		return "", true
	}
	if n.Kind != yaml.ScalarNode {
		p.fail(path, n, "must be a single value, not a list or mapping")
		return "", false
	}
	return p.expand(path, n)
}

func (p *parser) expand(path string, n *yaml.Node) (string, bool) {
	s, err := expand(n.Value, p.env)
	if err != nil {
		p.fail(path, n, "%s", err)
		return "", false
	}
	return s, true
}

// mapping returns n as a mapping; nil (and no problem) for null.
func (p *parser) mapping(path string, n *yaml.Node) *yaml.Node {
	n = deref(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.fail(path, n, "must be a mapping")
		return nil
	}
	return n
}

func (p *parser) worker(n *yaml.Node, w *Worker) {
	if n = p.mapping("worker", n); n == nil {
		return
	}
	p.each("worker", n, func(key string, k, v *yaml.Node) {
		path := "worker." + key
		switch key {
		case "concurrency":
			p.int(path, v, &w.Concurrency)
		case "task_check_interval":
			p.duration(path, v, &w.TaskCheckInterval)
		case "relay_interval":
			p.duration(path, v, &w.RelayInterval)
		case "shutdown_timeout":
			p.duration(path, v, &w.ShutdownTimeout)
		case "max_retry":
			p.int(path, v, &w.MaxRetry)
		default:
			p.fail(path, k, "unknown key (want concurrency, task_check_interval, relay_interval, shutdown_timeout or max_retry)")
		}
	})
}

// int sets *dst from n; an empty value keeps the default.
func (p *parser) int(path string, n *yaml.Node, dst *int) {
	if s, ok := p.str(path, n); ok && s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			p.fail(path, n, "must be a whole number")
			return
		}
		*dst = v
	}
}

// duration sets *dst from n; an empty value keeps the default.
func (p *parser) duration(path string, n *yaml.Node, dst *time.Duration) {
	if s, ok := p.str(path, n); ok && s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			p.fail(path, n, "must be a duration such as 25ms, 10s or 5m")
			return
		}
		*dst = d
	}
}
