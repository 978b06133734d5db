package main

import (
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// TestResolveWithMustNameAFinder: an ssf source's resolve_with must name a
// configured connector that can look a user up by id; the error names the
// key path.
func TestResolveWithMustNameAFinder(t *testing.T) {
	config := func(resolveWith string) string {
		return "sources:\n  - name: caep\n    type: ssf\n    issuer: https://idp.example.com/\n    audience: https://offboarder.example.com\n" +
			"    jwks_uri: https://idp.example.com/jwks.json\n    resolve_with: " + resolveWith + "\n" +
			"connectors:\n  - name: okta\n    type: okta\n    base_url: https://example.okta.com\n    token: okta-token-0123456789\n" +
			"  - name: zendesk\n    type: zendesk\n    base_url: https://example.zendesk.com\n    email: admin@example.com\n    token: zendesk-token-0123456789\n"
	}
	tests := []struct{ resolveWith, want string }{
		{"okta", ""},
		{"nope", `sources[0] (caep).resolve_with: no connector is named "nope"`},
		{"zendesk", `sources[0] (caep).resolve_with: connector "zendesk" cannot look a user up by id`},
	}
	for _, tt := range tests {
		t.Run(tt.resolveWith, func(t *testing.T) {
			_, srcs, _, err := load(writeConfig(t, config(tt.resolveWith)), zerolog.Nop())
			switch {
			case tt.want == "" && (err != nil || len(srcs) != 1):
				t.Fatalf("load = %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("load = %v, want an error with %q", err, tt.want)
			}
		})
	}
}
