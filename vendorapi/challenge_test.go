package vendorapi

import (
	"strings"
	"testing"
)

func TestChallengeError(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{`Bearer realm="example"`, ""},
		// Okta's answer to a refused DPoP proof
		// (https://github.com/okta/okta-sdk-nodejs/issues/453).
		{`DPoP algs="RS256 RS384 RS512 ES256 ES384 ES512", authorization_uri="http://o.okta.com/oauth2/v1/authorize", realm="http://o.okta.com", scope="okta.groups.read", error="invalid_dpop_proof", error_description="'htu' claim in the DPoP proof JWT is invalid.", resource="/api/v1/groups/00g/users"`,
			"invalid_dpop_proof: 'htu' claim in the DPoP proof JWT is invalid."},
		// RFC 6750 §3's example.
		{`Bearer realm="example", error="invalid_token", error_description="The access token expired"`, "invalid_token: The access token expired"},
		// RFC 9449 §7.1's example, and a nonce challenge (§9).
		{`DPoP error="invalid_token", error_description="Invalid DPoP key binding", algs="ES256"`, "invalid_token: Invalid DPoP key binding"},
		{`DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`, "use_dpop_nonce: Resource server requires nonce in DPoP proof"},
		{`Bearer error=insufficient_scope, scope="a b"`, "insufficient_scope"},
		{`Bearer error_description="only a description"`, "only a description"},
		{`Bearer ERROR="upper"`, "upper"},
		{`Bearer error="first", error="second"`, "first"},
		{`Bearer error="say \"no\" \\ twice"`, `say "no" \ twice`},
		{`Basic realm="x", Bearer error="second challenge"`, "second challenge"},
		{`Negotiate abc==, Bearer error="after token68"`, "after token68"},
		{`Bearer error="unterminated`, ""},
		{`Bearer error="ok", "stray"`, "ok"},
	} {
		if got := challengeError(tc.in); got != tc.want {
			t.Errorf("challengeError(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzChallengeError: any header yields a result no longer than the header,
// without a panic; the seeds are in testdata/fuzz/FuzzChallengeError.
func FuzzChallengeError(f *testing.F) {
	f.Add(`DPoP algs="ES256", error="invalid_dpop_proof", error_description="'htu' claim in the DPoP proof JWT is invalid."`)
	f.Fuzz(func(t *testing.T, h string) {
		got := challengeError(h)
		if len(got) > len(h) {
			t.Fatalf("challengeError(%q) = %q: longer than its input", h, got)
		}
		if got != "" && !strings.Contains(h, "=") {
			t.Fatalf("challengeError(%q) = %q without any parameter", h, got)
		}
	})
}
