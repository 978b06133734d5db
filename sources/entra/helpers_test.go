package entra

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/offboarder/offboarder/sources"
)

// build opens specs with this package's type alone.
func build(specs []sources.Spec) ([]sources.Source, error) {
	return buildWith(specs, sources.Deps{})
}

// buildWith opens specs with this package's type alone and deps.
func buildWith(specs []sources.Spec, deps sources.Deps) ([]sources.Source, error) {
	return sources.Build(specs, map[string]func() sources.Config{"entra": func() sources.Config { return new(Config) }}, deps)
}

// testdataFile reads testdata/<name>, a delivery rebuilt from the sender's
// documentation.
func testdataFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
