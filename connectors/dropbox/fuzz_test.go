package dropbox

import (
	"testing"
	"unicode/utf8"
)

// FuzzDropboxError: Dropbox's error-body reader and its not-found test take
// any bytes without a panic, and the summary is made of the body (bounded
// by it, plus its own few words; an invalid byte in a json string decodes
// to three); the seeds are in testdata/fuzz/FuzzDropboxError.
func FuzzDropboxError(f *testing.F) {
	f.Add(409, []byte(`{"error_summary":"member_not_found/..","error":{".tag":"member_not_found"}}`))
	f.Add(401, []byte(`{"error_summary":"missing_scope/.","error":{".tag":"missing_scope","required_scope":"sessions.list"}}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		out := readError(body)
		if len(out) > 3*len(body)+64 {
			t.Fatalf("%d bytes of summary from a %d-byte body", len(out), len(body))
		}
		if utf8.Valid(body) && !utf8.ValidString(out) {
			t.Fatalf("summary %q of a valid utf-8 body is not valid utf-8", out)
		}
		if memberGone(status, body) && status != 409 {
			t.Fatalf("status %d read as a member gone", status)
		}
	})
}
