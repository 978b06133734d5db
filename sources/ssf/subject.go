package ssf

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/offboarder/offboarder/sources"
)

// ssfMaxAliases bounds the identifiers of one aliases subject.
const ssfMaxAliases = 20

// ssfSubject is what the subject members of one event say of its principal.
type ssfSubject struct {
	emails []string          // normalised, distinct
	ids    map[string]string // format → value, the first of each format
	named  []string          // how it was named, where not by email: "iss_sub", "format x"
	// userID is the transmitter's own id of the user: the sub of the first
	// iss_sub, else the id of the first opaque subject. resolve_with looks
	// it up in a connector.
	userID, userFrom string
}

// add reads one subject member: an RFC 9493 subject identifier, an SSF
// complex subject (whose "user" member names the person: the session,
// device, tenant and other members only narrow the scope, and are not
// read), or RISC's legacy form with "subject_type" for "format". Formats
// that name no person by email (iss_sub, opaque, phone_number, account,
// did, uri) are kept as ids; unknown formats are noted, not refused. A
// known format without its required member, or a member that is not short
// printable text, is an error. within is "" at the top, else the kind of
// subject it is nested in (aliases and complex subjects do not nest).
//
// https://www.rfc-editor.org/rfc/rfc9493.html#section-3.2
// https://openid.net/specs/openid-sharedsignals-framework-1_0.html#complex-subjects
// https://openid.net/specs/openid-risc-profile-specification-1_0.html#google-subject-type
func (s *ssfSubject) add(raw json.RawMessage, within string) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return errors.New("want a subject identifier object")
	}
	format, err := subjectMember(m, "format", false)
	if err != nil {
		return err
	}
	if format == "" {
		// Google's RISC transmitter names the format subject_type, with
		// "iss-sub" for iss_sub.
		if format, err = subjectMember(m, "subject_type", false); err != nil {
			return err
		}
		if format == "iss-sub" {
			format = "iss_sub"
		}
	}
	if _, ok := m["user"]; format == "" && ok {
		format = "complex" // as drafts before SSF 1.0 sent it, without a format
	}
	switch format {
	case "email":
		v, err := subjectMember(m, "email", true)
		if err != nil {
			return err
		}
		email, err := sources.NormalizeEmail(v)
		if err != nil {
			return fmt.Errorf("email: %s", err)
		}
		s.addEmail(email)
	case "iss_sub":
		iss, err := subjectMember(m, "iss", true)
		if err != nil {
			return err
		}
		sub, err := subjectMember(m, "sub", true)
		if err != nil {
			return err
		}
		s.addID("iss_sub", iss+"|"+sub)
		if s.userFrom != "iss_sub" {
			s.userID, s.userFrom = sub, "iss_sub"
		}
	case "opaque", "phone_number", "account", "did", "uri":
		v, err := subjectMember(m, map[string]string{"opaque": "id", "phone_number": "phone_number", "account": "uri", "did": "url", "uri": "uri"}[format], true)
		if err != nil {
			return err
		}
		s.addID(format, v)
		if format == "opaque" && s.userFrom == "" {
			s.userID, s.userFrom = v, "opaque"
		}
	case "aliases":
		if within != "" {
			return fmt.Errorf("aliases inside %s", within)
		}
		var list []json.RawMessage
		if err := json.Unmarshal(m["identifiers"], &list); err != nil || len(list) == 0 || len(list) > ssfMaxAliases {
			return fmt.Errorf("aliases: identifiers must be a list of 1 to %d subject identifiers", ssfMaxAliases)
		}
		for _, id := range list {
			if err := s.add(id, "aliases"); err != nil {
				return fmt.Errorf("aliases: %w", err)
			}
		}
	case "complex":
		if within != "" {
			return fmt.Errorf("complex subject inside %s", within)
		}
		user, ok := m["user"]
		if !ok {
			s.named = append(s.named, "a complex subject without a user")
			return nil
		}
		if err := s.add(user, "complex"); err != nil {
			return fmt.Errorf("user: %w", err)
		}
	case "":
		return errors.New("format: required")
	default:
		s.named = append(s.named, "format "+sources.Truncate(format, 32))
	}
	return nil
}

func (s *ssfSubject) addEmail(e string) {
	for _, have := range s.emails {
		if have == e {
			return
		}
	}
	s.emails = append(s.emails, e)
}

func (s *ssfSubject) addID(format, v string) {
	if s.ids == nil {
		s.ids = map[string]string{}
	}
	if _, ok := s.ids[format]; !ok {
		s.ids[format] = v
	}
	s.named = append(s.named, format)
}

// email returns the one email the subject names, "" if none; more than one
// is an error (two people, or a transmitter in disagreement with itself).
func (s *ssfSubject) email() (string, error) {
	switch len(s.emails) {
	case 0:
		return "", nil
	case 1:
		return s.emails[0], nil
	}
	return "", errors.New("the subject names more than one email")
}

// why says how a subject without an email was named.
func (s *ssfSubject) why() string {
	if len(s.named) == 0 {
		return "no subject"
	}
	seen := map[string]bool{}
	var out []string
	for _, n := range s.named {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return "subject named only by " + strings.Join(out, ", ")
}

// clone returns a copy of s that shares nothing with it.
func (s *ssfSubject) clone() *ssfSubject {
	return &ssfSubject{
		emails: append([]string(nil), s.emails...), ids: s.copyIDs(), named: append([]string(nil), s.named...),
		userID: s.userID, userFrom: s.userFrom,
	}
}

// copyIDs returns the subject's ids as a new map, nil if there are none.
func (s *ssfSubject) copyIDs() map[string]string {
	if len(s.ids) == 0 {
		return nil
	}
	out := make(map[string]string, len(s.ids))
	for k, v := range s.ids {
		out[k] = v
	}
	return out
}

// subjectMember returns the string member name of a subject identifier:
// at most 512 printable characters. A missing member is "" (an error when
// required).
func subjectMember(m map[string]json.RawMessage, name string, required bool) (string, error) {
	raw, ok := m[name]
	if !ok || string(raw) == "null" {
		if required {
			return "", fmt.Errorf("%s: required", name)
		}
		return "", nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", fmt.Errorf("%s: want a string", name)
	}
	if (required && v == "") || len(v) > 512 || !sources.Printable(v) {
		return "", fmt.Errorf("%s: want 1 to 512 printable characters", name)
	}
	return v, nil
}
