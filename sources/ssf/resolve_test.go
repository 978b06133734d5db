package ssf

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
)

// With resolve_with, a subject named only by iss_sub or opaque becomes an
// id-only event carrying the transmitter's user id under
// sources.SubjectIDKey for the worker to resolve; without it, the delivery
// is ignored and marked WithoutEmail.
func TestSSFSubjectsWithoutEmail(t *testing.T) {
	now := time.Now()
	resolving := newTestSSF(t, map[string]any{"resolve_with": "okta"})
	plain := newTestSSF(t, nil)
	if resolving.ResolveWith() != "okta" || plain.ResolveWith() != "" {
		t.Fatalf("ResolveWith = %q and %q, want okta and none", resolving.ResolveWith(), plain.ResolveWith())
	}
	phoneOnly := map[string]any{"sub_id": map[string]any{"format": "phone_number", "phone_number": "+12065550100"}}
	both := map[string]any{"sub_id": map[string]any{"format": "aliases", "identifiers": []any{
		map[string]any{"format": "opaque", "id": "opaque-1"},
		map[string]any{"format": "iss_sub", "iss": "https://idp.example.com/", "sub": "00u1sub"},
	}}}
	tests := []struct {
		name    string
		src     *Source
		file    string
		changes map[string]any
		want    *sources.Event // nil: ignored
		ignored string
	}{
		{name: "an iss_sub subject is an id-only event keyed by its sub", src: resolving, file: "risc-account-disabled-iss-sub.json",
			want: &sources.Event{ID: "756E69717565206964656E746966696574", Type: RISCAccountDisabled, Reason: offboard.ReasonSecurity,
				IDs: map[string]string{"iss_sub": "https://idp.example.com/|7375626A656374", sources.SubjectIDKey: "7375626A656374"}}},
		{name: "an opaque subject is an id-only event keyed by its id", src: resolving, file: "caep-session-revoked.json",
			want: &sources.Event{ID: "24c63fb56e5a2d77a6b512616ca9fa24", Type: CAEPSessionRevoked, Reason: offboard.ReasonSecurity,
				IDs: map[string]string{"opaque": "dMTlD|1600802906337.16|16008.16", sources.SubjectIDKey: "dMTlD|1600802906337.16|16008.16"}}},
		{name: "Google's iss-sub in the event's subject is resolved too", src: resolving, file: "google-sessions-revoked.json",
			want: &sources.Event{ID: "756E69717565206964656E746966696579", Type: RISCSessionsRevoked, Reason: offboard.ReasonSecurity,
				IDs: map[string]string{"iss_sub": "https://idp.example.com/|7375626A656374", sources.SubjectIDKey: "7375626A656374"}}},
		{name: "iss_sub wins over an opaque id listed before it", src: resolving, file: "caep-session-revoked.json", changes: both,
			want: &sources.Event{ID: "24c63fb56e5a2d77a6b512616ca9fa24", Type: CAEPSessionRevoked, Reason: offboard.ReasonSecurity,
				IDs: map[string]string{"opaque": "opaque-1", "iss_sub": "https://idp.example.com/|00u1sub", sources.SubjectIDKey: "00u1sub"}}},
		{name: "an email subject is not touched by resolve_with", src: resolving, file: "caep-session-revoked-email.json",
			want: &sources.Event{ID: "24c63fb56e5a2d77a6b512616ca9fa26", Type: CAEPSessionRevoked, Email: "jane.smith@example.com", Reason: offboard.ReasonSecurity}},
		{name: "a phone number alone cannot be resolved", src: resolving, file: "caep-session-revoked.json", changes: phoneOnly,
			ignored: "subject named only by phone_number; subject without email, and no iss_sub or opaque id for okta to resolve"},
		{name: "without resolve_with an iss_sub subject is ignored", src: plain, file: "risc-account-disabled-iss-sub.json",
			ignored: "subject named only by iss_sub; subject without email: set resolve_with"},
		{name: "without resolve_with an opaque subject is ignored", src: plain, file: "caep-session-revoked.json",
			ignored: "subject named only by opaque; subject without email: set resolve_with"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ssfRequest(t, rs256(t, setClaims(t, tt.file, now, tt.changes)), ContentType)
			d, err := tt.src.Parse(r)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if tt.want == nil {
				if len(d.Events) != 0 || !d.WithoutEmail || !strings.Contains(d.Ignored, tt.ignored) {
					t.Fatalf("want ignored, WithoutEmail, with %q; got %+v", tt.ignored, d)
				}
				return
			}
			if len(d.Events) != 1 || d.WithoutEmail {
				t.Fatalf("want one event, got %+v", d)
			}
			ev, w := d.Events[0], *tt.want
			if ev.ID != w.ID || ev.Type != w.Type || ev.Email != w.Email || ev.Reason != w.Reason || !maps.Equal(ev.IDs, w.IDs) {
				t.Fatalf("\n got %+v\nwant %+v", ev, w)
			}
		})
	}
}
