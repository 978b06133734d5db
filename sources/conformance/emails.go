package conformance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/vendorapi"
)

// EmailPath is one way an email reaches a subject: a source's delivery
// built from its testdata around the email (signed where the source
// verifies a signature), or its Resolver reading the email from the
// sender's API.
type EmailPath struct {
	Name string
	// Field is what the explanation of a refused email must name.
	Field string
	// Run returns the subject emails the path produced for email and, when
	// it produced none, why: the error, or what the delivery ignored.
	Run func(t *testing.T, email string) (got []string, why string)
}

// Emails runs every path through the one rule of emails: one person written differently
// — letter case, a trailing dot, an internationalised domain in Unicode or
// in punycode, a composed or decomposed accent, a fullwidth domain — is the
// same subject on every path an email takes into offboarder, and that
// subject is a fixed point of NormalizeEmail (the worker and the admin API
// normalise again and must find the same string). An address with an
// invisible, bidi or control character gives no subject on any path, and
// the refusal names the field. A look-alike (Cyrillic "а", Greek "ο") or a
// fullwidth local part stays another address everywhere.
func Emails(t *testing.T, paths []EmailPath) {
	same := []struct {
		name      string
		spellings []string
		want      string
	}{
		{"letter case and a trailing dot", []string{
			"alice@example.com", "Alice@Example.COM", "ALICE@EXAMPLE.COM", "alice@EXAMPLE.com.", "  Alice@example.com  ",
		}, "alice@example.com"},
		{"an internationalised domain in Unicode or punycode", []string{
			"ALICE@BÜCHER.example", "alice@bücher.example", "alice@bu\u0308cher.example",
			"alice@xn--bcher-kva.example", "alice@XN--BCHER-KVA.EXAMPLE", "alice@xn--bcher-kva.example.",
		}, "alice@xn--bcher-kva.example"},
		{"an accent composed (NFC) or decomposed (NFD)", []string{
			"\u00e9lise@example.com", "e\u0301lise@example.com", "\u00c9LISE@Example.com", "E\u0301lise@example.com",
		}, "\u00e9lise@example.com"},
		// IDNA maps fullwidth letters and dots in a domain to ASCII.
		{"a fullwidth domain", []string{
			"alice@ＥＸＡＭＰＬＥ.com", "alice@example．com", "alice@example。com", "alice@ｅｘａｍｐｌｅ．ｃｏｍ",
		}, "alice@example.com"},
	}
	// The local part is the receiving domain's to interpret (RFC 6531): only
	// NFC and lower case are applied to it, never compatibility mappings or
	// confusable folding. A fullwidth "ＡＬＩＣＥ" is therefore another
	// mailbox than "alice", as a Cyrillic "а" is another letter than "a".
	distinct := []struct{ name, in, want, latin string }{
		{"a Cyrillic а in the local part", "\u0430lice@example.com", "\u0430lice@example.com", "alice@example.com"},
		{"a Greek ο in the domain", "alice@exampl\u03bf.com", "alice@xn--exampl-n0e.com", "alice@example.com"},
		{"a Cyrillic а in the domain", "alice@ex\u0430mple.com", "alice@xn--exmple-4nf.com", "alice@example.com"},
		{"a fullwidth local part", "ＡＬＩＣＥ@example.com", "ａｌｉｃｅ@example.com", "alice@example.com"},
		{"a ligature in the local part", "\ufb01le@example.com", "\ufb01le@example.com", "file@example.com"},
	}
	refused := []struct{ name, in string }{
		{"a zero-width space U+200B", "alice\u200b@example.com"},
		{"a zero-width joiner U+200D", "ali\u200dce@example.com"},
		{"a zero-width non-joiner U+200C", "ali\u200cce@example.com"},
		{"a byte-order mark U+FEFF", "\ufeffalice@example.com"},
		{"a word joiner U+2060", "alice@example\u2060.com"},
		{"a soft hyphen U+00AD", "al\u00adice@example.com"},
		{"a right-to-left override U+202E", "alice\u202e@example.com"},
		{"a right-to-left override in the domain", "alice@\u202emoc.elpmaxe"},
		{"a bidi isolate U+2066", "\u2066alice\u2069@example.com"},
		{"a combining grapheme joiner U+034F", "alice\u034f@example.com"},
		{"a variation selector U+FE0F", "alice\ufe0f@example.com"},
		{"a Hangul filler U+3164", "alice\u3164@example.com"},
		{"a NUL", "alice\x00@example.com"},
		{"a bell U+0007", "alice\u0007@example.com"},
		{"a line break", "alice\n@example.com"},
		{"a next-line control U+0085", "alice\u0085@example.com"},
		{"a line separator U+2028", "alice\u2028@example.com"},
		{"a replacement character U+FFFD", "alice\ufffd@example.com"},
		{"an inner space", "alice smith@example.com"},
		{"two @", "alice@evil.example@example.com"},
		{"a fullwidth @ U+FF20", "alice＠example.com"},
		// A trailing dot left after the one that is trimmed would stay in
		// the subject and make a second subject for the same person.
		{"two trailing dots", "alice@example.com.."},
		{"a trailing ideographic full stop", "alice@example.com。"},
	}

	for _, p := range paths {
		for _, g := range same {
			for _, in := range g.spellings {
				t.Run(fmt.Sprintf("%s/%s/%+q", p.Name, g.name, in), func(t *testing.T) {
					got, why := p.Run(t, in)
					if len(got) != 1 || got[0] != g.want {
						t.Fatalf("subject %+q (%s), want [%+q]", got, why, g.want)
					}
					if again, err := sources.NormalizeEmail(got[0]); err != nil || again != got[0] {
						t.Errorf("the subject is not a fixed point of NormalizeEmail: %+q, %v", again, err)
					}
				})
			}
		}
		for _, d := range distinct {
			t.Run(fmt.Sprintf("%s/keeps apart %s", p.Name, d.name), func(t *testing.T) {
				got, why := p.Run(t, d.in)
				if len(got) != 1 || got[0] != d.want {
					t.Fatalf("subject %+q (%s), want [%+q]", got, why, d.want)
				}
				if got[0] == d.latin {
					t.Fatalf("%+q became %+q: another person's address", d.in, got[0])
				}
			})
		}
		for _, r := range refused {
			t.Run(fmt.Sprintf("%s/refuses %s", p.Name, r.name), func(t *testing.T) {
				got, why := p.Run(t, r.in)
				if len(got) != 0 {
					t.Fatalf("a subject for %+q: %+q", r.in, got)
				}
				if !strings.Contains(why, p.Field) {
					t.Errorf("the refusal does not name %q: %q", p.Field, why)
				}
			})
		}
	}
}

// ResolvedEmails returns what a Resolver's answer gives a path: the email,
// or the error's text. A refused email must be a permanent error, so that
// the worker puts the case in front of a person instead of asking the
// sender again and again.
func ResolvedEmails(t *testing.T) func(sources.Resolution, error) ([]string, string) {
	return func(res sources.Resolution, err error) ([]string, string) {
		t.Helper()
		if err != nil {
			var ce *vendorapi.Error
			if !errors.As(err, &ce) || ce.Kind != vendorapi.Invalid || vendorapi.Retryable(err) {
				t.Errorf("an unusable email is not a permanent Invalid error: %#v", err)
			}
			return nil, err.Error()
		}
		if !res.Offboard {
			t.Fatalf("the person is not leaving: %+v", res)
		}
		return []string{res.Email}, ""
	}
}

// JSONString is s as a JSON string literal.
func JSONString(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

// DeliveryEmails are the subject emails of a parsed delivery and, when it
// gave none, why: its error or what it ignored.
func DeliveryEmails(d sources.Delivery, err error) ([]string, string) {
	if err != nil {
		return nil, err.Error()
	}
	var out []string
	for _, ev := range d.Events {
		if ev.Email != "" {
			out = append(out, ev.Email)
		}
	}
	if len(out) == 0 {
		return nil, d.Ignored
	}
	return out, ""
}

// Swap replaces old, which the testdata raw must hold exactly once (a JSON
// string literal with its quotes, or a whole "key": value pair), with with.
func Swap(t *testing.T, raw []byte, old, with string) []byte {
	t.Helper()
	if n := bytes.Count(raw, []byte(old)); n != 1 {
		t.Fatalf("testdata holds %s %d times, want once", old, n)
	}
	return bytes.Replace(raw, []byte(old), []byte(with), 1)
}
