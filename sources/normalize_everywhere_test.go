package sources

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestEveryEmailIsNormalizedOnceTheSameWay: one person written
// differently — case, a trailing dot, an internationalised domain in
// Unicode or in punycode, a decomposed accent — is the same subject in
// every source that reads an email from its delivery; an address with an
// invisible or control character produces no subject anywhere; and a
// look-alike (Cyrillic "а", Greek "ο") stays another person everywhere.
func TestEveryEmailIsNormalizedOnceTheSameWay(t *testing.T) {
	okta := newTestOkta(t, nil)
	google := newTestGoogle(t, nil)
	ssf := newTestSSF(t, nil)

	// parse runs one source's delivery for email through Parse (and
	// Verify where the source checks a signature inside the body) and
	// returns the emails of the events it gave.
	parsers := map[string]func(t *testing.T, email string) []string{
		"generic": func(t *testing.T, email string) []string {
			body, _ := json.Marshal(map[string]string{"id": "e1", "email": email, "reason": "terminated"})
			ev, err := ParseGeneric(body, true)
			if err != nil {
				return nil
			}
			return []string{ev.Email}
		},
		"okta": func(t *testing.T, email string) []string {
			body := bytes.ReplaceAll(oktaFile(t, "deactivate.json"), []byte(`"john.doe@example.com"`), jsonString(email))
			return emails(okta.Parse(&Request{Context: t.Context(), Method: http.MethodPost, Body: body}))
		},
		"google": func(t *testing.T, email string) []string {
			body := googleActivityJSON("2026-03-10T18:23:35.808Z", `"7"`, [2]string{"SUSPEND_USER", email})
			return emails(google.Parse(&Request{Context: t.Context(), Method: http.MethodPost, Body: body}))
		},
		"ssf": func(t *testing.T, email string) []string {
			claims := setClaims(t, "caep-session-revoked-email.json", time.Now(),
				map[string]any{"sub_id": map[string]any{"format": "email", "email": email}})
			r := ssfRequest(t, rs256(t, claims), SSFContentType)
			if err := ssf.Verify(r); err != nil {
				t.Fatalf("verify: %v", err)
			}
			return emails(ssf.Parse(r))
		},
	}

	same := []struct{ name, in, want string }{
		{"upper case", "Alice.Smith@Example.COM", "alice.smith@example.com"},
		{"a trailing dot on the domain", "alice.smith@example.com.", "alice.smith@example.com"},
		{"an IDN domain in Unicode", "Alice@BÜCHER.example", "alice@xn--bcher-kva.example"},
		{"the same IDN domain in punycode", "alice@xn--bcher-kva.example", "alice@xn--bcher-kva.example"},
		{"a decomposed accent (NFD)", "e\u0301lise@example.com", "\u00e9lise@example.com"},
		{"a composed accent (NFC)", "\u00c9lise@example.com", "\u00e9lise@example.com"},
		{"a fullwidth domain", "alice@ＥＸＡＭＰＬＥ.com", "alice@example.com"},
	}
	refused := []struct{ name, in string }{
		{"a zero-width space", "alice\u200b@example.com"},
		{"a zero-width joiner", "ali\u200dce@example.com"},
		{"a byte-order mark", "\ufeffalice@example.com"},
		{"a right-to-left override", "alice\u202e@example.com"},
		{"a control character", "alice\u0007@example.com"},
		{"a line break", "alice\n@example.com"},
		{"two @", "alice@evil.example@example.com"},
	}
	lookalikes := []struct{ name, in, notWant string }{
		{"a Cyrillic а", "\u0430lice@example.com", "alice@example.com"},
		{"a Greek ο in the domain", "alice@exampl\u03bf.com", "alice@example.com"},
	}
	for name, parse := range parsers {
		for _, tt := range same {
			t.Run(name+": "+tt.name, func(t *testing.T) {
				got := parse(t, tt.in)
				want, err := NormalizeEmail(tt.in)
				if err != nil || want != tt.want {
					t.Fatalf("NormalizeEmail(%q) = %q, %v; want %q", tt.in, want, err, tt.want)
				}
				if len(got) != 1 || got[0] != tt.want {
					t.Errorf("subject emails %q, want [%q]", got, tt.want)
				}
			})
		}
		for _, tt := range refused {
			t.Run(name+": refuses "+tt.name, func(t *testing.T) {
				if got := parse(t, tt.in); len(got) != 0 {
					t.Errorf("an event for %q: %q", tt.in, got)
				}
			})
		}
		for _, tt := range lookalikes {
			t.Run(name+": keeps apart "+tt.name, func(t *testing.T) {
				for _, e := range parse(t, tt.in) {
					if e == tt.notWant {
						t.Errorf("%q became %q: another person's address", tt.in, e)
					}
				}
			})
		}
	}
}

// jsonString is s as a JSON string literal.
func jsonString(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

// emails are the subject emails of a parsed delivery (none on an error).
func emails(d Delivery, err error) []string {
	if err != nil {
		return nil
	}
	var out []string
	for _, ev := range d.Events {
		if ev.Email != "" {
			out = append(out, ev.Email)
		}
	}
	return out
}
