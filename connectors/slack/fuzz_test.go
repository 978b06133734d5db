package slack

import (
	"strings"
	"testing"
)

// FuzzSlackError: Slack's error-body reader takes any bytes without a
// panic, and what it returns is short and made only of the characters of
// an error code or a scope list; the seeds are in
// testdata/fuzz/FuzzSlackError.
func FuzzSlackError(f *testing.F) {
	f.Add([]byte(`{"ok":false,"error":"ratelimited"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		out := readError(body)
		if len(out) > 2*100+16 {
			t.Fatalf("%d bytes of summary from a %d-byte body", len(out), len(body))
		}
		for _, r := range strings.TrimSuffix(strings.Replace(out, " (needed: ", "", 1), ")") {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_.:,-", r)) {
				t.Fatalf("summary %q holds %q", out, r)
			}
		}
	})
}

func TestSlackErrorBodies(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"a rate limit's body gives its code", `{"ok":false,"error":"ratelimited"}`, "ratelimited"},
		{"a missing scope names the scope needed", `{"ok":false,"error":"missing_scope","needed":"admin.users:write","provided":"users:read"}`, "missing_scope (needed: admin.users:write)"},
		{"an ok answer has no error", `{"ok":true}`, ""},
		{"a body that is not json has none", `<html>502 Bad Gateway</html>`, ""},
		{"a code with characters no slack code has is dropped", `{"ok":false,"error":"bad\ncode <script>"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := readError([]byte(tt.body)); got != tt.want {
				t.Errorf("readError(%s) = %q, want %q", tt.body, got, tt.want)
			}
		})
	}
}
