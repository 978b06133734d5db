package sources

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	testSecret = []byte("test-secret-0123456789abcdef")
	oldSecret  = []byte("old-secret-0123456789abcdef")
)

func TestVerifySignature(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":"e1","email":"a@example.com","reason":"terminated"}`)
	ts := strconv.FormatInt(now.Unix(), 10)
	good := SignatureValue(now, body, testSecret)
	tests := []struct {
		name    string
		header  string
		body    []byte
		secrets [][]byte
		ok      bool
	}{
		{"a correct signature is accepted", good, body, [][]byte{testSecret}, true},
		{"a signature with the old secret is accepted during rotation", SignatureValue(now, body, oldSecret), body, [][]byte{testSecret, oldSecret}, true},
		{"several v1 values match if one does", SignatureValue(now, body, []byte("unknown-secret-xxxxxxxxxxxx"), testSecret), body, [][]byte{testSecret}, true},
		{"an unknown scheme beside v1 is ignored", good + ",v0=abc", body, [][]byte{testSecret}, true},
		{"a missing header is refused", "", body, [][]byte{testSecret}, false},
		{"a changed body is refused", good, append([]byte(" "), body...), [][]byte{testSecret}, false},
		{"a wrong secret is refused", SignatureValue(now, body, []byte("wrong-secret-0123456789abcd")), body, [][]byte{testSecret}, false},
		{"a stale timestamp is refused", SignatureValue(now.Add(-6*time.Minute), body, testSecret), body, [][]byte{testSecret}, false},
		{"a timestamp from the future is refused", SignatureValue(now.Add(6*time.Minute), body, testSecret), body, [][]byte{testSecret}, false},
		{"a timestamp just inside the tolerance is accepted", SignatureValue(now.Add(-4*time.Minute), body, testSecret), body, [][]byte{testSecret}, true},
		{"no timestamp is refused", "v1=" + strings.Repeat("a", 64), body, [][]byte{testSecret}, false},
		{"no v1 is refused", "t=" + ts, body, [][]byte{testSecret}, false},
		{"a non-numeric timestamp is refused", "t=abc,v1=" + strings.Repeat("a", 64), body, [][]byte{testSecret}, false},
		{"two timestamps are refused", "t=" + ts + ",t=" + ts + ",v1=" + strings.Repeat("a", 64), body, [][]byte{testSecret}, false},
		{"garbage is refused", "hello", body, [][]byte{testSecret}, false},
		{"a truncated signature is refused", good[:len(good)-2], body, [][]byte{testSecret}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifySignature(tt.header, tt.body, tt.secrets, now, DefaultTolerance)
			if tt.ok && err != nil {
				t.Fatalf("want accepted, got %v", err)
			}
			if !tt.ok {
				if err == nil {
					t.Fatal("want refused, got accepted")
				}
				if !errors.Is(err, ErrUnauthorized) {
					t.Fatalf("want ErrUnauthorized, got %v", err)
				}
				for _, s := range tt.secrets {
					if strings.Contains(err.Error(), string(s)) {
						t.Fatalf("error text holds a secret: %v", err)
					}
				}
			}
		})
	}
}

func TestGenericVerifyUsesHeader(t *testing.T) {
	g, err := NewGeneric("hr", string(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{}`)
	h := http.Header{}
	h.Set(SignatureHeader, SignatureValue(time.Now(), body, testSecret))
	if err := g.Verify(&Request{Header: h, Body: body}); err != nil {
		t.Fatalf("want accepted, got %v", err)
	}
}

func TestParseGeneric(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		wantErr string
		check   func(t *testing.T, ev Event)
	}{
		{name: "a minimal body parses", body: `{"id":"e1","email":"Alice@Example.COM","reason":"terminated"}`, check: func(t *testing.T, ev Event) {
			if ev.ID != "e1" || ev.Email != "alice@example.com" || ev.Reason != "terminated" || ev.Systems != nil || ev.DryRun || !ev.EffectiveAt.IsZero() {
				t.Fatalf("got %+v", ev)
			}
		}},
		{name: "all fields parse", body: `{"id":"e2","email":"b@example.com","reason":"security","effective_at":"2030-01-02T03:04:05+02:00","systems":["okta","slack","okta"],"dry_run":true}`, check: func(t *testing.T, ev Event) {
			if !ev.EffectiveAt.Equal(time.Date(2030, 1, 2, 1, 4, 5, 0, time.UTC)) || len(ev.Systems) != 2 || !ev.DryRun {
				t.Fatalf("got %+v", ev)
			}
		}},
		{name: "an IDN domain is stored in ASCII", body: `{"id":"e3","email":"bob@bücher.example","reason":"manual"}`, check: func(t *testing.T, ev Event) {
			if ev.Email != "bob@xn--bcher-kva.example" {
				t.Fatalf("got %q", ev.Email)
			}
		}},
		{name: "invalid JSON is refused", body: `{"id":`, wantErr: "truncated JSON"},
		{name: "an empty body is refused", body: ``, wantErr: "empty body"},
		{name: "an unknown field is refused by name", body: `{"id":"e","email":"a@example.com","reason":"manual","effective_date":"x"}`, wantErr: `unknown field "effective_date"`},
		{name: "trailing data is refused", body: `{"id":"e","email":"a@example.com","reason":"manual"} {}`, wantErr: "trailing data"},
		{name: "a missing id is refused", body: `{"email":"a@example.com","reason":"manual"}`, wantErr: "id: required"},
		{name: "a control character in the id is refused", body: `{"id":"a\u0000b","email":"a@example.com","reason":"manual"}`, wantErr: "id:"},
		{name: "a missing email is refused", body: `{"id":"e","reason":"manual"}`, wantErr: "email:"},
		{name: "an email without a domain is refused", body: `{"id":"e","email":"alice@","reason":"manual"}`, wantErr: "email:"},
		{name: "an email with a space is refused", body: `{"id":"e","email":"al ice@example.com","reason":"manual"}`, wantErr: "email:"},
		{name: "an unknown reason is refused", body: `{"id":"e","email":"a@example.com","reason":"fired"}`, wantErr: "reason:"},
		{name: "a bad effective_at is refused", body: `{"id":"e","email":"a@example.com","reason":"manual","effective_at":"tomorrow"}`, wantErr: "effective_at:"},
		{name: "an empty systems list is refused", body: `{"id":"e","email":"a@example.com","reason":"manual","systems":[]}`, wantErr: "systems:"},
		{name: "a bad system name is refused", body: `{"id":"e","email":"a@example.com","reason":"manual","systems":["../x"]}`, wantErr: "systems:"},
		{name: "a wrong type is refused by field", body: `{"id":"e","email":"a@example.com","reason":"manual","dry_run":"yes"}`, wantErr: "dry_run"},
		{name: "an array body is refused", body: `[]`, wantErr: "wrong JSON type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := ParseGeneric([]byte(tt.body), true)
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("want malformed error with %q, got %v", tt.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, ev)
		})
	}
}

func TestNormalizeEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Alice@Example.com", "alice@example.com"},
		{"  alice@example.com\t", "alice@example.com"},
		{"alice@EXAMPLE.com.", "alice@example.com"},
		{"ALICE@bücher.example", "alice@xn--bcher-kva.example"},
		{"alice@BÜCHER.example", "alice@xn--bcher-kva.example"},
		{"e\u0301lise@example.com", "\u00e9lise@example.com"}, // NFD → NFC
		{"alice@xn--bcher-kva.example", "alice@xn--bcher-kva.example"},
	}
	for _, tt := range tests {
		got, err := NormalizeEmail(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "a", "@example.com", "alice@", "a b@example.com", "alice@localhost", "a@b@example.com", "alice@exa mple.com", "alice\u200b@example.com", strings.Repeat("a", 65) + "@example.com",
		"alice@.example.com", "alice@example..com", "alice@" + strings.Repeat("a", 64) + ".example.com",
		// 64 bytes as sent, 96 in lower case: the limit is the stored form's.
		strings.Repeat("\u023a", 32) + "@example.com"} {
		if got, err := NormalizeEmail(bad); err == nil {
			t.Errorf("NormalizeEmail(%q) = %q, want an error", bad, got)
		}
	}
	// A Cyrillic "а" is another address, never folded into the Latin one.
	if a, _ := NormalizeEmail("\u0430lice@example.com"); a == "alice@example.com" {
		t.Error("confusable folded into another person's address")
	}
}

func TestBuild(t *testing.T) {
	_, err := build([]Spec{
		{Name: "hr", Type: "generic", Settings: map[string]any{"secret": "0123456789abcdef0123"}},
		{Name: "v", Type: "generic", Settings: map[string]any{"secret": "0123456789abcdef0123"}},
		{Name: "x", Type: "nope"},
		{Name: "y", Type: "generic", Settings: map[string]any{}},
		{Name: "z", Type: "generic", Settings: map[string]any{"secret": "short"}},
		{Name: "w", Type: "generic", Settings: map[string]any{"secret": "0123456789abcdef0123", "colour": "red"}},
	})
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"sources[2] (x).type: unknown source type", "sources[3] (y).secret: required", "sources[4] (z).secret: too short", `sources[5] (w).colour: unknown key (known: secret, tolerance)`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "0123456789abcdef0123") || strings.Contains(err.Error(), "short") && !strings.Contains(err.Error(), "too short") {
		t.Error("a secret leaked into the error")
	}
}
