package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/rs/zerolog"
)

// TestGoRedisLinesGoToTheLog: what go-redis logs (a sentinel naming a new
// master) is a JSON line of the process's log, marked as Redis's.
func TestGoRedisLinesGoToTheLog(t *testing.T) {
	var b bytes.Buffer
	redisLog{zerolog.New(&b).With().Str("component", "redis").Logger()}.Printf(t.Context(), "sentinel: new master=%q addr=%q", "offboarder", "127.0.0.1:6380")
	var line map[string]any
	if err := json.Unmarshal(b.Bytes(), &line); err != nil {
		t.Fatalf("%v: %q", err, b.String())
	}
	if line["component"] != "redis" || line["message"] != `sentinel: new master="offboarder" addr="127.0.0.1:6380"` || line["level"] != "info" {
		t.Fatalf("%v", line)
	}
}
