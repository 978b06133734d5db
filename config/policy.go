package config

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Policy decides what is done with a case.
type Policy struct {
	// DryRun records every entry as skipped and revokes nothing (yaml
	// "dry_run"); default false.
	DryRun bool
	// HoldAfter is the blast-radius guard (yaml "hold_after").
	HoldAfter HoldAfter
	// Protected are the emails of accounts never offboarded, such as
	// break-glass admins (yaml "protected"): trimmed and lower-cased here;
	// the wiring normalises each like every subject and refuses one that
	// is not an address. Their events are answered 422, recorded on a case
	// closed at once as dismissed, and nothing is revoked.
	Protected []string
	// Reasons maps a reason to the connectors that run for it (yaml
	// "reasons", e.g. suspended: [okta, entra]); the others' entries are
	// skipped with a detail saying so. A reason not listed runs every
	// connector. Each key is a reason word, each name a configured
	// connector.
	Reasons map[string][]string
}

// HoldAfter is the blast-radius guard: when more than Cases new cases are
// opened within Within, later ones wait as awaiting_approval until a
// person approves them; cases whose reason is in Bypass are never held
// (nor counted).
type HoldAfter struct {
	// Cases is how many new cases may open within Within before the next
	// waits (yaml "cases"); default 25, allowed 0..1000000 (0: every case
	// waits for approval).
	Cases int
	// Within is the sliding window the cases are counted over (yaml
	// "within"); default 10m, allowed 1s..24h.
	Within time.Duration
	// Bypass are the reasons never held (yaml "bypass"); default
	// [security]; an empty list holds every reason.
	Bypass []string
}

// ReasonWords are the reasons an event can carry, the words package
// offboard declares (config imports none of offboarder's packages; a test
// of the wiring checks that the two lists agree).
var ReasonWords = []string{"terminated", "suspended", "deactivated", "security", "manual"}

func defaultPolicy() Policy {
	return Policy{HoldAfter: HoldAfter{Cases: 25, Within: 10 * time.Minute, Bypass: []string{"security"}}}
}

func (p *parser) policy(n *yaml.Node, pol *Policy) {
	if n = p.mapping("policy", n); n == nil {
		return
	}
	p.each("policy", n, func(key string, k, v *yaml.Node) {
		path := "policy." + key
		switch key {
		case "dry_run":
			if s, ok := p.str(path, v); ok && s != "" {
				b, err := strconv.ParseBool(s)
				if err != nil {
					p.fail(path, v, "must be true or false")
				}
				pol.DryRun = b
			}
		case "hold_after":
			p.holdAfter(v, &pol.HoldAfter)
		case "protected":
			if l, ok := p.strList(path, v); ok {
				pol.Protected = make([]string, len(l))
				for i, s := range l {
					pol.Protected[i] = strings.ToLower(strings.TrimSpace(s))
				}
			}
		case "reasons":
			m := p.mapping(path, v)
			if m == nil {
				return
			}
			pol.Reasons = map[string][]string{}
			p.each(path, m, func(reason string, _, v *yaml.Node) {
				if l, ok := p.strList(path+"."+reason, v); ok {
					pol.Reasons[reason] = l
				}
			})
		default:
			p.fail(path, k, "unknown key (want dry_run, hold_after, protected or reasons)")
		}
	})
}

func (p *parser) holdAfter(n *yaml.Node, h *HoldAfter) {
	if n = p.mapping("policy.hold_after", n); n == nil {
		return
	}
	p.each("policy.hold_after", n, func(key string, k, v *yaml.Node) {
		path := "policy.hold_after." + key
		switch key {
		case "cases":
			p.int(path, v, &h.Cases)
		case "within":
			p.duration(path, v, &h.Within)
		case "bypass":
			if l, ok := p.strList(path, v); ok {
				h.Bypass = l
			}
		default:
			p.fail(path, k, "unknown key (want cases, within or bypass)")
		}
	})
}

// strList returns the expanded strings of the sequence n (null: an empty
// list).
func (p *parser) strList(path string, n *yaml.Node) ([]string, bool) {
	n = deref(n)
	if isNull(n) {
		return []string{}, true
	}
	if n.Kind != yaml.SequenceNode {
		p.fail(path, n, "must be a list")
		return nil, false
	}
	out := make([]string, 0, len(n.Content))
	ok := true
	for i, item := range n.Content {
		s, good := p.str(fmt.Sprintf("%s[%d]", path, i), item)
		ok = ok && good
		out = append(out, strings.TrimSpace(s))
	}
	return out, ok
}

// problems checks the policy against the configured connectors' names.
func (pol Policy) problems(connectors []Entry) []error {
	var errs []error
	h := pol.HoldAfter
	if h.Cases < 0 || h.Cases > 1000000 {
		errs = append(errs, fmt.Errorf("policy.hold_after.cases: %d is out of range 0..1000000", h.Cases))
	}
	if h.Within < time.Second || h.Within > 24*time.Hour {
		errs = append(errs, fmt.Errorf("policy.hold_after.within: %s is out of range 1s..24h", short(h.Within)))
	}
	for i, r := range h.Bypass {
		if !slices.Contains(ReasonWords, r) {
			errs = append(errs, fmt.Errorf("policy.hold_after.bypass[%d]: unknown reason %q (want one of %s)", i, r, strings.Join(ReasonWords, ", ")))
		}
	}
	seen := map[string]int{}
	for i, e := range pol.Protected {
		switch j, dup := seen[e]; {
		case !strings.Contains(e, "@"):
			errs = append(errs, fmt.Errorf("policy.protected[%d]: %q is not an email address", i, e))
		case dup:
			errs = append(errs, fmt.Errorf("policy.protected[%d]: %s is already listed at policy.protected[%d]", i, e, j))
		default:
			seen[e] = i
		}
	}
	names := map[string]bool{}
	for _, c := range connectors {
		names[c.Name] = true
	}
	for _, reason := range slices.Sorted(maps.Keys(pol.Reasons)) {
		path := "policy.reasons." + reason
		if !slices.Contains(ReasonWords, reason) {
			errs = append(errs, fmt.Errorf("%s: unknown reason %q (want one of %s)", path, reason, strings.Join(ReasonWords, ", ")))
		}
		for i, name := range pol.Reasons[reason] {
			if !names[name] {
				errs = append(errs, fmt.Errorf("%s[%d]: no connector named %q is configured", path, i, name))
			}
		}
	}
	return errs
}
