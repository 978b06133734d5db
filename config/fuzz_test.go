package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fileCanary is the content of every file FuzzParse lets Parse read: it must
// never show in an error or in Redacted.
const fileCanary = "FILECANARY"

func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.yaml")
	bad, _ := filepath.Glob("testdata/bad/*.yaml")
	for _, name := range append(seeds, bad...) {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	env := func(name string) (string, bool) {
		if strings.HasPrefix(name, "UNSET") {
			return "", false
		}
		return "env-" + name, true
	}
	readFile := func(name string) ([]byte, error) {
		if strings.Contains(name, "missing") {
			return nil, errors.New("no such file")
		}
		return []byte(fileCanary + "\n"), nil
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, env, readFile)
		watch := !bytes.Contains(data, []byte(fileCanary))
		if err != nil {
			if cfg != nil {
				t.Error("a config returned with an error")
			}
			if watch && strings.Contains(err.Error(), fileCanary) {
				t.Errorf("a secret in the error: %v", err)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("Parse accepted what Validate rejects: %v", err)
		}
		if out := cfg.Redacted(); watch && bytes.Contains(out, []byte(fileCanary)) {
			t.Errorf("a secret in Redacted:\n%s", out)
		}
		for _, e := range append(cfg.Sources, cfg.Connectors...) {
			_ = e.Settings()
		}
	})
}
