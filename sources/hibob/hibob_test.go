package hibob

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/conformance"
)

const (
	hibobTestSecret = "bob-webhook-secret-0123456789abcdef"
	hibobTestUser   = "SERVICE-12345"
	hibobTestToken  = "bob-service-token-0123456789abcdef"
	hibobTestID     = "3332883854254932743"
)

// hibobTestNow is the clock of the hibob tests.
var hibobTestNow = time.Date(2025, 1, 8, 9, 0, 0, 0, time.UTC)

func hibobSettings(base string) map[string]any {
	s := map[string]any{"secret": hibobTestSecret, "service_user_id": hibobTestUser, "service_user_token": hibobTestToken}
	if base != "" {
		s["base_url"] = base
	}
	return s
}

// newTestHiBob builds a hibob source from settings (nil: the test settings
// without a base_url) on the test clock.
func newTestHiBob(t testing.TB, settings map[string]any) *Source {
	t.Helper()
	if settings == nil {
		settings = hibobSettings("")
	}
	srcs, err := build([]sources.Spec{{Name: "bob", Type: "hibob", Settings: settings}})
	if err != nil {
		t.Fatal(err)
	}
	h := srcs[0].(*Source)
	h.now = func() time.Time { return hibobTestNow }
	return h
}

func hibobFile(t testing.TB, name string) []byte {
	t.Helper()
	return testdataFile(t, name)
}

// hibobSignature computes Bob-Signature as Bob does: HMAC SHA512 of the
// request payload under the secret, base64.
// https://apidocs.hibob.com/docs/working-with-webhooks
func hibobSignature(secret string, body []byte) string {
	m := hmac.New(sha512.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func hibobRequest(secret string, body []byte) *sources.Request {
	return &sources.Request{Method: http.MethodPost, Body: body, Header: conformance.Headers(
		SignatureHeader, hibobSignature(secret, body), "Content-Type", "application/json")}
}

func TestHiBobVerify(t *testing.T) {
	body := hibobFile(t, "employee-left.json")
	good := hibobRequest(hibobTestSecret, body)
	sig := good.Header.Get(SignatureHeader)
	raw, _ := base64.StdEncoding.DecodeString(sig)
	rotating := newTestHiBob(t, map[string]any{"secret": []any{"old-webhook-secret-0123456789abcdef", hibobTestSecret},
		"service_user_id": hibobTestUser, "service_user_token": hibobTestToken})
	def := newTestHiBob(t, nil)
	mk := func(h http.Header, b []byte) *sources.Request {
		return &sources.Request{Method: http.MethodPost, Header: h, Body: b}
	}
	sha256Sig := func() string {
		m := hmac.New(sha256.New, []byte(hibobTestSecret))
		m.Write(body)
		return base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	tests := []struct {
		name string
		src  *Source
		req  *sources.Request
		ok   bool
	}{
		{"the base64 HMAC-SHA512 of the body is accepted", def, good, true},
		{"unpadded base64 is accepted", def, mk(conformance.Headers(SignatureHeader, strings.TrimRight(sig, "=")), body), true},
		{"the second of two secrets is accepted during a rotation", rotating, good, true},
		{"a missing signature is refused", def, mk(conformance.Headers(), body), false},
		{"an empty signature is refused", def, mk(conformance.Headers(SignatureHeader, ""), body), false},
		{"two signatures are refused", def, mk(conformance.Headers(SignatureHeader, sig, SignatureHeader, sig), body), false},
		{"a changed body is refused", def, mk(good.Header, append(append([]byte{}, body...), '\n')), false},
		{"a wrong secret is refused", def, hibobRequest("wrong-webhook-secret-0123456789abcd", body), false},
		{"a hex signature is refused", def, mk(conformance.Headers(SignatureHeader, hex.EncodeToString(raw)), body), false},
		{"an HMAC-SHA256 signature is refused", def, mk(conformance.Headers(SignatureHeader, sha256Sig()), body), false},
		{"a truncated signature is refused", def, mk(conformance.Headers(SignatureHeader, sig[:40]), body), false},
		{"garbage is refused", def, mk(conformance.Headers(SignatureHeader, "not base64!"), body), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.src.Verify(tt.req)
			if tt.ok {
				if err != nil {
					t.Fatalf("want accepted, got %v", err)
				}
				return
			}
			if !errors.Is(err, sources.ErrUnauthorized) || !strings.HasPrefix(err.Error(), "hibob: ") {
				t.Fatalf("want a hibob ErrUnauthorized, got %v", err)
			}
			for _, secret := range []string{hibobTestSecret, hibobTestToken, sig} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error text holds a secret or the signature: %v", err)
				}
			}
		})
	}
}

func TestHiBobHandshake(t *testing.T) {
	h := newTestHiBob(t, nil)
	tests := []struct {
		name   string
		method string
		body   []byte
		ok     bool
	}{
		{"the first ping, a plain string, is answered", http.MethodPost, hibobFile(t, "ping.txt"), true},
		{"the second ping, JSON, is answered", http.MethodPost, hibobFile(t, "ping.json"), true},
		{"the ping as a JSON string is answered", http.MethodPost, []byte(`"Ping test"`), true},
		{"an event is not a handshake", http.MethodPost, hibobFile(t, "employee-left.json"), false},
		{"another text is not a handshake", http.MethodPost, []byte("Ping test please"), false},
		{"a ping object with more fields is not a handshake", http.MethodPost, []byte(`{"text":"Ping test","type":"employee.left"}`), false},
		{"a GET is not a handshake", http.MethodGet, []byte("Ping test"), false},
		{"an empty body is not a handshake", http.MethodPost, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, ok := h.Handshake(&sources.Request{Method: tt.method, Body: tt.body, Header: http.Header{}})
			if ok != tt.ok {
				t.Fatalf("handshake = %v, want %v", ok, tt.ok)
			}
			if ok && (resp.Status != http.StatusOK || len(resp.Body) == 0) {
				t.Fatalf("want a 200 with a short body, got %+v", resp)
			}
		})
	}
}

func TestHiBobParse(t *testing.T) {
	def := newTestHiBob(t, nil)
	custom := newTestHiBob(t, map[string]any{"secret": hibobTestSecret, "service_user_id": hibobTestUser, "service_user_token": hibobTestToken,
		"events": map[string]any{"employee.inactivated": "suspended", "employee.temporaryLeave": "suspended"}})
	event := func(typ string, reason offboard.Reason, at string) sources.Event {
		return sources.Event{ID: typ + "/" + hibobTestID + "@" + at, Type: typ, Reason: reason, IDs: map[string]string{"hibob": hibobTestID}}
	}
	tests := []struct {
		name    string
		src     *Source
		body    []byte
		want    []sources.Event
		ignored string
		wantErr string
	}{
		{name: "employee.left is a termination", src: def, body: hibobFile(t, "employee-left.json"),
			want: []sources.Event{event(EmployeeLeft, offboard.ReasonTerminated, "2025-01-08T00:00:02.104231")}},
		{name: "employee.inactivated is a deactivation", src: def, body: hibobFile(t, "employee-inactivated.json"),
			want: []sources.Event{event(EmployeeInactivated, offboard.ReasonDeactivated, "2025-01-08T00:00:02.118002")}},
		{name: "employee.deleted keeps the work email Bob sends with it", src: def, body: hibobFile(t, "employee-deleted.json"),
			want: []sources.Event{func() sources.Event {
				e := event(EmployeeDeleted, offboard.ReasonDeactivated, "2025-01-09T10:15:41.007351")
				e.Email = "jane.roe@example.com"
				return e
			}()}},
		{name: "immediate access revocation is a security event", src: def, body: hibobFile(t, "access-revoked.json"),
			want: []sources.Event{event(AccessRevokedAtOnce, offboard.ReasonSecurity, "2025-01-06T14:27:09.551920")}},
		{name: "employee.updated is ignored", src: def, body: hibobFile(t, "employee-updated.json"), ignored: `"employee.updated"`},
		{name: "configured events override and add to the defaults", src: custom, body: hibobFile(t, "employee-inactivated.json"),
			want: []sources.Event{event(EmployeeInactivated, offboard.ReasonSuspended, "2025-01-08T00:00:02.118002")}},
		{name: "a deleted employee with an unusable email stays id-only", src: def,
			body: []byte(`{"type":"employee.deleted","triggeredAt":"t1","data":{"employeeId":"42","email":"not an email"}}`),
			want: []sources.Event{{ID: "employee.deleted/42@t1", Type: EmployeeDeleted, Reason: offboard.ReasonDeactivated, IDs: map[string]string{"hibob": "42"}}}},
		{name: "a numeric employee id is read", src: def, body: []byte(`{"type":"employee.left","triggeredAt":"t1","data":{"employeeId":42}}`),
			want: []sources.Event{{ID: "employee.left/42@t1", Type: EmployeeLeft, Reason: offboard.ReasonTerminated, IDs: map[string]string{"hibob": "42"}}}},
		{name: "the ping reaching Parse is malformed", src: def, body: hibobFile(t, "ping.txt"), wantErr: "invalid JSON"},
		{name: "an empty body is malformed", src: def, body: nil, wantErr: "empty body"},
		{name: "a missing type is malformed", src: def, body: []byte(`{"data":{"employeeId":"42"}}`), wantErr: "type: required"},
		{name: "a mapped event without data is malformed", src: def, body: []byte(`{"type":"employee.left"}`), wantErr: "data: required"},
		{name: "a v1 payload (employee object, no employeeId) is malformed", src: def,
			body: []byte(`{"type":"employee.left","employee":{"id":"42","email":"a@example.com"},"data":{}}`), wantErr: "data.employeeId"},
		{name: "an email as the employee id is malformed", src: def, body: []byte(`{"type":"employee.left","data":{"employeeId":"a@example.com"}}`), wantErr: "data.employeeId"},
		{name: "a wrong type of field is malformed", src: def, body: []byte(`{"type":7}`), wantErr: "type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := tt.src.Parse(&sources.Request{Context: t.Context(), Method: http.MethodPost, Body: tt.body})
			if tt.wantErr != "" {
				if !errors.Is(err, sources.ErrMalformed) || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "hibob: ") {
					t.Fatalf("want a hibob malformed error with %q, got %v", tt.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.ignored != "" {
				if len(d.Events) != 0 || !strings.Contains(d.Ignored, tt.ignored) {
					t.Fatalf("want ignored with %q, got %+v", tt.ignored, d)
				}
				return
			}
			if fmt.Sprint(d.Events) != fmt.Sprint(tt.want) || d.Ignored != "" {
				t.Fatalf("events:\n got %+v\nwant %+v", d, tt.want)
			}
		})
	}
}

func TestHiBobEventIDWithoutTriggeredAtIsAHashOfTheBody(t *testing.T) {
	h := newTestHiBob(t, nil)
	parse := func(body string) string {
		t.Helper()
		d, err := h.Parse(&sources.Request{Context: t.Context(), Body: []byte(body)})
		if err != nil || len(d.Events) != 1 {
			t.Fatalf("got %+v, %v", d, err)
		}
		return d.Events[0].ID
	}
	a := parse(`{"type":"employee.left","data":{"employeeId":"42"}}`)
	if a != parse(`{"type":"employee.left","data":{"employeeId":"42"}}`) || !strings.HasPrefix(a, "employee.left/42#") {
		t.Fatalf("id %q: want a stable hash key", a)
	}
	if a == parse(`{"type":"employee.left","companyId":1,"data":{"employeeId":"42"}}`) {
		t.Fatal("another body got the same key")
	}
}

func TestHiBobConfig(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]any
		want     []string
	}{
		{"every missing key is named", map[string]any{}, []string{
			"sources[0] (bob).secret: required", "sources[0] (bob).service_user_id: required", "sources[0] (bob).service_user_token: required"}},
		{"a service user id with a colon is refused", map[string]any{"secret": hibobTestSecret, "service_user_id": "a:b", "service_user_token": hibobTestToken},
			[]string{".service_user_id: must be printable"}},
		{"a token with a space is refused", map[string]any{"secret": hibobTestSecret, "service_user_id": hibobTestUser, "service_user_token": "a b"},
			[]string{".service_user_token: must be printable"}},
		{"a base_url with a query is refused", map[string]any{"secret": hibobTestSecret, "service_user_id": hibobTestUser, "service_user_token": hibobTestToken, "base_url": "https://api.hibob.com?x=1"},
			[]string{"sources[0] (bob).base_url: must not have a query"}},
		{"an event mapped to an unknown reason is refused by name", map[string]any{"secret": hibobTestSecret, "service_user_id": hibobTestUser, "service_user_token": hibobTestToken,
			"events": map[string]any{"employee.left": "fired"}}, []string{`.events["employee.left"]: want one of`}},
		{"a malformed event type is refused", map[string]any{"secret": hibobTestSecret, "service_user_id": hibobTestUser, "service_user_token": hibobTestToken,
			"events": map[string]any{"left": "terminated"}}, []string{`.events["left"]: not a Bob event type`}},
		{"an unknown key is refused by name", map[string]any{"secret": hibobTestSecret, "service_user_id": hibobTestUser, "service_user_token": hibobTestToken, "api_key": "x"},
			[]string{`sources[0] (bob).api_key: unknown key (known:`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := build([]sources.Spec{{Name: "bob", Type: "hibob", Settings: tt.settings}})
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			for _, secret := range []string{hibobTestSecret, hibobTestToken} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error text holds a secret: %v", err)
				}
			}
		})
	}
}

func TestHiBobIsAnIDOnlySource(t *testing.T) {
	var src sources.Source = newTestHiBob(t, nil)
	if src.Type() != "hibob" || src.Name() != "bob" {
		t.Fatalf("type %q, name %q", src.Type(), src.Name())
	}
	if _, ok := src.(sources.Resolver); !ok {
		t.Fatal("hibob must resolve its id-only events")
	}
}
