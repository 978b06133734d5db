package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestGoogleCredentialsNeedsTheSimulator: run's --google-credentials
// writes the simulator's demo key; without --simulator it is a usage
// mistake, refused before anything starts.
func TestGoogleCredentialsNeedsTheSimulator(t *testing.T) {
	var out, errOut bytes.Buffer
	code := runMain(t.Context(), []string{"run", "--google-credentials", filepath.Join(t.TempDir(), "sa.json")}, &out, &errOut)
	if code != 2 || !strings.Contains(errOut.String(), "needs --simulator") {
		t.Errorf("run --google-credentials without --simulator: exit %d, %q; want 2 naming --simulator", code, errOut.String())
	}
}
