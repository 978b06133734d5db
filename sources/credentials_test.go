package sources_test

// This is an external test package: it walks registry.Sources(), and the
// registry imports every sender's package, each of which imports sources.

import (
	"strings"
	"testing"

	"github.com/offboarder/offboarder/registry"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/conformance"
)

// TestEverySourceRefusesAMissingCredential: no source type of the registry
// is built from settings that hold none of its credentials; the refusal
// names the source and each missing key ("sources[0] (src).secret:
// required") and nothing else. The registry is walked, so a new type is
// covered without a line here; each type's package runs the full credential
// suite (conformance.RefusesMissingCredentials: every credential left out,
// null, empty, blank or hostile, one at a time) on its own settings, as the
// generic source does below.
func TestEverySourceRefusesAMissingCredential(t *testing.T) {
	types := registry.Sources()
	for _, typ := range sources.Types(types) {
		t.Run(typ, func(t *testing.T) {
			srcs, err := sources.Build([]sources.Spec{{Name: "src", Type: typ, Settings: map[string]any{}}}, types, sources.Deps{})
			if err == nil {
				t.Fatalf("built %d source(s) without a single setting", len(srcs))
			}
			required := false
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "sources[0] (src).") {
					t.Errorf("an error line that names no key: %q", line)
				}
				required = required || strings.Contains(line, ": required")
			}
			if !required {
				t.Errorf("no key is said to be required:\n%v", err)
			}
		})
	}
	const secret = "test-secret-0123456789abcdef"
	conformance.RefusesMissingCredentials(t, conformance.Credentials{
		Type:  "generic",
		New:   func() sources.Config { return new(sources.GenericConfig) },
		Valid: map[string]any{"secret": secret},
		Keys:  []string{"secret"},
		Extra: map[string][]conformance.Hostile{"secret": conformance.Rotation(secret)},
	})
}
