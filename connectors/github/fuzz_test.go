package github

import (
	"net/http"
	"testing"
)

// FuzzGitHubError: GitHub's error-body reader and its rate-limit reader
// take any bytes without a panic, and the summary is made of the body
// (bounded by it, plus its own few characters); the seeds are in
// testdata/fuzz/FuzzGitHubError.
func FuzzGitHubError(f *testing.F) {
	f.Add([]byte(`{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if out := readError(body); len(out) > 2*len(body)+64 {
			t.Fatalf("%d bytes of summary from a %d-byte body", len(out), len(body))
		}
		_ = rateLimited(http.StatusForbidden, body)
	})
}
