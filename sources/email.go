package sources

import (
	"errors"
	"strings"
	"unicode"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// emailProfile converts an internationalised domain to its ASCII (A-label)
// form with the lookup rules of IDNA 2008 / UTS #46, refusing empty labels
// and labels or names longer than DNS allows.
var emailProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.StrictDomainName(true), idna.Transitional(false), idna.VerifyDNSLength(true))

// NormalizeEmail returns the one form of an email address that offboarder
// stores, matches and sends: trimmed, Unicode NFC, lower case, with the
// domain in ASCII (punycode) form. It is applied once, where an event is
// parsed, and nowhere else. It refuses addresses without exactly one usable
// "@", with spaces or control characters, or longer than RFC 5321 allows.
//
// Confusable characters (a Cyrillic "а" for a Latin "a") are not folded: they
// are different addresses, and folding them would let one person's event
// offboard another.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("empty email")
	}
	if len(s) > 320 {
		return "", errors.New("email longer than 320 bytes")
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector) || r == unicode.ReplacementChar {
			return "", errors.New("email contains a space, a control or invisible formatting character, or invalid UTF-8")
		}
	}
	s = norm.NFC.String(s)
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", errors.New("email must have a local part, one @ and a domain")
	}
	local, domain := s[:at], s[at+1:]
	if strings.ContainsRune(local, '@') && !(strings.HasPrefix(local, `"`) && strings.HasSuffix(local, `"`)) {
		return "", errors.New("email has more than one @")
	}
	// The limits hold for the form stored, checked after lower-casing: a
	// letter may take more bytes in lower case ("Ⱥ" is 2 bytes, "ⱥ" 3).
	local = strings.ToLower(local)
	if len(local) > 64 {
		return "", errors.New("email local part longer than 64 bytes")
	}
	ascii, err := emailProfile.ToASCII(strings.ToLower(strings.TrimSuffix(domain, ".")))
	if err != nil || !strings.Contains(ascii, ".") || strings.HasSuffix(ascii, ".") {
		return "", errors.New("email domain is not a valid domain name")
	}
	out := local + "@" + ascii
	if len(out) > 320 {
		return "", errors.New("email longer than 320 bytes")
	}
	return out, nil
}
