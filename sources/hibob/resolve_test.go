package hibob

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/conformance"
	"github.com/offboarder/offboarder/vendorapi"
)

// hibobAuth is the Authorization a service user is sent with: Basic, its id
// as user name and its token as password.
// https://apidocs.hibob.com/reference/authorization
var hibobAuth = "Basic " + base64.StdEncoding.EncodeToString([]byte(hibobTestUser+":"+hibobTestToken))

// hibobRead is the People API read Resolve sends for employee id, answered
// with status, headers and body. The request must ask for exactly the work
// email and the termination date, by field id, machine-readable.
// https://apidocs.hibob.com/reference/post_people-identifier
func hibobRead(id string, status int, header map[string]string, body string) conformance.APIStep {
	return conformance.APIStep{
		Method: http.MethodPost, Path: "/v1/people/" + id, Auth: hibobAuth,
		Check: func(t *testing.T, r *http.Request, b []byte) {
			var req map[string]any
			if err := json.Unmarshal(b, &req); err != nil {
				t.Errorf("request body is not JSON: %v", err)
				return
			}
			want := map[string]any{"fields": []any{"root.id", "root.email", "internal.terminationDate"}}
			if !reflect.DeepEqual(req, want) {
				t.Errorf("request body = %v, want %v", req, want)
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
		},
		Status: status, Header: header, Body: body,
	}
}

func TestHiBobResolve(t *testing.T) {
	ev := func(typ string) sources.Event {
		return sources.Event{ID: typ + "/" + hibobTestID + "@t", Type: typ, Reason: hibobDefaultEvents[typ], IDs: map[string]string{"hibob": hibobTestID}}
	}
	person := func(email, termination string) string {
		b, _ := json.Marshal(map[string]any{"id": hibobTestID, "email": email, "internal": map[string]any{"terminationDate": termination}})
		return string(b)
	}
	ids := map[string]string{"hibob": hibobTestID}
	reset := strconv.FormatInt(time.Now().Add(45*time.Second).Unix(), 10)
	tests := []struct {
		name      string
		ev        sources.Event
		step      conformance.APIStep
		want      sources.Resolution
		kind      vendorapi.Kind
		retryable bool
		errText   string
	}{
		{name: "employee.left resolves to the normalised work email, now",
			ev: ev(EmployeeLeft), step: hibobRead(hibobTestID, 200, nil, person("Jane.Roe@Example.com", "2025-01-08")),
			want: sources.Resolution{Email: "jane.roe@example.com", Offboard: true, IDs: ids}},
		{name: "employee.left with a termination date ahead (Garden leave) schedules the end of that day in UTC",
			ev: ev(EmployeeLeft), step: hibobRead(hibobTestID, 200, nil, person("jane.roe@example.com", "2025-02-28")),
			want: sources.Resolution{Email: "jane.roe@example.com", Offboard: true, EffectiveAt: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), IDs: ids}},
		{name: "immediate access revocation is now whatever the termination date",
			ev: ev(AccessRevokedAtOnce), step: hibobRead(hibobTestID, 200, nil, person("jane.roe@example.com", "2025-02-28")),
			want: sources.Resolution{Email: "jane.roe@example.com", Offboard: true, IDs: ids}},
		{name: "employee.inactivated is now",
			ev: ev(EmployeeInactivated), step: hibobRead(hibobTestID, 200, nil, person("jane.roe@example.com", "2025-02-28")),
			want: sources.Resolution{Email: "jane.roe@example.com", Offboard: true, IDs: ids}},
		{name: "a termination date the service user may not see leaves it now",
			ev: ev(EmployeeLeft), step: hibobRead(hibobTestID, 200, nil, `{"id":"`+hibobTestID+`","email":"jane.roe@example.com"}`),
			want: sources.Resolution{Email: "jane.roe@example.com", Offboard: true, IDs: ids}},
		{name: "no work email is a permanent error naming the employee",
			ev: ev(EmployeeLeft), step: hibobRead(hibobTestID, 200, nil, `{"id":"`+hibobTestID+`"}`),
			kind: vendorapi.Invalid, errText: "employee " + hibobTestID + " has no work email"},
		{name: "an unknown employee is a permanent not-found error naming the employee",
			ev: ev(EmployeeDeleted), step: hibobRead(hibobTestID, 404, nil, `{"key":"employee.not.found","error":"Employee not found"}`),
			kind: vendorapi.NotFound, errText: "employee " + hibobTestID + " not found"},
		{name: "rejected service user credentials are permanent",
			ev: ev(EmployeeLeft), step: hibobRead(hibobTestID, 401, nil, `{"key":"unauthorized","error":"Unauthorized"}`),
			kind: vendorapi.Auth, errText: "credentials rejected"},
		{name: "a service user without permission is permanent and quotes Bob",
			ev: ev(EmployeeLeft), step: hibobRead(hibobTestID, 403, nil, `{"key":"forbidden","error":"Missing permissions"}`),
			kind: vendorapi.Auth, errText: "forbidden: Missing permissions"},
		{name: "a 429 is retryable after X-RateLimit-Reset",
			ev: ev(EmployeeLeft), step: hibobRead(hibobTestID, 429, map[string]string{"X-RateLimit-Limit": "50", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}, ""),
			kind: vendorapi.RateLimited, retryable: true},
		{name: "a 502 is retryable",
			ev: ev(EmployeeLeft), step: hibobRead(hibobTestID, 502, nil, ""),
			kind: vendorapi.Transient, retryable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := conformance.FakeSender(t, tt.step)
			h := newTestHiBob(t, hibobSettings(srv.URL))
			got, err := h.Resolve(t.Context(), tt.ev)
			if tt.kind == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if got.Email != tt.want.Email || got.Offboard != tt.want.Offboard || !got.EffectiveAt.Equal(tt.want.EffectiveAt) ||
					!reflect.DeepEqual(got.IDs, tt.want.IDs) || got.Ignored != "" || got.Reason != "" {
					t.Fatalf("got %+v, want %+v", got, tt.want)
				}
				return
			}
			var e *vendorapi.Error
			if !errors.As(err, &e) {
				t.Fatalf("want a *Error, got %v", err)
			}
			if e.Kind != tt.kind || vendorapi.Retryable(err) != tt.retryable {
				t.Fatalf("got kind %v retryable %v (%v); want %v %v", e.Kind, vendorapi.Retryable(err), err, tt.kind, tt.retryable)
			}
			if tt.kind == vendorapi.RateLimited {
				if d := vendorapi.RetryAfter(err); d < 30*time.Second || d > 46*time.Second {
					t.Fatalf("retry after %v, want the X-RateLimit-Reset wait of about 45s", d)
				}
			}
			if !strings.Contains(err.Error(), tt.errText) || !strings.HasPrefix(err.Error(), "hibob: ") {
				t.Fatalf("error %q lacks %q or the hibob prefix", err, tt.errText)
			}
			for _, secret := range []string{hibobTestToken, hibobAuth, hibobTestSecret} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error text holds a secret: %v", err)
				}
			}
		})
	}
}

func TestHiBobResolveRefusesAnEventWithoutAUsableID(t *testing.T) {
	srv := conformance.FakeSender(t) // any request fails the test
	h := newTestHiBob(t, hibobSettings(srv.URL))
	for _, id := range []string{"", "a@example.com", "../people", strings.Repeat("1", 65)} {
		_, err := h.Resolve(t.Context(), sources.Event{ID: "x", Type: EmployeeLeft, IDs: map[string]string{"hibob": id}})
		var e *vendorapi.Error
		if !errors.As(err, &e) || e.Kind != vendorapi.Invalid || vendorapi.Retryable(err) {
			t.Errorf("id %q: want a permanent invalid error, got %v", id, err)
		}
	}
}

func TestHiBobDefaultBaseURL(t *testing.T) {
	var got string
	hc := &http.Client{Transport: conformance.RoundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r.URL.Scheme + "://" + r.URL.Host + r.URL.EscapedPath()
		return &http.Response{StatusCode: http.StatusNotFound, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
	})}
	srcs, err := buildWith([]sources.Spec{{Name: "bob", Type: "hibob", Settings: hibobSettings("")}}, sources.Deps{HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = srcs[0].(*Source).Resolve(t.Context(), sources.Event{Type: EmployeeLeft, IDs: map[string]string{"hibob": hibobTestID}})
	if got != "https://api.hibob.com/v1/people/"+hibobTestID {
		t.Fatalf("People API read sent to %q", got)
	}
}
