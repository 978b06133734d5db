package zoom

import (
	"testing"
	"unicode/utf8"
)

// FuzzZoomError: Zoom's error-body reader takes any bytes without a panic,
// and what it returns is bounded (the shared client sanitizes it further);
// the seeds are in testdata/fuzz/FuzzZoomError.
func FuzzZoomError(f *testing.F) {
	f.Add([]byte(`{"code":1001,"message":"User does not exist: a@example.com."}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		out := readError(body)
		if len(out) > 300+32 {
			t.Fatalf("%d bytes of summary from a %d-byte body", len(out), len(body))
		}
		if utf8.ValidString(string(body)) && !utf8.ValidString(out) {
			t.Fatalf("summary %q of a valid body is not valid utf-8", out)
		}
	})
}

func TestZoomErrorBodies(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"a code and a message", `{"code":1001,"message":"User does not exist: a@example.com."}`, "code 1001: User does not exist: a@example.com."},
		{"a rate limit", `{"code":429,"message":"You have reached the maximum per-second rate limit for this API. Try again later."}`, "code 429: You have reached the maximum per-second rate limit for this API. Try again later."},
		{"a code alone", `{"code":300}`, "code 300"},
		{"a message alone", `{"message":"Not Found"}`, "Not Found"},
		{"a code that is no number is left out", `{"code":"x","message":"m"}`, "m"},
		{"an oauth error of the token endpoint has no code or message", `{"reason":"Invalid client_id or client_secret","error":"invalid_client"}`, ""},
		{"a body that is not json has none", `<html>502</html>`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := readError([]byte(tt.body)); got != tt.want {
				t.Errorf("readError(%s) = %q, want %q", tt.body, got, tt.want)
			}
		})
	}
}
