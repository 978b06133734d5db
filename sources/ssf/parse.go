package ssf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
)

// Limits of one SET's claims.
const (
	// ssfMaxJTI bounds a SET's jti, leaving room in an event id for "#n".
	ssfMaxJTI = 190
	// ssfMaxEvents bounds the events claim. SSF says it "SHOULD contain only
	// one event".
	// https://openid.net/specs/openid-sharedsignals-framework-1_0.html#events-claim
	ssfMaxEvents = 16
)

// ssfClaims is the part of a SET's claims Parse reads; unknown claims are
// ignored, as SSF requires ("Receivers MUST ignore any fields they do not
// understand").
// https://openid.net/specs/openid-sharedsignals-framework-1_0.html#events-claim
type ssfClaims struct {
	JTI    *string                    `json:"jti"`
	SubID  json.RawMessage            `json:"sub_id"`
	Events map[string]json.RawMessage `json:"events"`
}

// ssfEventBody is the part of one event Parse reads: the subject member of
// CAEP and RISC events defined before sub_id, and RISC account-disabled's
// reason.
// https://openid.net/specs/openid-sharedsignals-framework-1_0.html#subject-members
// https://openid.net/specs/openid-risc-profile-specification-1_0.html#account-disabled
type ssfEventBody struct {
	Subject json.RawMessage `json:"subject"`
	Reason  json.RawMessage `json:"reason"`
}

// Parse implements sources.Source. It verifies r again, as Verify does (Parse never
// reads a body it has not verified itself), then reads the SET's claims.
//
// jti (required, at most 190 printable characters) is the event id: a
// repeated SET is a duplicate. Each event type mapped to a reason (by
// default CAEP session-revoked and RISC sessions-revoked and
// credential-compromise: security; RISC account-disabled: deactivated, or
// security with reason "hijacking"; RISC account-purged: terminated)
// becomes an Event; when a SET carries more than one, their ids are jti#1,
// jti#2… in the order of their type URIs.
//
// The subject is the top-level sub_id, with the event's own subject member
// (CAEP and RISC events defined before sub_id) read as well; both must agree
// on at most one email. A subject without an email is offboarded only
// when resolve_with names a connector and the subject has an iss_sub or
// opaque id: the event then carries IDs[sources.SubjectIDKey], the sub (of
// the first iss_sub, else the first opaque id), besides the ids as sent,
// and the worker resolves it. Otherwise it is ignored, the Delivery's
// WithoutEmail is set and the answer says so. event_timestamp is not read: it says when the event happened at
// the transmitter, not when to act, so EffectiveAt stays zero (now).
//
// The verification and stream-updated events, unmapped event types and
// subjects without an email give a Delivery with no events whose Ignored
// says why ("ssf verification event" for a lone verification event).
// A SET that does not conform (no jti, no events, an event that is not an
// object, a malformed subject of a mapped event) is a *ResponseError
// wrapping ErrMalformed with RFC 8935's 400 invalid_request answer.
func (s *Source) Parse(r *sources.Request) (sources.Delivery, error) {
	payload, err := s.verify(r)
	if err != nil {
		return sources.Delivery{}, err
	}
	return s.parseClaims(payload)
}

// parseClaims turns the verified claims of a SET into a Delivery.
func (s *Source) parseClaims(payload []byte) (sources.Delivery, error) {
	var c ssfClaims
	if err := sources.Decode(payload, &c); err != nil {
		return sources.Delivery{}, ssfMalformed("claims: %s", err)
	}
	// https://www.rfc-editor.org/rfc/rfc8417.html#section-2.2
	switch {
	case c.JTI == nil || *c.JTI == "":
		return sources.Delivery{}, ssfMalformed("jti: required")
	case len(*c.JTI) > ssfMaxJTI || !sources.Printable(*c.JTI):
		return sources.Delivery{}, ssfMalformed("jti: at most %d printable characters", ssfMaxJTI)
	case len(c.Events) == 0:
		return sources.Delivery{}, ssfMalformed("events: required, with at least one event")
	case len(c.Events) > ssfMaxEvents:
		return sources.Delivery{}, ssfMalformed("events: more than %d events", ssfMaxEvents)
	}
	types := make([]string, 0, len(c.Events))
	for t := range c.Events {
		types = append(types, t)
	}
	sort.Strings(types)

	var (
		out       []sources.Event
		notes     []string // verification, stream-updated
		unmapped  []string
		skipped   []string
		top       *ssfSubject // sub_id, read when a mapped event needs it
		topErr    error
		readSubID = func() (*ssfSubject, error) {
			if top == nil && topErr == nil {
				top = &ssfSubject{}
				if len(c.SubID) > 0 && string(c.SubID) != "null" {
					topErr = top.add(c.SubID, "")
				}
			}
			return top, topErr
		}
	)
	for _, t := range types {
		body := bytes.TrimSpace(c.Events[t])
		if len(body) == 0 || body[0] != '{' {
			return sources.Delivery{}, ssfMalformed("events[%q]: want a JSON object", sources.Truncate(t, 128))
		}
		reason, mapped := s.events[t]
		switch {
		case t == Verification:
			// Acknowledged like any SET: the transmitter learns that delivery,
			// signature and all, works. Its state is not checked: this
			// receiver never asks for verification events.
			// https://openid.net/specs/openid-sharedsignals-framework-1_0.html#verification-event
			notes = append(notes, "ssf verification event")
			continue
		case t == StreamUpdated:
			notes = append(notes, "ssf stream-updated event")
			continue
		case !mapped:
			unmapped = append(unmapped, sources.Truncate(t, 128))
			continue
		}
		var ev ssfEventBody
		if err := sources.Decode(body, &ev); err != nil {
			return sources.Delivery{}, ssfMalformed("events[%q]: %s", sources.Truncate(t, 128), err)
		}
		subID, err := readSubID()
		if err != nil {
			return sources.Delivery{}, ssfMalformed("sub_id: %s", err)
		}
		subj := subID.clone()
		if len(ev.Subject) > 0 && string(ev.Subject) != "null" {
			if err := subj.add(ev.Subject, ""); err != nil {
				return sources.Delivery{}, ssfMalformed("events[%q].subject: %s", sources.Truncate(t, 128), err)
			}
		}
		email, err := subj.email()
		if err != nil {
			return sources.Delivery{}, ssfMalformed("events[%q]: %s", sources.Truncate(t, 128), err)
		}
		ids := subj.copyIDs()
		if email == "" {
			if s.resolveWith == "" || subj.userID == "" {
				skipped = append(skipped, shortType(t)+": "+subj.why())
				continue
			}
			// An id-only event: the worker asks resolve_with who it is.
			if ids == nil {
				ids = map[string]string{}
			}
			ids[sources.SubjectIDKey] = subj.userID
		}
		if t == RISCAccountDisabled && string(bytes.TrimSpace(ev.Reason)) == `"hijacking"` {
			reason = offboard.ReasonSecurity
		}
		out = append(out, sources.Event{Type: t, Email: email, IDs: ids, Reason: reason})
	}
	for i := range out {
		out[i].ID = *c.JTI
		if len(out) > 1 {
			out[i].ID = fmt.Sprintf("%s#%d", *c.JTI, i+1)
		}
	}
	if len(out) == 0 {
		return sources.Delivery{Ignored: s.ignored(notes, unmapped, skipped), WithoutEmail: len(skipped) > 0}, nil
	}
	return sources.Delivery{Events: out}, nil
}

// shortType is the last segment of an event type URI (session-revoked).
func shortType(t string) string {
	if i := strings.LastIndexByte(t, '/'); i >= 0 && i < len(t)-1 {
		t = t[i+1:]
	}
	return sources.Truncate(t, 64)
}

// ignored says why a SET gave no event.
func (s *Source) ignored(notes, unmapped, skipped []string) string {
	parts := notes
	if len(unmapped) > 0 {
		parts = append(parts, "ssf: not an offboarding event type: "+sources.FirstFew(unmapped))
	}
	switch {
	case len(skipped) > 0 && s.resolveWith == "":
		parts = append(parts, "ssf: skipped "+sources.FirstFew(skipped)+"; subject without email: set resolve_with to resolve iss_sub and opaque subjects")
	case len(skipped) > 0:
		parts = append(parts, "ssf: skipped "+sources.FirstFew(skipped)+"; subject without email, and no iss_sub or opaque id for "+s.resolveWith+" to resolve")
	}
	return strings.Join(parts, "; ")
}
