package config

import (
	"errors"
	"fmt"
	"strings"
)

// expand replaces ${VAR} with env's value for VAR and ${VAR:-default} with
// the value, or with default (itself expanded) when VAR is unset or empty.
// $$ is a literal $, and a $ followed by anything else stays as it is. An
// unset VAR without default is an error naming VAR; no error holds any part
// of s other than a variable name.
func expand(s string, env func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$$"):
			b.WriteByte('$')
			i += 2
		case strings.HasPrefix(s[i:], "${"):
			end := closing(s, i+2)
			if end < 0 {
				return "", errors.New("unterminated ${: missing }")
			}
			v, err := lookup(s[i+2:end], env)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			i = end + 1
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String(), nil
}

// closing returns the index of the } that ends a ${ whose body starts at i,
// past any nested ${…} and $$, or -1.
func closing(s string, i int) int {
	depth := 0
	for ; i < len(s); i++ {
		switch {
		case strings.HasPrefix(s[i:], "$$"):
			i++
		case strings.HasPrefix(s[i:], "${"):
			depth++
			i++
		case s[i] == '}':
			if depth == 0 {
				return i
			}
			depth--
		}
	}
	return -1
}

func lookup(body string, env func(string) (string, bool)) (string, error) {
	name, def, hasDef := strings.Cut(body, ":-")
	if !validVar(name) {
		return "", errors.New("invalid ${…}: want ${NAME} or ${NAME:-default} (write $$ for a literal $)")
	}
	v, ok := env(name)
	switch {
	case ok && (v != "" || !hasDef):
		return v, nil
	case hasDef:
		return expand(def, env)
	}
	return "", fmt.Errorf("environment variable %s is not set", name)
}

// validVar reports whether name is an environment variable name:
// [A-Za-z_][A-Za-z0-9_]*.
func validVar(name string) bool {
	for i, c := range name {
		if c != '_' && (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return name != ""
}
