package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("CANARY-value")
	if s.Reveal() != "CANARY-value" {
		t.Fatalf("Reveal() = %q", s.Reveal())
	}
	holder := struct{ Token Secret }{s}
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s"} {
		out = append(out, fmt.Sprintf(verb, s), fmt.Sprintf(verb, holder), fmt.Sprintf(verb, []Secret{s}))
	}
	out = append(out, s.String(), s.GoString(), fmt.Sprint(s), fmt.Sprintln(s))
	var j bytes.Buffer
	enc := json.NewEncoder(&j)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]any{"token": s, "list": []any{s}})
	y, _ := yaml.Marshal(map[string]any{"token": s, "list": []any{s}})
	txt, _ := s.MarshalText()
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "token", s)
	out = append(out, j.String(), string(y), string(txt), logged.String())
	for _, o := range out {
		if strings.Contains(o, "CANARY") || !strings.Contains(o, masked) {
			t.Errorf("printed %q", o)
		}
	}
}
