package atlassian

import (
	"testing"
	"time"
)

// FuzzAtlassianError: the error-body reader takes any bytes without a
// panic, and what it returns is made of the body (bounded by it, plus its
// own few words); the seeds are in testdata/fuzz/FuzzAtlassianError.
func FuzzAtlassianError(f *testing.F) {
	f.Add([]byte(`{"errors":[{"id":"1","status":"404","code":"ADMIN-UAM-404-2","title":"Organization not found","detail":"x"}]}`))
	f.Add([]byte(`[{"code":"forbidden","message":"nope","link":"https://example.com"}]`))
	f.Add([]byte(`{"key":"forbidden.unclaimedDomain","context":{"domain":"example.com"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if out := readError(body); len(out) > 2*len(body)+64 {
			t.Fatalf("%d bytes of summary from a %d-byte body", len(out), len(body))
		}
	})
}

// TestAtlassianErrorBodies reads the error bodies of Atlassian's admin
// APIs into one line.
func TestAtlassianErrorBodies(t *testing.T) {
	for _, tt := range []struct{ name, body, want string }{
		{"the organizations API's errors", `{"errors":[{"id":"9f2","status":"404","code":"ADMIN-UAM-404-2","title":"Organization not found","detail":"No organization with id 0a1b"}]}`,
			"ADMIN-UAM-404-2: Organization not found: No organization with id 0a1b"},
		{"several errors, each one", `{"errors":[{"code":"ADMIN-UAM-400-1","title":"Bad Request"},{"code":"ADMIN-UAM-400-2","title":"Inactive user","detail":null}]}`,
			"ADMIN-UAM-400-1: Bad Request; ADMIN-UAM-400-2: Inactive user"},
		{"an error with a title alone", `{"errors":[{"title":"Too Many Requests"}]}`, "Too Many Requests"},
		{"the lifecycle API's list of errors", `[{"code":"forbidden","message":"You cannot deactivate this account","link":"https://support.atlassian.com"}]`,
			"forbidden: You cannot deactivate this account"},
		{"the gateway's numeric code", `{"code":401,"message":"Unauthorized"}`, "401: Unauthorized"},
		{"a message alone", `{"message":"Unauthorized; scope does not match"}`, "Unauthorized; scope does not match"},
		{"an unmanaged account", `{"key":"forbidden.unclaimedDomain","context":{"domain":"example.com"}}`, "forbidden.unclaimedDomain (example.com)"},
		{"a forbidden key", `{"key":"forbidden"}`, "forbidden"},
		{"an empty list", `[]`, ""},
		{"not json", `<html>Bad Gateway</html>`, ""},
		{"json of another shape", `{"error":"nope"}`, ""},
		{"empty", ``, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := readError([]byte(tt.body)); got != tt.want {
				t.Errorf("readError = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestAtlassianReadReset: an ISO 8601 reset is seconds from now, rounded
// up, within 1 s and an hour; a number or nothing is left to the shared
// classifier.
func TestAtlassianReadReset(t *testing.T) {
	now := time.Date(2026, 3, 26, 16, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		v, want string
		ok      bool
	}{
		{"2026-03-26T16:00:30Z", "30", true},
		{"2026-03-26T16:00:30.200Z", "31", true},
		{"2026-03-26T17:00:00+01:00", "1", true}, // 16:00 UTC: now
		{"2026-03-26T16:01Z", "60", true},
		{"2026-03-26T15:00:00Z", "1", true},
		{"2026-03-27T16:00:00Z", "3600", true},
		{"1774540830", "", false},
		{"", "", false},
		{"soon", "", false},
	} {
		got, ok := readReset(tt.v, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("readReset(%q) = %q, %v; want %q, %v", tt.v, got, ok, tt.want, tt.ok)
		}
	}
}
