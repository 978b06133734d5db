package caep

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/offboarder/offboarder/offboard"
)

// SessionRevoked is the CAEP event type URI of the one event this
// transmitter sends [caep].
const SessionRevoked = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"

// setType is the JOSE "typ" of a SET: explicit typing, required by SSF
// 1.0 §4.1.1 [ssf] after RFC 8417 §2.3.
const setType = "secevent+jwt"

// The subject formats a receiver can ask for.
const (
	// FormatSubID puts the subject in the top-level sub_id claim, as SSF
	// 1.0 §3 requires of every SSF event [ssf]: {"format": "email",
	// "email": …} (RFC 9493 §3.2.2).
	FormatSubID = "sub_id"
	// FormatEventSubject puts it inside the event as subject.user, the
	// shape Okta's SSF Security Event Tokens API documents for
	// session-revoked (CaepSessionRevokedEvent.subject, a
	// SecurityEventSubject with "user": {"format": "email", "email": …})
	// [okta-openapi], and no sub_id.
	FormatEventSubject = "event_subject"
)

// claims is the payload of one SET [RFC 8417 §2.2]. There is no "sub" and
// no "exp": SSF 1.0 §4.1.3 and §4.1.7 forbid both [ssf].
type claims struct {
	Iss    string           `json:"iss"`
	Iat    int64            `json:"iat"`
	Jti    string           `json:"jti"`
	Aud    string           `json:"aud"`
	Txn    string           `json:"txn,omitempty"`
	SubID  *subjectID       `json:"sub_id,omitempty"`
	Events map[string]event `json:"events"`
}

// subjectID is an RFC 9493 email subject identifier.
type subjectID struct {
	Format string `json:"format"`
	Email  string `json:"email"`
}

// event is a CAEP session-revoked event with its optional claims [caep
// §2]: event_timestamp is when the revocation occurred; initiating_entity
// is "policy" (an HR or identity provider event under the configured
// policy) or "admin" (a person's manual offboarding); reason_admin is
// required non-empty by the CAEP interoperability profile [interop].
type event struct {
	Subject          *eventSubject     `json:"subject,omitempty"`
	EventTimestamp   int64             `json:"event_timestamp"`
	InitiatingEntity string            `json:"initiating_entity"`
	ReasonAdmin      map[string]string `json:"reason_admin"`
}

// eventSubject is Okta's SecurityEventSubject with its user [okta-openapi].
type eventSubject struct {
	User subjectID `json:"user"`
}

// jti is the SET's id for the subject's case at one receiver. RFC 8417
// §2.2 makes jti the event's unique identifier, which "MAY be used by
// clients to track whether a particular event has already been received":
// a receiver that took the SET and whose 202 was lost recognises the same
// jti when the entry is retried, rather than seeing a second revocation.
// So the jti is derived from the connector, the issuer, the receiver and
// the case, and is the same on every attempt; a different case (the same
// person offboarded again later) has another. Without a case (a probe, a
// test) it is random.
func jti(connector, issuer, receiverURL, audience, caseID string) string {
	if caseID == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		return hex.EncodeToString(b[:])
	}
	h := sha256.New()
	for _, s := range []string{"offboarder caep jti v1", connector, issuer, receiverURL, audience, caseID} {
		_, _ = fmt.Fprintf(h, "%d:%s\n", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// reasonText is reason_admin's English text: why the sessions were
// revoked, naming the case.
func reasonText(s offboard.Subject) string {
	why := "offboarding"
	if s.Reason != "" {
		why = "offboarding (" + string(s.Reason) + ")"
	}
	if s.Case != "" {
		why += ", offboarder case " + s.Case
	}
	return why
}

// newClaims builds the SET for subject s at receiver r, issued now.
func newClaims(issuer string, r *receiver, s offboard.Subject, id string, now time.Time) claims {
	entity := "policy"
	if s.Reason == offboard.ReasonManual {
		entity = "admin"
	}
	who := subjectID{Format: "email", Email: s.Email}
	ev := event{
		EventTimestamp:   now.Unix(),
		InitiatingEntity: entity,
		ReasonAdmin:      map[string]string{"en": reasonText(s)},
	}
	c := claims{Iss: issuer, Iat: now.Unix(), Jti: id, Aud: r.audience, Txn: s.Case, Events: map[string]event{SessionRevoked: ev}}
	if r.format == FormatEventSubject {
		ev.Subject = &eventSubject{User: who}
		c.Events[SessionRevoked] = ev
	} else {
		c.SubID = &who
	}
	return c
}

// sign serializes c as a compact JWS signed with k, its protected header
// {"alg": ES256 or RS256, "kid": k's thumbprint, "typ": "secevent+jwt"},
// through go-jose.
func sign(k signingKey, c claims) (string, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("cannot encode the SET: %w", err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.kid}},
		(&jose.SignerOptions{}).WithType(setType))
	if err != nil {
		return "", fmt.Errorf("cannot sign the SET: %w", err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("cannot sign the SET: %w", err)
	}
	return obj.CompactSerialize()
}
