package config

import (
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	env := envOf(map[string]string{"A": "alpha", "EMPTY": "", "B_2": "beta"})
	tests := []struct {
		name, in, want, err string
	}{
		{"text without a dollar is unchanged", "plain text", "plain text", ""},
		{"a variable is replaced", "x-${A}-y", "x-alpha-y", ""},
		{"several variables are replaced", "${A}${B_2}", "alphabeta", ""},
		{"a set but empty variable is empty", "[${EMPTY}]", "[]", ""},
		{"a default applies when unset", "${NOPE:-fallback}", "fallback", ""},
		{"a default applies when empty", "${EMPTY:-fallback}", "fallback", ""},
		{"a default is ignored when set", "${A:-fallback}", "alpha", ""},
		{"a default may be empty", "[${NOPE:-}]", "[]", ""},
		{"a default may hold a variable", "${NOPE:-${A}}", "alpha", ""},
		{"a default may hold :- and $$", "${NOPE:-a:-b $$}", "a:-b $", ""},
		{"$$ is a dollar", "cost $$5", "cost $5", ""},
		{"$${A} is literal", "$${A}", "${A}", ""},
		{"a bare $ stays", "pa$word $ $A", "pa$word $ $A", ""},
		{"a trailing $ stays", "end$", "end$", ""},
		{"the result is not expanded again", "${DOLLAR}", "${A}", ""},
		{"an unset variable is an error naming it", "${HR_WEBHOOK_SECRET}", "", "environment variable HR_WEBHOOK_SECRET is not set"},
		{"an unset variable in a default is an error", "${NOPE:-${ALSO_NOPE}}", "", "environment variable ALSO_NOPE is not set"},
		{"an unterminated reference is an error", "abc${A", "", "unterminated ${"},
		{"an empty name is an error", "${}", "", "invalid ${…}"},
		{"a name starting with a digit is an error", "${1A}", "", "invalid ${…}"},
		{"a name with a dash is an error", "${A-B}", "", "invalid ${…}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookup := env
			if tt.name == "the result is not expanded again" {
				lookup = envOf(map[string]string{"DOLLAR": "${A}", "A": "alpha"})
			}
			got, err := expand(tt.in, lookup)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("expand(%q) error = %v, want %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestExpandAppliesToValuesNotKeys(t *testing.T) {
	data := []byte(`
sources: [{name: hr, type: generic, secret: s}]
connectors:
  - name: http
    type: http
    headers:
      ${A}: ${A}
    note: '${A}: [not, yaml]'
`)
	cfg, err := Parse(data, envOf(map[string]string{"A": "alpha"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Connectors[0].Settings()
	if got := s["headers"].(map[string]any)["${A}"]; got != "alpha" {
		t.Errorf("headers = %v, want key ${A} kept and its value expanded", s["headers"])
	}
	if got := s["note"]; got != "alpha: [not, yaml]" {
		t.Errorf("note = %#v, want the expanded text as a string", got)
	}
}
