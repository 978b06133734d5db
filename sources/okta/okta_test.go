package okta

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/conformance"
)

// oktaSecret is an Authorization value as an operator would configure it on
// the hook (the event hook guide uses a Basic credential).
// https://developer.okta.com/docs/guides/event-hook-implementation/nodejs/main/
const oktaSecret = "Basic b2ZmYm9hcmRlcjpzdXBlcnNlY3JldA=="

// build opens specs with this package's type alone.
func build(specs []sources.Spec) ([]sources.Source, error) {
	return sources.Build(specs, map[string]func() sources.Config{"okta": func() sources.Config { return new(Config) }}, sources.Deps{})
}

func newTestOkta(t testing.TB, settings map[string]any) *Source {
	t.Helper()
	if settings == nil {
		settings = map[string]any{"secret": oktaSecret}
	}
	srcs, err := build([]sources.Spec{{Name: "okta", Type: "okta", Settings: settings}})
	if err != nil {
		t.Fatal(err)
	}
	return srcs[0].(*Source)
}

func oktaFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOktaVerify(t *testing.T) {
	def := newTestOkta(t, nil)
	custom := newTestOkta(t, map[string]any{"secret": oktaSecret, "header": "x-okta-hook-key"})
	tests := []struct {
		name   string
		src    *Source
		header http.Header
		ok     bool
	}{
		{"the configured value in Authorization is accepted", def, conformance.Headers("Authorization", oktaSecret), true},
		{"a missing header is refused", def, conformance.Headers(), false},
		{"an empty value is refused", def, conformance.Headers("Authorization", ""), false},
		{"a wrong value is refused", def, conformance.Headers("Authorization", "Basic d3Jvbmc6d3Jvbmd3cm9uZw=="), false},
		{"a prefix of the secret is refused", def, conformance.Headers("Authorization", oktaSecret[:len(oktaSecret)-1]), false},
		{"the secret with a character more is refused", def, conformance.Headers("Authorization", oktaSecret+"x"), false},
		{"the secret in another letter case is refused", def, conformance.Headers("Authorization", strings.ToUpper(oktaSecret)), false},
		{"two Authorization headers are refused even if one is right", def, conformance.Headers("Authorization", oktaSecret, "Authorization", "other"), false},
		{"the secret in another header is refused", def, conformance.Headers("X-Okta-Hook-Key", oktaSecret), false},
		{"a configured header name is used", custom, conformance.Headers("X-Okta-Hook-Key", oktaSecret), true},
		{"with a configured header, Authorization does not count", custom, conformance.Headers("Authorization", oktaSecret), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.src.Verify(&sources.Request{Context: t.Context(), Method: http.MethodPost, Header: tt.header, Body: []byte(`{}`)})
			if tt.ok {
				if err != nil {
					t.Fatalf("want accepted, got %v", err)
				}
				return
			}
			if !errors.Is(err, sources.ErrUnauthorized) {
				t.Fatalf("want ErrUnauthorized, got %v", err)
			}
			if !strings.HasPrefix(err.Error(), "okta: ") {
				t.Fatalf("error not prefixed with the source: %v", err)
			}
			for _, v := range tt.header.Values("Authorization") {
				if len(v) > 3 && strings.Contains(err.Error(), v) {
					t.Fatalf("error text holds a header value: %v", err)
				}
			}
			if strings.Contains(err.Error(), oktaSecret) || strings.Contains(err.Error(), "b2ZmYm9hcmRlcjpzdXBlcnNlY3JldA") {
				t.Fatalf("error text holds the secret: %v", err)
			}
		})
	}
}

func TestOktaHandshake(t *testing.T) {
	o := newTestOkta(t, nil)
	const challenge = "Me_rShK8JHsTnbyYrWXCEoMGbM_zsZ6k0hLPZ_Pg" // Okta's example value
	tests := []struct {
		name      string
		method    string
		header    http.Header
		handshake bool
		status    int
		echo      string // the verification value a 200 must carry
	}{
		{"a verification GET with the right secret echoes the challenge", http.MethodGet,
			conformance.Headers(ChallengeHeader, challenge, "Authorization", oktaSecret), true, http.StatusOK, challenge},
		{"the challenge header name is matched in any case", http.MethodGet,
			conformance.Headers("x-okta-verification-challenge", challenge, "Authorization", oktaSecret), true, http.StatusOK, challenge},
		{"a verification GET without the secret is refused", http.MethodGet,
			conformance.Headers(ChallengeHeader, challenge), true, http.StatusUnauthorized, ""},
		{"a verification GET with a wrong secret is refused", http.MethodGet,
			conformance.Headers(ChallengeHeader, challenge, "Authorization", "Basic bm90OnRoZXNlY3JldA=="), true, http.StatusUnauthorized, ""},
		{"quotes and markup in a challenge are echoed as JSON text", http.MethodGet,
			conformance.Headers(ChallengeHeader, `a"b\c</script>`, "Authorization", oktaSecret), true, http.StatusOK, `a"b\c</script>`},
		{"an empty challenge is a 400", http.MethodGet,
			conformance.Headers(ChallengeHeader, "", "Authorization", oktaSecret), true, http.StatusBadRequest, ""},
		{"two challenges are a 400", http.MethodGet,
			conformance.Headers(ChallengeHeader, "a", ChallengeHeader, "b", "Authorization", oktaSecret), true, http.StatusBadRequest, ""},
		{"an overlong challenge is a 400", http.MethodGet,
			conformance.Headers(ChallengeHeader, strings.Repeat("a", oktaMaxChallenge+1), "Authorization", oktaSecret), true, http.StatusBadRequest, ""},
		{"a challenge with a control character is a 400", http.MethodGet,
			conformance.Headers(ChallengeHeader, "a\x01b", "Authorization", oktaSecret), true, http.StatusBadRequest, ""},
		{"a GET without a challenge is not a handshake", http.MethodGet,
			conformance.Headers("Authorization", oktaSecret), false, 0, ""},
		{"a POST with a challenge is not a handshake", http.MethodPost,
			conformance.Headers(ChallengeHeader, challenge, "Authorization", oktaSecret), false, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, ok := o.Handshake(&sources.Request{Context: t.Context(), Method: tt.method, Header: tt.header})
			if ok != tt.handshake {
				t.Fatalf("handshake = %v, want %v", ok, tt.handshake)
			}
			if !ok {
				return
			}
			if resp.Status != tt.status || resp.ContentType != "application/json" {
				t.Fatalf("got %d %q %s, want %d application/json", resp.Status, resp.ContentType, resp.Body, tt.status)
			}
			var body map[string]string
			if err := json.Unmarshal(resp.Body, &body); err != nil {
				t.Fatalf("body is not JSON: %s", resp.Body)
			}
			if tt.status == http.StatusOK {
				if len(body) != 1 || body["verification"] != tt.echo {
					t.Fatalf("want {\"verification\": %q}, got %s", tt.echo, resp.Body)
				}
				return
			}
			if body["error"] == "" || body["verification"] != "" {
				t.Fatalf("a refusal must carry an error and no verification: %s", resp.Body)
			}
		})
	}
}

func TestOktaParse(t *testing.T) {
	o := newTestOkta(t, nil)
	type want struct {
		id, email, oktaID string
		reason            offboard.Reason
		typ               string
	}
	tests := []struct {
		name    string
		body    []byte
		events  []want
		ignored string // a part of Delivery.Ignored when no events are expected
		wantErr string // a part of the malformed error
	}{
		{name: "a deactivation offboards its target, not the admin who acted", body: oktaFile(t, "deactivate.json"),
			events: []want{{"ab62c0bc-2837-11eb-9823-9fb8f750c5a9", "john.doe@example.com", "00u3m90rxKjGQ0G6L1d6", offboard.ReasonTerminated, "user.lifecycle.deactivate"}}},
		{name: "a suspension is a suspended case with the login normalised", body: oktaFile(t, "suspend.json"),
			events: []want{{"0c2d6e5a-2838-11eb-9823-9fb8f750c5a9", "jane.roe@example.com", "00u4k2a7QxWcT1Rz51d6", offboard.ReasonSuspended, "user.lifecycle.suspend"}}},
		{name: "an initiated deletion is a termination", body: oktaFile(t, "delete-initiated.json"),
			events: []want{{"2f9a3b1e-2838-11eb-9823-9fb8f750c5a9", "john.doe@example.com", "00u3m90rxKjGQ0G6L1d6", offboard.ReasonTerminated, "user.lifecycle.delete.initiated"}}},
		{name: "a sign-in is ignored by type", body: oktaFile(t, "session-start.json"),
			ignored: "not offboarding event types: user.session.start"},
		{name: "a mixed batch keeps only the offboarding event", body: oktaFile(t, "mixed.json"),
			events: []want{{"0c2d6e5a-2838-11eb-9823-9fb8f750c5a9", "jane.roe@example.com", "00u4k2a7QxWcT1Rz51d6", offboard.ReasonSuspended, "user.lifecycle.suspend"}}},
		{name: "a batch with two users gives one event each, in order", body: oktaFile(t, "two-users.json"),
			events: []want{
				{"ab62c0bc-2837-11eb-9823-9fb8f750c5a9", "john.doe@example.com", "00u3m90rxKjGQ0G6L1d6", offboard.ReasonTerminated, "user.lifecycle.deactivate"},
				{"5a6b7c8d-2838-11eb-9823-9fb8f750c5a9", "jane.roe@example.com", "00u4k2a7QxWcT1Rz51d6", offboard.ReasonTerminated, "user.lifecycle.deactivate"},
			}},
		{name: "an event without a User target is skipped, not taken from the actor",
			body:    oktaBatch(`{"uuid":"u1","eventType":"user.lifecycle.deactivate","actor":{"id":"00uadmin","type":"User","alternateId":"admin@example.com"},"target":[{"id":"0oa1","type":"AppInstance","alternateId":"Workday"}]}`),
			ignored: "user.lifecycle.deactivate u1: no User target"},
		{name: "an event with no target at all is skipped",
			body:    oktaBatch(`{"uuid":"u1","eventType":"user.lifecycle.suspend","actor":{"id":"00uadmin","type":"User","alternateId":"admin@example.com"},"target":null}`),
			ignored: "no User target"},
		{name: "an event with two User targets is skipped as ambiguous",
			body:    oktaBatch(`{"uuid":"u1","eventType":"user.lifecycle.deactivate","target":[` + oktaUser("00ua", "a@example.com") + `,` + oktaUser("00ub", "b@example.com") + `]}`),
			ignored: "more than one User target"},
		{name: "a failed deactivation is skipped",
			body:    oktaBatch(`{"uuid":"u1","eventType":"user.lifecycle.deactivate","outcome":{"result":"FAILURE","reason":"x"},"target":[` + oktaUser("00ua", "a@example.com") + `]}`),
			ignored: "outcome FAILURE"},
		{name: "an event without a uuid is skipped",
			body:    oktaBatch(`{"eventType":"user.lifecycle.deactivate","target":[` + oktaUser("00ua", "a@example.com") + `]}`),
			ignored: "no usable uuid"},
		{name: "a User target without an email login is skipped",
			body:    oktaBatch(`{"uuid":"u1","eventType":"user.lifecycle.deactivate","target":[` + oktaUser("00ua", "jdoe") + `]}`),
			ignored: "no email login"},
		{name: "a skipped event does not cost the good one beside it",
			body: oktaBatch(`{"uuid":"u1","eventType":"user.lifecycle.deactivate","target":[]}`,
				`{"uuid":"u2","eventType":"user.lifecycle.deactivate","target":[`+oktaUser("00ua", "a@example.com")+`]}`),
			events: []want{{"u2", "a@example.com", "00ua", offboard.ReasonTerminated, "user.lifecycle.deactivate"}}},
		{name: "a login field stands in for a non-email alternateId",
			body:   oktaBatch(`{"uuid":"u1","eventType":"user.lifecycle.deactivate","target":[{"id":"00u3gjksoiRGRAZHLSYV","type":"User","alternateId":"00uKrs9rsRSAXN","login":"jon@example.com"}]}`),
			events: []want{{"u1", "jon@example.com", "00u3gjksoiRGRAZHLSYV", offboard.ReasonTerminated, "user.lifecycle.deactivate"}}},
		{name: "an id that is not an Okta id is left out, the email kept",
			body:   oktaBatch(`{"uuid":"u1","eventType":"user.lifecycle.deactivate","target":[` + oktaUser("../../admin", "a@example.com") + `]}`),
			events: []want{{"u1", "a@example.com", "", offboard.ReasonTerminated, "user.lifecycle.deactivate"}}},
		{name: "a uuid repeated in one batch counts once",
			body: oktaBatch(`{"uuid":"u1","eventType":"user.lifecycle.deactivate","target":[`+oktaUser("00ua", "a@example.com")+`]}`,
				`{"uuid":"u1","eventType":"user.lifecycle.deactivate","target":[`+oktaUser("00ua", "a@example.com")+`]}`),
			events: []want{{"u1", "a@example.com", "00ua", offboard.ReasonTerminated, "user.lifecycle.deactivate"}}},
		{name: "unknown fields at every level are fine",
			body:   []byte(`{"future":1,"data":{"more":[1],"events":[{"uuid":"u1","eventType":"user.lifecycle.deactivate","newField":{"x":true},"target":[{"id":"00ua","type":"User","alternateId":"a@example.com","changeDetails":{"from":{},"to":{}}}]}]}}`),
			events: []want{{"u1", "a@example.com", "00ua", offboard.ReasonTerminated, "user.lifecycle.deactivate"}}},
		{name: "an empty batch is ignored", body: []byte(`{"data":{"events":[]}}`), ignored: "empty batch"},
		{name: "an event without a type is ignored by type", body: oktaBatch(`{"uuid":"u1"}`), ignored: "(no eventType)"},
		{name: "repeated ignored types are counted", body: oktaBatch(`{"uuid":"u1","eventType":"user.session.start"}`, `{"uuid":"u2","eventType":"user.session.start"}`),
			ignored: "user.session.start (2)"},
		{name: "an empty body is malformed", body: nil, wantErr: "empty body"},
		{name: "truncated JSON is malformed", body: []byte(`{"data":`), wantErr: "truncated JSON"},
		{name: "trailing data is malformed", body: []byte(`{"data":{"events":[]}} {}`), wantErr: "trailing data"},
		{name: "a body without data.events is malformed", body: []byte(`{"data":{}}`), wantErr: "data.events: required"},
		{name: "a body without data is malformed", body: []byte(`{"eventType":"com.okta.event_hook"}`), wantErr: "data.events: required"},
		{name: "an array body is malformed", body: []byte(`[]`), wantErr: "wrong JSON type"},
		{name: "a target that is not a list is malformed by field", body: oktaBatch(`{"uuid":"u1","eventType":"user.session.start","target":{"id":"x"}}`), wantErr: "target"},
		{name: "a batch over the bound is malformed", body: oktaBatch(strings.Split(strings.Repeat(`{"uuid":"u","eventType":"x.y"}|`, MaxEvents+1), "|")[:MaxEvents+1]...),
			wantErr: fmt.Sprintf("more than %d events", MaxEvents)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := o.Parse(&sources.Request{Context: t.Context(), Method: http.MethodPost, Header: conformance.Headers("Authorization", oktaSecret), Body: tt.body})
			if tt.wantErr != "" {
				if !errors.Is(err, sources.ErrMalformed) || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "okta: ") {
					t.Fatalf("want an okta malformed error with %q, got %v", tt.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(tt.events) == 0 {
				if len(d.Events) != 0 || !strings.Contains(d.Ignored, tt.ignored) {
					t.Fatalf("want ignored with %q, got %+v", tt.ignored, d)
				}
				return
			}
			if len(d.Events) != len(tt.events) {
				t.Fatalf("want %d events, got %+v", len(tt.events), d.Events)
			}
			for i, w := range tt.events {
				ev := d.Events[i]
				if ev.ID != w.id || ev.Email != w.email || ev.IDs["okta"] != w.oktaID || ev.Reason != w.reason || ev.Type != w.typ {
					t.Errorf("event %d: got %+v, want %+v", i, ev, w)
				}
				if w.oktaID == "" && ev.IDs != nil {
					t.Errorf("event %d: want no ids, got %v", i, ev.IDs)
				}
				if ev.Email == "admin@example.com" || !ev.EffectiveAt.IsZero() || ev.Systems != nil || ev.DryRun {
					t.Errorf("event %d: unexpected subject or options: %+v", i, ev)
				}
			}
		})
	}
}

// oktaBatch wraps LogEvent JSON objects in a delivery envelope.
func oktaBatch(events ...string) []byte {
	return []byte(`{"eventType":"com.okta.event_hook","data":{"events":[` + strings.Join(events, ",") + `]}}`)
}

func oktaUser(id, login string) string {
	return fmt.Sprintf(`{"id":%q,"type":"User","alternateId":%q,"displayName":"X","detailEntry":null}`, id, login)
}

func TestOktaEventsOverrideTheDefaults(t *testing.T) {
	o := newTestOkta(t, map[string]any{"secret": oktaSecret, "events": map[string]any{
		"user.account.lock":      "security",
		"user.lifecycle.suspend": "deactivated",
	}})
	body := oktaBatch(
		`{"uuid":"u1","eventType":"user.account.lock","target":[`+oktaUser("00ua", "a@example.com")+`]}`,
		`{"uuid":"u2","eventType":"user.lifecycle.suspend","target":[`+oktaUser("00ub", "b@example.com")+`]}`,
		`{"uuid":"u3","eventType":"user.lifecycle.deactivate","target":[`+oktaUser("00uc", "c@example.com")+`]}`,
		`{"uuid":"u4","eventType":"user.session.start","target":[`+oktaUser("00ud", "d@example.com")+`]}`,
	)
	d, err := o.Parse(&sources.Request{Context: t.Context(), Method: http.MethodPost, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]offboard.Reason{}
	for _, ev := range d.Events {
		got[ev.ID] = ev.Reason
	}
	want := map[string]offboard.Reason{"u1": offboard.ReasonSecurity, "u2": offboard.ReasonDeactivated, "u3": offboard.ReasonTerminated}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("reasons: got %v, want %v", got, want)
	}
	// The defaults of another source are untouched.
	d, err = newTestOkta(t, nil).Parse(&sources.Request{Context: t.Context(), Method: http.MethodPost, Body: body})
	if err != nil || len(d.Events) != 2 || d.Events[0].ID != "u2" || d.Events[0].Reason != offboard.ReasonSuspended {
		t.Fatalf("defaults changed: %+v, %v", d, err)
	}
}

func TestOktaBuildErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]any
		want     string
	}{
		{"a missing secret", map[string]any{}, "sources[0] (okta).secret: required"},
		{"an empty secret", map[string]any{"secret": ""}, "sources[0] (okta).secret: required"},
		{"a short secret", map[string]any{"secret": "hunter2"}, "sources[0] (okta).secret: too short"},
		{"a secret that is not a string", map[string]any{"secret": 12345678901234567890.0}, "sources[0] (okta).secret: must be a string, not a number"},
		{"a secret with a line break", map[string]any{"secret": "Basic abcdefghijklmnop\nX-Evil: 1"}, "sources[0] (okta).secret: must be a header value"},
		{"a secret with a trailing space", map[string]any{"secret": oktaSecret + " "}, "sources[0] (okta).secret: must be a header value"},
		{"a header name with a space", map[string]any{"secret": oktaSecret, "header": "X Key"}, "sources[0] (okta).header: want an HTTP header name"},
		{"the challenge header as the secret's header", map[string]any{"secret": oktaSecret, "header": "x-okta-verification-challenge"}, "sources[0] (okta).header:"},
		{"an unknown reason", map[string]any{"secret": oktaSecret, "events": map[string]any{"user.account.lock": "fired"}}, `sources[0] (okta).events["user.account.lock"]: want one of`},
		{"an event type that is not one", map[string]any{"secret": oktaSecret, "events": map[string]any{"deactivate": "terminated"}}, `sources[0] (okta).events["deactivate"]: not an Okta event type`},
		{"a reason that is not a string", map[string]any{"secret": oktaSecret, "events": map[string]any{"user.account.lock": 1.0}}, `sources[0] (okta).events["user.account.lock"]: want one of`},
		{"events that are not a mapping", map[string]any{"secret": oktaSecret, "events": []any{"user.lifecycle.deactivate"}}, "sources[0] (okta).events: must be a mapping, not a list"},
		{"an unknown key", map[string]any{"secret": oktaSecret, "colour": "red"}, `sources[0] (okta).colour: unknown key (known: base_url, events, header, reconcile_interval, secret, token)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := build([]sources.Spec{{Name: "okta", Type: "okta", Settings: tt.settings}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("want an error with %q, got %v", tt.want, err)
			}
			if s, ok := tt.settings["secret"].(string); ok && len(s) > 3 && strings.Contains(err.Error(), s) {
				t.Fatalf("the secret is in the error: %v", err)
			}
		})
	}
	// Every problem of every source is reported at once.
	_, err := build([]sources.Spec{
		{Name: "a", Type: "okta", Settings: map[string]any{}},
		{Name: "b", Type: "okta", Settings: map[string]any{"secret": oktaSecret, "header": "bad header"}},
	})
	if err == nil || !strings.Contains(err.Error(), "sources[0] (a).secret") || !strings.Contains(err.Error(), "sources[1] (b).header") {
		t.Fatalf("want both problems, got %v", err)
	}
}

func TestOktaAnswersAnEmptyNoContent(t *testing.T) {
	o := newTestOkta(t, nil)
	if o.AcceptStatus() != http.StatusNoContent || o.Type() != "okta" || o.Name() != "okta" {
		t.Fatalf("got status %d, type %q, name %q", o.AcceptStatus(), o.Type(), o.Name())
	}
}

// BenchmarkOktaParse parses a 10-event batch of documentation-shaped
// LogEvents: five deactivations of different users between five sign-ins.
func BenchmarkOktaParse(b *testing.B) {
	o := newTestOkta(b, nil)
	var deact, session struct {
		Data struct{ Events []map[string]any } `json:"data"`
	}
	if err := json.Unmarshal(oktaFile(b, "deactivate.json"), &deact); err != nil {
		b.Fatal(err)
	}
	if err := json.Unmarshal(oktaFile(b, "session-start.json"), &session); err != nil {
		b.Fatal(err)
	}
	var events []any
	for i := range 5 {
		d, _ := json.Marshal(deact.Data.Events[0])
		var ev map[string]any
		_ = json.Unmarshal(d, &ev)
		ev["uuid"] = fmt.Sprintf("ab62c0bc-2837-11eb-9823-%012d", i)
		ev["target"].([]any)[0].(map[string]any)["alternateId"] = fmt.Sprintf("user%d@example.com", i)
		events = append(events, ev, session.Data.Events[0])
	}
	body, _ := json.Marshal(map[string]any{"eventType": "com.okta.event_hook", "data": map[string]any{"events": events}})
	req := &sources.Request{Context: b.Context(), Method: http.MethodPost, Body: body}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		d, err := o.Parse(req)
		if err != nil || len(d.Events) != 5 {
			b.Fatalf("%d events, %v", len(d.Events), err)
		}
	}
}
