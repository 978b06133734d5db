package entra

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/conformance"
	"github.com/offboarder/offboarder/vendorapi"
)

const (
	entraTenant      = "84bd8158-6d4d-4958-8b9f-9d6445542f95"
	entraTokenPath   = "/" + entraTenant + "/oauth2/v2.0/token"
	entraAccessToken = "eyJ0eXAiOiJKV1QiLCJub25jZSI6Ik-fake-graph-token"
	entraBearer      = "Bearer " + entraAccessToken
)

// entraTokenStep is the client-credentials token request [cc-flow]: a form
// with the app's id and secret and the .default scope of Graph.
func entraTokenStep() conformance.APIStep {
	return conformance.APIStep{Method: http.MethodPost, Path: entraTokenPath, Status: http.StatusOK,
		Check: func(t *testing.T, r *http.Request, body []byte) {
			t.Helper()
			form, err := url.ParseQuery(string(body))
			if err != nil {
				t.Errorf("token request: %v", err)
			}
			want := url.Values{
				"grant_type":    {"client_credentials"},
				"client_id":     {"6731de76-14a6-49ae-97bc-6eba6914391e"},
				"client_secret": {"sampleCredentia1s-NOT-REAL~secret"},
				"scope":         {"https://graph.microsoft.com/.default"},
			}
			if form.Encode() != want.Encode() {
				t.Errorf("token request form = %q, want %q", form.Encode(), want.Encode())
			}
		},
		Body: `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"` + entraAccessToken + `"}`}
}

// entraGraphError is Graph's error body [errors].
func entraGraphError(code, msg string) string {
	return `{"error":{"code":"` + code + `","message":"` + msg + `","innerError":{"date":"2026-03-10T10:00:00","request-id":"b7d2e1c4-0000-4000-8000-000000000000","client-request-id":"b7d2e1c4-0000-4000-8000-000000000000"}}}`
}

var entraSelect = url.Values{"$select": {"id,mail,userPrincipalName,accountEnabled"}}

func entraUserStep(status int, body string, header map[string]string) conformance.APIStep {
	return conformance.APIStep{Method: http.MethodGet, Path: "/v1.0/users/" + entraUserA, Query: entraSelect, Auth: entraBearer,
		Status: status, Header: header, Body: body}
}

func TestEntraResolve(t *testing.T) {
	notFound := entraGraphError("Request_ResourceNotFound", "Resource '"+entraUserA+"' does not exist or one of its queried reference-property objects are not present.")
	deletedPath := "/v1.0/directory/deletedItems/" + entraUserA
	tests := []struct {
		name    string
		steps   []conformance.APIStep
		ids     map[string]string
		want    sources.Resolution
		kind    vendorapi.Kind // of the error; 0: none
		errText string
		wait    time.Duration
	}{
		{name: "a disabled user is offboarded with its mail",
			steps: []conformance.APIStep{entraTokenStep(), entraUserStep(http.StatusOK, `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users(id,mail,userPrincipalName,accountEnabled)/$entity","id":"`+entraUserA+`","mail":"AdeleV@contoso.com","userPrincipalName":"AdeleV@contoso.onmicrosoft.com","accountEnabled":false}`, nil)},
			want:  sources.Resolution{Email: "adelev@contoso.com", Offboard: true}},
		{name: "a disabled user without mail is offboarded with its user principal name",
			steps: []conformance.APIStep{entraTokenStep(), entraUserStep(http.StatusOK, `{"id":"`+entraUserA+`","mail":null,"userPrincipalName":"AdeleV@contoso.com","accountEnabled":false}`, nil)},
			want:  sources.Resolution{Email: "adelev@contoso.com", Offboard: true}},
		{name: "an enabled user is not leaving",
			steps: []conformance.APIStep{entraTokenStep(), entraUserStep(http.StatusOK, `{"id":"`+entraUserA+`","mail":"AdeleV@contoso.com","userPrincipalName":"AdeleV@contoso.com","accountEnabled":true}`, nil)},
			want:  sources.Resolution{Ignored: "entra: user " + entraUserA + " is still enabled"}},
		{name: "a soft-deleted user is read from deleted items and terminated",
			steps: []conformance.APIStep{entraTokenStep(), entraUserStep(http.StatusNotFound, notFound, nil),
				{Method: http.MethodGet, Path: deletedPath, Auth: entraBearer, Status: http.StatusOK,
					Body: `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#directoryObjects/$entity","@odata.type":"#microsoft.graph.user","id":"` + entraUserA + `","displayName":"Adele Vance","mail":"AdeleV@contoso.com","userPrincipalName":"87d349ed44d743e19a835f2406dee5bdAdeleV@contoso.com","deletedDateTime":"2026-03-10T09:58:00Z"}`}},
			want: sources.Resolution{Email: "adelev@contoso.com", Offboard: true, Reason: offboard.ReasonTerminated}},
		{name: "a soft-deleted user without mail loses the id prefix of its user principal name",
			steps: []conformance.APIStep{entraTokenStep(), entraUserStep(http.StatusNotFound, notFound, nil),
				{Method: http.MethodGet, Path: deletedPath, Auth: entraBearer, Status: http.StatusOK,
					Body: `{"@odata.type":"#microsoft.graph.user","id":"` + entraUserA + `","mail":null,"userPrincipalName":"87d349ed44d743e19a835f2406dee5bdAdeleV@contoso.com"}`}},
			want: sources.Resolution{Email: "adelev@contoso.com", Offboard: true, Reason: offboard.ReasonTerminated}},
		{name: "a deleted item that is not a user is refused",
			steps: []conformance.APIStep{entraTokenStep(), entraUserStep(http.StatusNotFound, notFound, nil),
				{Method: http.MethodGet, Path: deletedPath, Auth: entraBearer, Status: http.StatusOK,
					Body: `{"@odata.type":"#microsoft.graph.group","id":"` + entraUserA + `","mail":"team@contoso.com"}`}},
			kind: vendorapi.Invalid, errText: "not a user"},
		{name: "a purged user is a permanent error naming the id",
			steps: []conformance.APIStep{entraTokenStep(), entraUserStep(http.StatusNotFound, notFound, nil),
				{Method: http.MethodGet, Path: deletedPath, Auth: entraBearer, Status: http.StatusNotFound, Body: notFound}},
			kind: vendorapi.NotFound, errText: "user " + entraUserA + " is neither in the directory nor among its deleted items"},
		{name: "a user without any usable address is a permanent error",
			steps: []conformance.APIStep{entraTokenStep(), entraUserStep(http.StatusOK, `{"id":"`+entraUserA+`","mail":null,"userPrincipalName":"adele","accountEnabled":false}`, nil)},
			kind:  vendorapi.Invalid, errText: "neither a usable mail nor a usable userPrincipalName"},
		{name: "an answer without accountEnabled is a permanent error",
			steps: []conformance.APIStep{entraTokenStep(), entraUserStep(http.StatusOK, `{"id":"`+entraUserA+`","mail":"AdeleV@contoso.com"}`, nil)},
			kind:  vendorapi.Invalid, errText: "User.Read.All"},
		{name: "a throttled read is retryable after Graph's Retry-After",
			steps: []conformance.APIStep{entraTokenStep(), entraUserStep(http.StatusTooManyRequests, entraGraphError("TooManyRequests", "Too many requests"), map[string]string{"Retry-After": "120"})},
			kind:  vendorapi.RateLimited, errText: "TooManyRequests", wait: 2 * time.Minute},
		{name: "a 503 is retryable",
			steps: []conformance.APIStep{entraTokenStep(), entraUserStep(http.StatusServiceUnavailable, entraGraphError("serviceNotAvailable", "Service unavailable"), map[string]string{"Retry-After": "10"})},
			kind:  vendorapi.Transient, wait: 10 * time.Second},
		{name: "a 401 from Graph is a permanent auth error",
			steps: []conformance.APIStep{entraTokenStep(), entraUserStep(http.StatusUnauthorized, entraGraphError("InvalidAuthenticationToken", "Access token validation failure."), nil)},
			kind:  vendorapi.Auth, errText: "InvalidAuthenticationToken"},
		{name: "a 403 (no User.Read.All) is a permanent auth error",
			steps: []conformance.APIStep{entraTokenStep(), entraUserStep(http.StatusForbidden, entraGraphError("Authorization_RequestDenied", "Insufficient privileges to complete the operation."), nil)},
			kind:  vendorapi.Auth, errText: "Authorization_RequestDenied"},
		{name: "a rejected client secret is a permanent auth error",
			steps: []conformance.APIStep{{Method: http.MethodPost, Path: entraTokenPath, Status: http.StatusUnauthorized,
				Body: `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.","error_codes":[7000215]}`}},
			kind: vendorapi.Auth, errText: "invalid_client"},
		{name: "a token endpoint failing is retryable",
			steps: []conformance.APIStep{{Method: http.MethodPost, Path: entraTokenPath, Status: http.StatusServiceUnavailable, Body: `{"error":"temporarily_unavailable"}`}},
			kind:  vendorapi.Transient},
		{name: "an event without an entra id is a permanent error and calls nothing",
			ids:  map[string]string{"okta": "00u1"},
			kind: vendorapi.Invalid, errText: "no entra user id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := conformance.FakeSender(t, tt.steps...)
			e := newTestEntra(t, entraSettings(srv.URL))
			ids := tt.ids
			if ids == nil {
				ids = map[string]string{"entra": entraUserA}
			}
			got, err := e.Resolve(t.Context(), sources.Event{ID: "x", Type: "updated", IDs: ids, Reason: offboard.ReasonDeactivated})
			if tt.kind == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if got.Email != tt.want.Email || got.Offboard != tt.want.Offboard || got.Ignored != tt.want.Ignored || got.Reason != tt.want.Reason {
					t.Fatalf("got %+v, want %+v", got, tt.want)
				}
				return
			}
			var ce *vendorapi.Error
			if !errors.As(err, &ce) || ce.Kind != tt.kind {
				t.Fatalf("want a %s *Error, got %#v", tt.kind, err)
			}
			if !strings.HasPrefix(err.Error(), "entra: ") || !strings.Contains(err.Error(), tt.errText) {
				t.Fatalf("want an entra error with %q, got %v", tt.errText, err)
			}
			if tt.wait != 0 && ce.RetryAfter != tt.wait {
				t.Fatalf("RetryAfter = %s, want %s", ce.RetryAfter, tt.wait)
			}
			if vendorapi.Retryable(err) != (tt.kind == vendorapi.Transient || tt.kind == vendorapi.RateLimited) {
				t.Fatalf("Retryable = %v for %s", vendorapi.Retryable(err), tt.kind)
			}
			for _, secret := range []string{"sampleCredentia1s-NOT-REAL~secret", entraClientState, entraAccessToken} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("a secret is in the error: %v", err)
				}
			}
		})
	}
}

func TestEntraResolveFetchesOneTokenForManyCalls(t *testing.T) {
	disabled := `{"id":"` + entraUserA + `","mail":"AdeleV@contoso.com","accountEnabled":false}`
	srv := conformance.FakeSender(t, entraTokenStep(), entraUserStep(http.StatusOK, disabled, nil), entraUserStep(http.StatusOK, disabled, nil))
	e := newTestEntra(t, entraSettings(srv.URL))
	for range 2 {
		if _, err := e.Resolve(t.Context(), sources.Event{IDs: map[string]string{"entra": entraUserA}}); err != nil {
			t.Fatal(err)
		}
	}
}

// entraSubBody decodes a subscription request body.
func entraSubBody(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Errorf("request body is not JSON: %s", body)
	}
	return m
}

// entraCreateStep is POST /subscriptions; it checks the body and answers
// 201 with the subscription id.
func entraCreateStep(id, clientState string, at time.Time) conformance.APIStep {
	exp := at.UTC().Add(SubscriptionLifetime).Format(entraGraphTime)
	return conformance.APIStep{Method: http.MethodPost, Path: "/v1.0/subscriptions", Auth: entraBearer, Status: http.StatusCreated,
		Check: func(t *testing.T, r *http.Request, body []byte) {
			t.Helper()
			m := entraSubBody(t, body)
			want := map[string]any{
				"resource": "users", "changeType": "updated,deleted",
				"notificationUrl":          "https://offboarder.example.com/webhooks/entra",
				"lifecycleNotificationUrl": "https://offboarder.example.com/webhooks/entra",
				"expirationDateTime":       exp, "clientState": clientState,
			}
			if len(m) != len(want) {
				t.Errorf("create body = %v, want %v", m, want)
			}
			for k, v := range want {
				if m[k] != v {
					t.Errorf("create body %s = %v, want %v", k, m[k], v)
				}
			}
			if r.Header.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type = %q", r.Header.Get("Content-Type"))
			}
		},
		Body: `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#subscriptions/$entity","id":"` + id + `","resource":"users","applicationId":"6731de76-14a6-49ae-97bc-6eba6914391e","changeType":"updated,deleted","clientState":null,"notificationUrl":"https://offboarder.example.com/webhooks/entra","lifecycleNotificationUrl":"https://offboarder.example.com/webhooks/entra","expirationDateTime":"` + exp + `","creatorId":"8ee44408-0679-472c-bc2a-692812af3437","latestSupportedTlsVersion":"v1_2"}`}
}

// entraRenewStep is PATCH /subscriptions/{id} with only the new expiry.
func entraRenewStep(id string, at time.Time, status int, body string) conformance.APIStep {
	exp := at.UTC().Add(SubscriptionLifetime).Format(entraGraphTime)
	if body == "" && status == http.StatusOK {
		body = `{"id":"` + id + `","resource":"users","changeType":"updated,deleted","expirationDateTime":"` + exp + `"}`
	}
	return conformance.APIStep{Method: http.MethodPatch, Path: "/v1.0/subscriptions/" + id, Auth: entraBearer, Status: status, Body: body,
		Check: func(t *testing.T, _ *http.Request, body []byte) {
			t.Helper()
			if m := entraSubBody(t, body); len(m) != 1 || m["expirationDateTime"] != exp {
				t.Errorf("renew body = %v, want only expirationDateTime %s", m, exp)
			}
		}}
}

func entraDeleteStep(id string, status int, body string) conformance.APIStep {
	return conformance.APIStep{Method: http.MethodDelete, Path: "/v1.0/subscriptions/" + id, Auth: entraBearer, Status: status, Body: body}
}

func entraStored(t *testing.T, st *conformance.StateMap) entraSubState {
	t.Helper()
	raw, ok, _ := st.Get(t.Context(), entraStateKey)
	if !ok {
		t.Fatal("no subscription state stored")
	}
	var s entraSubState
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), entraClientState) {
		t.Fatalf("the stored state holds the client state: %s", raw)
	}
	return s
}

func TestEntraMaintainKeepsOneSubscription(t *testing.T) {
	const (
		sub1 = "7f105c7d-2dc5-4530-97cd-4e7ae6534c07"
		sub2 = "2b1c4c4e-5e2f-4b5a-9f1e-0c6d3a9b8e71"
		sub3 = "9a0e7b1d-3c4f-4e2a-8b6d-5f1e2d3c4b5a"
	)
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Hour)
	t2 := t1.Add(time.Hour)
	t3 := t2.Add(time.Hour)
	t4 := t3.Add(time.Hour)
	const newState = "anotherClientValue0123"
	srv := conformance.FakeSender(t,
		// Run 1: nothing stored: the delta's baseline, then create.
		entraTokenStep(), entraDeltaStep("", "", "d1"), entraCreateStep(sub1, entraClientState, t0),
		// Run 2: renew the stored one.
		entraDeltaStep("d1", "", "d2"), entraRenewStep(sub1, t1, http.StatusOK, ""),
		// Run 3: Graph removed it: create anew.
		entraDeltaStep("d2", "", "d3"),
		entraRenewStep(sub1, t2, http.StatusNotFound, entraGraphError("ResourceNotFound", "The object was not found.")),
		entraCreateStep(sub2, entraClientState, t2),
		// Run 4 (client_state changed, a new source and client): create
		// first, then delete the old one, which fails.
		entraTokenStep(), entraDeltaStep("d3", "", "d4"), entraCreateStep(sub3, newState, t3),
		entraDeleteStep(sub2, http.StatusServiceUnavailable, entraGraphError("serviceNotAvailable", "try later")),
		// Run 5: renew, and delete the old one again (gone already: fine).
		entraDeltaStep("d4", "", "d5"), entraRenewStep(sub3, t4, http.StatusOK, ""),
		entraDeleteStep(sub2, http.StatusNotFound, entraGraphError("ResourceNotFound", "The object was not found.")),
	)
	st := &conformance.StateMap{}
	e := newTestEntra(t, entraSettings(srv.URL))
	run := func(at time.Time) {
		t.Helper()
		e.now = func() time.Time { return at }
		events, err := e.Maintain(t.Context(), st)
		if err != nil || events != nil {
			t.Fatalf("maintain at %s: %v, %v", at, events, err)
		}
	}
	run(t0)
	if s := entraStored(t, st); s.ID != sub1 || !s.ExpiresAt.Equal(t0.Add(SubscriptionLifetime)) || s.ClientStateMark == "" {
		t.Fatalf("after create: %+v", s)
	}
	run(t1)
	if s := entraStored(t, st); s.ID != sub1 || !s.ExpiresAt.Equal(t1.Add(SubscriptionLifetime)) {
		t.Fatalf("after renew: %+v", s)
	}
	run(t2)
	if s := entraStored(t, st); s.ID != sub2 {
		t.Fatalf("after recreate: %+v", s)
	}
	settings := entraSettings(srv.URL)
	settings["client_state"] = newState
	e2 := newTestEntra(t, settings)
	e2.now = func() time.Time { return t3 }
	if _, err := e2.Maintain(t.Context(), st); err != nil {
		t.Fatal(err)
	}
	if s := entraStored(t, st); s.ID != sub3 || len(s.Retired) != 1 || s.Retired[0] != sub2 {
		t.Fatalf("after replace with a failed delete: %+v", s)
	}
	e2.now = func() time.Time { return t4 }
	if _, err := e2.Maintain(t.Context(), st); err != nil {
		t.Fatal(err)
	}
	if s := entraStored(t, st); s.ID != sub3 || len(s.Retired) != 0 {
		t.Fatalf("after the retried delete: %+v", s)
	}
}

func TestEntraMaintainErrors(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	stored := func(id string) *conformance.StateMap {
		e := newTestEntra(t, nil)
		b, _ := json.Marshal(entraSubState{ID: id, ExpiresAt: t0.Add(24 * time.Hour),
			NotificationURL: e.notifyURL, LifecycleURL: e.lifecycle, ClientStateMark: e.stateMark})
		return &conformance.StateMap{Values: map[string][]byte{entraStateKey: b}}
	}
	tests := []struct {
		name    string
		st      *conformance.StateMap
		steps   []conformance.APIStep
		kind    vendorapi.Kind
		errText string
		wait    time.Duration
		keepID  string // the subscription id the state must still hold
	}{
		{name: "a throttled renewal is retryable and keeps the subscription", st: stored(entraSubID),
			steps: []conformance.APIStep{entraTokenStep(), entraDeltaStep("", "", "d1"), entraRenewStep(entraSubID, t0, http.StatusTooManyRequests, entraGraphError("TooManyRequests", "Too many requests"))},
			kind:  vendorapi.RateLimited, errText: "PATCH /v1.0/subscriptions/", keepID: entraSubID},
		{name: "a renewal failing with 500 is retryable", st: stored(entraSubID),
			steps: []conformance.APIStep{entraTokenStep(), entraDeltaStep("", "", "d1"), entraRenewStep(entraSubID, t0, http.StatusInternalServerError, entraGraphError("generalException", "An unexpected error occurred"))},
			kind:  vendorapi.Transient, keepID: entraSubID},
		{name: "a failed notificationUrl validation is a permanent error with Graph's words", st: &conformance.StateMap{},
			steps: []conformance.APIStep{entraTokenStep(), entraDeltaStep("", "", "d1"), {Method: http.MethodPost, Path: "/v1.0/subscriptions", Auth: entraBearer, Status: http.StatusBadRequest,
				Body: entraGraphError("ValidationError", "Subscription validation request failed. Response must exactly match validationToken query parameter.")}},
			kind: vendorapi.Invalid, errText: "Subscription validation request failed"},
		{name: "a create without the permission is a permanent auth error", st: &conformance.StateMap{},
			steps: []conformance.APIStep{entraTokenStep(), entraDeltaStep("", "", "d1"), {Method: http.MethodPost, Path: "/v1.0/subscriptions", Auth: entraBearer, Status: http.StatusForbidden,
				Body: entraGraphError("ExtensionError", "Operation: Create; Exception: [Status Code: Forbidden; Reason: Insufficient privileges]")}},
			kind: vendorapi.Auth},
		{name: "a throttled create waits as Graph asks", st: &conformance.StateMap{},
			steps: []conformance.APIStep{entraTokenStep(), entraDeltaStep("", "", "d1"), {Method: http.MethodPost, Path: "/v1.0/subscriptions", Auth: entraBearer, Status: http.StatusTooManyRequests,
				Header: map[string]string{"Retry-After": "30"}, Body: entraGraphError("TooManyRequests", "Too many requests")}},
			kind: vendorapi.RateLimited, wait: 30 * time.Second},
		{name: "an answer without a subscription id is refused", st: &conformance.StateMap{},
			steps: []conformance.APIStep{entraTokenStep(), entraDeltaStep("", "", "d1"), {Method: http.MethodPost, Path: "/v1.0/subscriptions", Auth: entraBearer, Status: http.StatusCreated, Body: `{"value":[]}`}},
			kind:  vendorapi.Invalid, errText: "no subscription id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := conformance.FakeSender(t, tt.steps...)
			e := newTestEntra(t, entraSettings(srv.URL))
			e.now = func() time.Time { return t0 }
			_, err := e.Maintain(t.Context(), tt.st)
			var ce *vendorapi.Error
			if !errors.As(err, &ce) || ce.Kind != tt.kind || !strings.Contains(err.Error(), tt.errText) {
				t.Fatalf("want a %s error with %q, got %v", tt.kind, tt.errText, err)
			}
			if tt.wait != 0 && ce.RetryAfter != tt.wait {
				t.Fatalf("RetryAfter = %s, want %s", ce.RetryAfter, tt.wait)
			}
			if tt.keepID != "" {
				if s := entraStored(t, tt.st); s.ID != tt.keepID {
					t.Fatalf("the stored subscription changed: %+v", s)
				}
			}
			if strings.Contains(err.Error(), entraClientState) || strings.Contains(err.Error(), "sampleCredentia1s") {
				t.Fatalf("a secret is in the error: %v", err)
			}
		})
	}
}

func TestEntraMaintainStartsAfreshFromUnreadableState(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	srv := conformance.FakeSender(t, entraTokenStep(), entraDeltaStep("", "", "d1"), entraCreateStep(entraSubID, entraClientState, t0))
	e := newTestEntra(t, entraSettings(srv.URL))
	e.now = func() time.Time { return t0 }
	st := &conformance.StateMap{Values: map[string][]byte{entraStateKey: []byte(`{"id":`)}}
	if _, err := e.Maintain(t.Context(), st); err != nil {
		t.Fatal(err)
	}
	if s := entraStored(t, st); s.ID != entraSubID {
		t.Fatalf("got %+v", s)
	}
}

func TestEntraStopsWithTheContext(t *testing.T) {
	srv := conformance.HangingSender(t)
	e := newTestEntra(t, entraSettings(srv.URL))
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := e.Resolve(ctx, sources.Event{IDs: map[string]string{"entra": entraUserA}})
	if err == nil || !vendorapi.Retryable(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want a retryable error wrapping the deadline, got %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("Resolve took %s after its context ended", d)
	}
}
