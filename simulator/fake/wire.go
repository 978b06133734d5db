package fake

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxBody caps a request body that a vendor fake reads.
const MaxBody = 64 << 10

// WriteJSON answers v as JSON with that status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// OAuth2Fail writes an OAuth 2.0 error (RFC 6749 §5.2).
func OAuth2Fail(w http.ResponseWriter, status int, code, description string) {
	WriteJSON(w, status, map[string]string{"error": code, "error_description": description})
}

// CallerURL is the URL the caller reached, with path p.
func CallerURL(r *http.Request, p string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + p
}

// RandomHex returns n random bytes in hex.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// SameSecret compares a presented credential with the configured one in
// constant time.
func SameSecret(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// NormalEmail is email as the fakes keep it: trimmed and in lower case.
func NormalEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// Names derives a first and a last name from an email's local part:
// "jane.doe@…" is Jane Doe, "alice@…" Alice Simulated.
func Names(email string) (first, last string) {
	local, _, _ := strings.Cut(email, "@")
	parts := strings.FieldsFunc(local, func(r rune) bool { return strings.ContainsRune("._-+", r) })
	for i, p := range parts {
		r, size := utf8.DecodeRuneInString(p)
		parts[i] = string(unicode.ToUpper(r)) + p[size:]
	}
	switch len(parts) {
	case 0:
		return "User", "Simulated"
	case 1:
		return parts[0], "Simulated"
	}
	return parts[0], strings.Join(parts[1:], " ")
}
