package scim

import (
	"errors"
	"testing"
)

// FuzzSCIMFilter: the filter parser takes any string without a panic; it
// either refuses it as invalidFilter or gives an eq filter on a known
// attribute whose value has the attribute's type; the seeds are in
// testdata/fuzz/FuzzSCIMFilter.
func FuzzSCIMFilter(f *testing.F) {
	f.Add(`userName eq "alice@example.com"`)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseFilter(s)
		if err != nil {
			if !errors.Is(err, errFilter) {
				t.Fatalf("parseFilter(%q): error %v is not invalidFilter", s, err)
			}
			return
		}
		switch v := got.value.(type) {
		case nil:
		case bool:
			if got.attr != "active" {
				t.Fatalf("parseFilter(%q) = %+v: a bool for %s", s, got, got.attr)
			}
		case string:
			if got.attr == "active" {
				t.Fatalf("parseFilter(%q) = %+v: a string for active", s, got)
			}
			_ = v
		default:
			t.Fatalf("parseFilter(%q) = %+v: value of type %T", s, got, v)
		}
		known := false
		for _, a := range attrs {
			known = known || a == got.attr
		}
		if !known {
			t.Fatalf("parseFilter(%q) = %+v: unknown attribute", s, got)
		}
	})
}
