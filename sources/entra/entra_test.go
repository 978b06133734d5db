package entra

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/conformance"
)

// entraClientState is the clientState of the testdata deliveries, the
// documentation's own example value.
const entraClientState = "secretClientValue"

const (
	entraUserA = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
	entraUserB = "0baaae0f-b0b3-4645-867d-742d8fb669a2"
	entraUserC = "c37b074d-fe9d-4e68-83ad-b4401d3be174"
	entraSubID = "7f105c7d-2dc5-4530-97cd-4e7ae6534c07"
)

// entraSettings are a valid source's settings; base and token point at a
// fake (or nowhere, for tests that call no API).
func entraSettings(base string) map[string]any {
	if base == "" {
		base = "http://127.0.0.1:9"
	}
	return map[string]any{
		"client_state":     entraClientState,
		"tenant_id":        "84bd8158-6d4d-4958-8b9f-9d6445542f95",
		"client_id":        "6731de76-14a6-49ae-97bc-6eba6914391e",
		"client_secret":    "sampleCredentia1s-NOT-REAL~secret",
		"notification_url": "https://offboarder.example.com/webhooks/entra",
		"lifecycle_url":    "https://offboarder.example.com/webhooks/entra",
		"base_url":         base,
		"token_url":        base + "/84bd8158-6d4d-4958-8b9f-9d6445542f95/oauth2/v2.0/token",
	}
}

func newTestEntra(t testing.TB, settings map[string]any) *Source {
	t.Helper()
	if settings == nil {
		settings = entraSettings("")
	}
	srcs, err := build([]sources.Spec{{Name: "entra", Type: "entra", Settings: settings}})
	if err != nil {
		t.Fatal(err)
	}
	return srcs[0].(*Source)
}

func entraFile(t testing.TB, name string) []byte {
	t.Helper()
	return testdataFile(t, name)
}

// entraItem is one user change notification with the given values.
func entraItem(clientState, changeType, userID string, seq any) string {
	return fmt.Sprintf(`{"changeType":%q,"clientState":%q,"resource":"Users/%s","resourceData":{"@odata.type":"#Microsoft.Graph.User","@odata.id":"Users/%s","id":%q,"organizationId":"84bd8158-6d4d-4958-8b9f-9d6445542f95","sequenceNumber":%v},"subscriptionExpirationDateTime":"2026-03-29T11:00:00.0000000+00:00","subscriptionId":%q,"tenantId":"84bd8158-6d4d-4958-8b9f-9d6445542f95"}`,
		changeType, clientState, userID, userID, userID, seq, entraSubID)
}

func entraBatch(items ...string) []byte {
	return []byte(`{"value":[` + strings.Join(items, ",") + `]}`)
}

func TestEntraHandshake(t *testing.T) {
	e := newTestEntra(t, nil)
	// A token as Graph sends it, percent-encoded in the query.
	const raw = "Validation%3A%20Testing%20client%20application%20reachability%20for%20subscription%20Request-Id%3A%2025f5c4d4-4fb3-4c2b-b4a6-2a1e3f4f7f5e"
	const decoded = "Validation: Testing client application reachability for subscription Request-Id: 25f5c4d4-4fb3-4c2b-b4a6-2a1e3f4f7f5e"
	query := func(s string) url.Values {
		q, err := url.ParseQuery(s)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	tests := []struct {
		name      string
		method    string
		query     url.Values
		handshake bool
		status    int
		echo      string
	}{
		{"a validation POST is answered with the token, URL-decoded, as plain text", http.MethodPost, query("validationToken=" + raw), true, http.StatusOK, decoded},
		{"a validation GET is answered alike", http.MethodGet, query("validationToken=" + raw), true, http.StatusOK, decoded},
		{"a plus in the query is a space in the token", http.MethodPost, query("validationToken=a+b"), true, http.StatusOK, "a b"},
		{"an empty token is a 400", http.MethodPost, query("validationToken="), true, http.StatusBadRequest, ""},
		{"two tokens are a 400", http.MethodPost, query("validationToken=a&validationToken=b"), true, http.StatusBadRequest, ""},
		{"a token with markup is a 400, not echoed", http.MethodPost, query("validationToken=%3Cscript%3E"), true, http.StatusBadRequest, ""},
		{"a token with a control character is a 400", http.MethodPost, query("validationToken=a%0Ab"), true, http.StatusBadRequest, ""},
		{"an overlong token is a 400", http.MethodPost, query("validationToken=" + strings.Repeat("a", entraMaxValidationToken+1)), true, http.StatusBadRequest, ""},
		{"a POST without the parameter is not a handshake", http.MethodPost, query("other=1"), false, 0, ""},
		{"a PUT with the parameter is not a handshake", http.MethodPut, query("validationToken=abc"), false, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, ok := e.Handshake(&sources.Request{Context: t.Context(), Method: tt.method, Query: tt.query,
				Header: conformance.Headers("Content-Type", "text/plain; charset=utf-8")})
			if ok != tt.handshake {
				t.Fatalf("handshake = %v, want %v", ok, tt.handshake)
			}
			if !ok {
				return
			}
			if resp.Status != tt.status || !strings.HasPrefix(resp.ContentType, "text/plain") {
				t.Fatalf("got %d %q %q, want %d text/plain", resp.Status, resp.ContentType, resp.Body, tt.status)
			}
			if tt.status == http.StatusOK && string(resp.Body) != tt.echo {
				t.Fatalf("body = %q, want %q", resp.Body, tt.echo)
			}
			if tt.status != http.StatusOK && strings.Contains(string(resp.Body), "script") {
				t.Fatalf("a refused token is echoed: %q", resp.Body)
			}
		})
	}
}

func TestEntraVerify(t *testing.T) {
	e := newTestEntra(t, nil)
	good := entraItem(entraClientState, "updated", entraUserA, 1)
	tests := []struct {
		name string
		body []byte
		ok   bool
	}{
		{"a delivery whose item carries the client state is accepted", entraFile(t, "user-updated.json"), true},
		{"a batch whose every item carries it is accepted", entraFile(t, "two-users.json"), true},
		{"a lifecycle notification carrying it is accepted", entraFile(t, "lifecycle-reauthorization.json"), true},
		{"a batch with one item of another client state is refused whole", entraFile(t, "wrong-client-state.json"), false},
		{"a bad first item is not outweighed by a good second", entraBatch(entraItem("aRogueActorsGuess", "updated", entraUserB, 2), good), false},
		{"an item without a client state is refused", entraBatch(good, `{"changeType":"updated","resource":"Users/`+entraUserB+`"}`), false},
		{"a null client state is refused", entraBatch(`{"clientState":null}`), false},
		{"an empty client state is refused", entraBatch(entraItem("", "updated", entraUserA, 1)), false},
		{"a prefix of the client state is refused", entraBatch(entraItem(entraClientState[:len(entraClientState)-1], "updated", entraUserA, 1)), false},
		{"the client state with a character more is refused", entraBatch(entraItem(entraClientState+"x", "updated", entraUserA, 1)), false},
		{"the client state in another letter case is refused", entraBatch(entraItem(strings.ToUpper(entraClientState), "updated", entraUserA, 1)), false},
		{"an empty collection cannot be authenticated", []byte(`{"value":[]}`), false},
		{"a body without value cannot be authenticated", []byte(`{}`), false},
		{"a body that is not JSON cannot be authenticated", []byte(`clientState=secretClientValue`), false},
		{"an empty body cannot be authenticated", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.Verify(&sources.Request{Context: t.Context(), Method: http.MethodPost, Body: tt.body})
			if tt.ok {
				if err != nil {
					t.Fatalf("want accepted, got %v", err)
				}
				return
			}
			if !errors.Is(err, sources.ErrUnauthorized) || !strings.HasPrefix(err.Error(), "entra: ") {
				t.Fatalf("want an entra ErrUnauthorized, got %v", err)
			}
			if strings.Contains(err.Error(), entraClientState[:8]) || strings.Contains(err.Error(), "Rogue") {
				t.Fatalf("error text holds a client state: %v", err)
			}
		})
	}
}

func TestEntraParse(t *testing.T) {
	e := newTestEntra(t, nil)
	type want struct {
		id, user string
		reason   offboard.Reason
		typ      string
	}
	idOf := func(user, change, seq string) string { return entraSubID + "/" + user + "/" + change + "/" + seq }
	tests := []struct {
		name    string
		body    []byte
		events  []want
		ignored string
		wantErr string
	}{
		{name: "an updated user is an id-only deactivation keyed by its sequence number", body: entraFile(t, "user-updated.json"),
			events: []want{{idOf(entraUserA, "updated", "638447365230137400"), entraUserA, offboard.ReasonDeactivated, "updated"}}},
		{name: "a deleted user is an id-only termination", body: entraFile(t, "user-deleted.json"),
			events: []want{{idOf(entraUserC, "deleted", "638447366110048213"), entraUserC, offboard.ReasonTerminated, "deleted"}}},
		{name: "a batch of two users gives one event each, in order", body: entraFile(t, "two-users.json"),
			events: []want{
				{idOf(entraUserA, "updated", "638447365230137400"), entraUserA, offboard.ReasonDeactivated, "updated"},
				{idOf(entraUserB, "updated", "638447365230137517"), entraUserB, offboard.ReasonDeactivated, "updated"},
			}},
		{name: "two changes of one user are two events", body: entraBatch(entraItem(entraClientState, "updated", entraUserA, 10), entraItem(entraClientState, "updated", entraUserA, 11)),
			events: []want{{idOf(entraUserA, "updated", "10"), entraUserA, offboard.ReasonDeactivated, "updated"}, {idOf(entraUserA, "updated", "11"), entraUserA, offboard.ReasonDeactivated, "updated"}}},
		{name: "a notification repeated in one batch counts once", body: entraBatch(entraItem(entraClientState, "updated", entraUserA, 10), entraItem(entraClientState, "updated", entraUserA, 10)),
			events: []want{{idOf(entraUserA, "updated", "10"), entraUserA, offboard.ReasonDeactivated, "updated"}}},
		{name: "a sequence number sent as a string keys alike", body: entraBatch(entraItem(entraClientState, "updated", entraUserA, `"10"`)),
			events: []want{{idOf(entraUserA, "updated", "10"), entraUserA, offboard.ReasonDeactivated, "updated"}}},
		{name: "an upper-case user id is kept in lower case",
			body:   entraBatch(entraItem(entraClientState, "updated", strings.ToUpper(entraUserA), 10)),
			events: []want{{idOf(entraUserA, "updated", "10"), entraUserA, offboard.ReasonDeactivated, "updated"}}},
		{name: "without a sequence number the notification id keys it",
			body:   entraBatch(`{"id":"lsgTZMr9KwAAA","changeType":"updated","clientState":"secretClientValue","resource":"Users/` + entraUserA + `","subscriptionId":"` + entraSubID + `"}`),
			events: []want{{idOf(entraUserA, "updated", "lsgTZMr9KwAAA"), entraUserA, offboard.ReasonDeactivated, "updated"}}},
		{name: "a lifecycle notification is ignored and named", body: entraFile(t, "lifecycle-reauthorization.json"),
			ignored: "lifecycle notifications reauthorizationRequired"},
		{name: "a mail message notification is not taken for a user", body: entraFile(t, "message-created.json"),
			ignored: `change type "created" is not updated or deleted`},
		{name: "a resource that is not a user is skipped",
			body:    entraBatch(`{"changeType":"updated","clientState":"secretClientValue","resource":"Groups/` + entraUserA + `","subscriptionId":"` + entraSubID + `"}`),
			ignored: `resource "Groups/` + entraUserA + `" is not a user`},
		{name: "a user id that is not a GUID is skipped",
			body:    entraBatch(`{"changeType":"updated","clientState":"secretClientValue","resource":"Users/../../admin","subscriptionId":"` + entraSubID + `"}`),
			ignored: "is not a user"},
		{name: "resource and resourceData naming two users is skipped",
			body:    entraBatch(`{"changeType":"updated","clientState":"secretClientValue","resource":"Users/` + entraUserA + `","resourceData":{"id":"` + entraUserB + `"},"subscriptionId":"` + entraSubID + `"}`),
			ignored: "is not a user"},
		{name: "an item without a subscription id is skipped",
			body:    entraBatch(`{"changeType":"updated","clientState":"secretClientValue","resource":"Users/` + entraUserA + `"}`),
			ignored: "no usable subscriptionId"},
		{name: "a skipped item does not cost the good one beside it",
			body:   entraBatch(`{"changeType":"created","clientState":"secretClientValue","resource":"Users/`+entraUserB+`","subscriptionId":"`+entraSubID+`"}`, entraItem(entraClientState, "deleted", entraUserA, 5)),
			events: []want{{idOf(entraUserA, "deleted", "5"), entraUserA, offboard.ReasonTerminated, "deleted"}}},
		{name: "unknown fields are fine", body: []byte(`{"validationTokens":["eyJ0"],"value":[` + entraItem(entraClientState, "updated", entraUserA, 7)[:1] + `"future":{"x":1},` + entraItem(entraClientState, "updated", entraUserA, 7)[1:] + `]}`),
			events: []want{{idOf(entraUserA, "updated", "7"), entraUserA, offboard.ReasonDeactivated, "updated"}}},
		{name: "an empty collection is ignored", body: []byte(`{"value":[]}`), ignored: "empty collection"},
		{name: "an empty body is malformed", body: nil, wantErr: "empty body"},
		{name: "clientState in another case is malformed",
			body:    []byte(strings.Replace(string(entraBatch(entraItem(entraClientState, "deleted", entraUserA, 5))), `"clientState"`, `"ClientState"`, 1)),
			wantErr: `key "value[0].ClientState" is not "clientState"`},
		{name: "clientState twice is malformed",
			body:    []byte(strings.Replace(string(entraBatch(entraItem(entraClientState, "deleted", entraUserA, 5))), `"clientState"`, `"clientState":"x","clientState"`, 1)),
			wantErr: `duplicate key "value[0].clientState"`},
		{name: "truncated JSON is malformed", body: []byte(`{"value":`), wantErr: "truncated JSON"},
		{name: "a body without value is malformed", body: []byte(`{"values":[]}`), wantErr: "value: required"},
		{name: "an array body is malformed", body: []byte(`[]`), wantErr: "wrong JSON type"},
		{name: "a value that is not a list is malformed", body: []byte(`{"value":{"changeType":"updated"}}`), wantErr: "value"},
		{name: "a collection over the bound is malformed",
			body:    entraBatch(strings.Split(strings.Repeat(`{"clientState":"secretClientValue"}|`, MaxNotifications+1), "|")[:MaxNotifications+1]...),
			wantErr: fmt.Sprintf("more than %d notifications", MaxNotifications)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := e.Parse(&sources.Request{Context: t.Context(), Method: http.MethodPost, Body: tt.body})
			if tt.wantErr != "" {
				if !errors.Is(err, sources.ErrMalformed) || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "entra: ") {
					t.Fatalf("want an entra malformed error with %q, got %v", tt.wantErr, err)
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
				if ev.ID != w.id || ev.IDs["entra"] != w.user || len(ev.IDs) != 1 || ev.Reason != w.reason || ev.Type != w.typ {
					t.Errorf("event %d: got %+v, want %+v", i, ev, w)
				}
				if ev.Email != "" || !ev.EffectiveAt.IsZero() || ev.Systems != nil || ev.DryRun {
					t.Errorf("event %d: want an id-only event, got %+v", i, ev)
				}
			}
		})
	}
}

func TestEntraNotificationWithoutSequenceIsNeverMergedWithAnother(t *testing.T) {
	e := newTestEntra(t, nil)
	body := entraBatch(`{"changeType":"updated","clientState":"secretClientValue","resource":"Users/` + entraUserA + `","subscriptionId":"` + entraSubID + `"}`)
	seen := map[string]bool{}
	for range 3 {
		d, err := e.Parse(&sources.Request{Context: t.Context(), Method: http.MethodPost, Body: body})
		if err != nil || len(d.Events) != 1 {
			t.Fatalf("got %+v, %v", d, err)
		}
		id := d.Events[0].ID
		if !strings.HasPrefix(id, entraSubID+"/"+entraUserA+"/updated/once-") || seen[id] {
			t.Fatalf("want a fresh once- key, got %q (seen before: %v)", id, seen[id])
		}
		seen[id] = true
	}
}

func TestEntraBuildErrorsNameTheKey(t *testing.T) {
	with := func(k string, v any) map[string]any {
		s := entraSettings("")
		if v == nil {
			delete(s, k)
		} else {
			s[k] = v
		}
		return s
	}
	tests := []struct {
		name     string
		settings map[string]any
		want     string
	}{
		{"a missing client state", with("client_state", nil), "sources[0] (entra).client_state: required"},
		{"a short client state", with("client_state", "hunter2"), "sources[0] (entra).client_state: too short"},
		{"a client state longer than Graph keeps", with("client_state", strings.Repeat("a", 129)), "sources[0] (entra).client_state: longer than the 128"},
		{"a client state with a space", with("client_state", "secret Client Value"), "sources[0] (entra).client_state: use printable ASCII"},
		{"a missing tenant", with("tenant_id", nil), "sources[0] (entra).tenant_id: required"},
		{"a tenant that is a path", with("tenant_id", "../common"), "sources[0] (entra).tenant_id: not a tenant id"},
		{"a missing client id", with("client_id", nil), "sources[0] (entra).client_id: required"},
		{"a missing client secret", with("client_secret", nil), "sources[0] (entra).client_secret: required"},
		{"a missing notification url", with("notification_url", nil), "sources[0] (entra).notification_url: required"},
		{"a plain http notification url", with("notification_url", "http://offboarder.example.com/webhooks/entra"), "sources[0] (entra).notification_url: must be an https url"},
		{"a lifecycle url that is not a url", with("lifecycle_url", "offboarder.example.com"), "sources[0] (entra).lifecycle_url: not an absolute url"},
		{"a base url with the version", with("base_url", "https://graph.microsoft.com/v1.0"), "sources[0] (entra).base_url: give the root without the API version"},
		{"a base url with a query", with("base_url", "https://graph.microsoft.com/?x=1"), "sources[0] (entra).base_url: must not have a query"},
		{"a token url with credentials", with("token_url", "https://u:p@login.example.com/token"), "sources[0] (entra).token_url: must not hold credentials"},
		{"a value of the wrong type", with("client_state", 12345678901234567890.0), "sources[0] (entra).client_state: must be a string, not a number"},
		{"an unknown key", with("colour", "red"), `sources[0] (entra).colour: unknown key (known:`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := build([]sources.Spec{{Name: "entra", Type: "entra", Settings: tt.settings}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("want an error with %q, got %v", tt.want, err)
			}
			for _, secret := range []string{entraClientState, "sampleCredentia1s-NOT-REAL~secret", "hunter2"} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("a secret is in the error: %v", err)
				}
			}
		})
	}
	// Every problem is reported at once.
	_, err := build([]sources.Spec{{Name: "entra", Type: "entra", Settings: map[string]any{"base_url": "ftp://x"}}})
	for _, key := range []string{"client_state", "tenant_id", "client_id", "client_secret", "notification_url", "base_url"} {
		if err == nil || !strings.Contains(err.Error(), "sources[0] (entra)."+key+":") {
			t.Errorf("want a problem with %s, got %v", key, err)
		}
	}
}

func TestEntraDefaultsAndInterfaces(t *testing.T) {
	s := entraSettings("")
	delete(s, "base_url")
	delete(s, "token_url")
	delete(s, "lifecycle_url")
	e := newTestEntra(t, s)
	if e.Name() != "entra" || e.Type() != "entra" || e.Interval() != sources.DefaultReconcileInterval || e.lifecycle != "" {
		t.Fatalf("got name %q, type %q, interval %s, lifecycle %q", e.Name(), e.Type(), e.Interval(), e.lifecycle)
	}
	var src sources.Source = e
	if _, ok := src.(sources.Resolver); !ok {
		t.Fatal("entra is not a Resolver")
	}
	if _, ok := src.(sources.Maintainer); !ok {
		t.Fatal("entra is not a Maintainer")
	}
}
