package config

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
)

const masked = "<secret>"

// Secret is a string that never prints: String, GoString, every fmt verb,
// MarshalJSON, MarshalText, MarshalYAML and slog's LogValue all give
// "<secret>", so zerolog's Stringer, Interface and Any fields print it masked
// too. Reveal returns the value; only a conversion like string(s) bypasses the
// mask, so keep it a Secret until the moment it is used.
type Secret string

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// String returns "<secret>".
func (Secret) String() string { return masked }

// GoString returns "<secret>", for %#v.
func (Secret) GoString() string { return masked }

// Format writes "<secret>" for every verb (quoted for %q), so that no verb,
// %x and %d included, prints the value.
func (Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		_, _ = io.WriteString(f, strconv.Quote(masked))
		return
	}
	_, _ = io.WriteString(f, masked)
}

// MarshalJSON returns the JSON string "<secret>".
func (Secret) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(masked)), nil }

// MarshalText returns "<secret>".
func (Secret) MarshalText() ([]byte, error) { return []byte(masked), nil }

// MarshalYAML returns "<secret>".
func (Secret) MarshalYAML() (any, error) { return masked, nil }

// LogValue returns "<secret>" for log/slog.
func (Secret) LogValue() slog.Value { return slog.StringValue(masked) }

// walk returns a copy of v (a settings value) with every Secret replaced by
// f's result; lists stay []any and mappings map[string]any.
func walk(v any, f func(Secret) any) any {
	switch v := v.(type) {
	case Secret:
		return f(v)
	case []any:
		out := make([]any, len(v))
		for i, item := range v {
			out[i] = walk(item, f)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, item := range v {
			out[k] = walk(item, f)
		}
		return out
	}
	return v
}

func reveal(s Secret) any { return s.Reveal() }

func mask(Secret) any { return masked }
