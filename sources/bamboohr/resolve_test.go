package bamboohr

import (
	"context"
	"encoding/base64"
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

// bambooHRAuth is the Authorization an API key is sent with: Basic, the key
// as user name and "x" as password.
// https://documentation.bamboohr.com/docs/getting-started
var bambooHRAuth = "Basic " + base64.StdEncoding.EncodeToString([]byte(bambooHRTestKey+":x"))

// bambooHRGet is the Get Employee request Resolve sends for employee id,
// answered with status, headers and body.
// https://documentation.bamboohr.com/reference/get-employee
func bambooHRGet(id string, status int, header map[string]string, body string) conformance.APIStep {
	return conformance.APIStep{
		Method: http.MethodGet, Path: "/api/v1/employees/" + id,
		Query:  url.Values{"fields": {"workEmail,status,employmentHistoryStatus,terminationDate"}, "onlyCurrent": {"false"}},
		Auth:   bambooHRAuth,
		Status: status, Header: header, Body: body,
	}
}

func TestBambooHRResolve(t *testing.T) {
	ev := sources.Event{ID: "67890@2026-01-31T18:42:00+0000", Type: EmployeeUpdated, Reason: offboard.ReasonTerminated, IDs: map[string]string{"bamboohr": "67890"}}
	// Errors carry their reason in X-BambooHR-Error-Message with an empty
	// body: https://documentation.bamboohr.com/reference/get-employees-directory (403)
	errHeader := func(msg string) map[string]string { return map[string]string{"X-BambooHR-Error-Message": msg} }
	tests := []struct {
		name      string
		step      conformance.APIStep
		want      sources.Resolution
		kind      vendorapi.Kind // of the error; 0: none
		retryable bool
		after     time.Duration
		errText   string
	}{
		{name: "a terminated employee is offboarded now with the normalised work email",
			step: bambooHRGet("67890", 200, nil, `{"id":"67890","workEmail":"Jane.Roe@Example.COM","status":"Inactive","employmentHistoryStatus":"Terminated","terminationDate":"2026-01-31"}`),
			want: sources.Resolution{Email: "jane.roe@example.com", Offboard: true, IDs: map[string]string{"bamboohr": "67890"}}},
		{name: "a future termination date schedules the end of that day in UTC",
			step: bambooHRGet("67890", 200, nil, `{"id":"67890","workEmail":"jane.roe@example.com","status":"Active","employmentHistoryStatus":"Terminated","terminationDate":"2026-02-27"}`),
			want: sources.Resolution{Email: "jane.roe@example.com", Offboard: true, EffectiveAt: time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC), IDs: map[string]string{"bamboohr": "67890"}}},
		{name: "a termination date of today is now",
			step: bambooHRGet("67890", 200, nil, `{"id":"67890","workEmail":"jane.roe@example.com","status":"Active","employmentHistoryStatus":"Terminated","terminationDate":"2026-02-01"}`),
			want: sources.Resolution{Email: "jane.roe@example.com", Offboard: true, IDs: map[string]string{"bamboohr": "67890"}}},
		{name: "an inactive status alone is a termination",
			step: bambooHRGet("67890", 200, nil, `{"id":"67890","workEmail":"jane.roe@example.com","status":"Inactive"}`),
			want: sources.Resolution{Email: "jane.roe@example.com", Offboard: true, IDs: map[string]string{"bamboohr": "67890"}}},
		{name: "a rehired employee with an old termination date is not leaving",
			step: bambooHRGet("67890", 200, nil, `{"id":"67890","workEmail":"jane.roe@example.com","status":"Active","employmentHistoryStatus":"Full-Time","terminationDate":"2025-06-30"}`),
			want: sources.Resolution{Ignored: `bamboohr: employee 67890 is not leaving (status "Active", employment status "Full-Time", no termination date ahead)`}},
		{name: "an empty 0000-00-00 termination date is no date",
			step: bambooHRGet("67890", 200, nil, `{"id":"67890","workEmail":"jane.roe@example.com","status":"Active","employmentHistoryStatus":"Part-Time","terminationDate":"0000-00-00"}`),
			want: sources.Resolution{Ignored: "is not leaving"}},
		{name: "no work email is a permanent error naming the employee",
			step: bambooHRGet("67890", 200, nil, `{"id":"67890","workEmail":"","status":"Inactive"}`),
			kind: vendorapi.Invalid, errText: "employee 67890 has no work email"},
		{name: "an unusable work email is a permanent error",
			step: bambooHRGet("67890", 200, nil, `{"id":"67890","workEmail":"jane roe","status":"Inactive"}`),
			kind: vendorapi.Invalid, errText: "employee 67890 has an unusable work email"},
		{name: "status fields the API key may not see are a permanent error, not a dismissal",
			step: bambooHRGet("67890", 200, nil, `{"id":"67890","workEmail":"jane.roe@example.com"}`),
			kind: vendorapi.Auth, errText: "cannot see status"},
		{name: "an unknown employee is a permanent not-found error naming the employee",
			step: bambooHRGet("67890", 404, errHeader("Employee not found"), ""),
			kind: vendorapi.NotFound, errText: "employee 67890 not found"},
		{name: "a rejected API key is permanent",
			step: bambooHRGet("67890", 401, errHeader("Unauthorized"), ""),
			kind: vendorapi.Auth, errText: "credentials rejected"},
		{name: "an employee the API key may not view is permanent",
			step: bambooHRGet("67890", 403, errHeader("Insufficient Permissions to view this employee"), `{"error":{"code":403,"message":"Insufficient Permissions to view this employee"}}`),
			kind: vendorapi.Auth, errText: "Insufficient Permissions"},
		{name: "a 429 with Retry-After is retryable after that wait",
			step: bambooHRGet("67890", 429, map[string]string{"Retry-After": "30"}, ""),
			kind: vendorapi.RateLimited, retryable: true, after: 30 * time.Second},
		{name: "BambooHR's 503 throttling answer with Retry-After is retryable after that wait",
			step: bambooHRGet("67890", 503, map[string]string{"Retry-After": "60"}, ""),
			kind: vendorapi.Transient, retryable: true, after: time.Minute},
		{name: "a 500 is retryable",
			step: bambooHRGet("67890", 500, nil, ""),
			kind: vendorapi.Transient, retryable: true},
		{name: "an answer that is not JSON is permanent",
			step: bambooHRGet("67890", 200, nil, `<employee id="67890"/>`),
			kind: vendorapi.Invalid, errText: "not the expected json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := conformance.FakeSender(t, tt.step)
			b := newTestBambooHR(t, bambooHRSettings(srv.URL))
			got, err := b.Resolve(t.Context(), ev)
			if tt.kind == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if tt.want.Ignored != "" {
					if got.Offboard || !strings.Contains(got.Ignored, tt.want.Ignored) {
						t.Fatalf("want not leaving with %q, got %+v", tt.want.Ignored, got)
					}
					return
				}
				if got.Email != tt.want.Email || got.Offboard != tt.want.Offboard || !got.EffectiveAt.Equal(tt.want.EffectiveAt) ||
					got.Ignored != "" || got.Reason != "" || got.IDs["bamboohr"] != tt.want.IDs["bamboohr"] {
					t.Fatalf("got %+v, want %+v", got, tt.want)
				}
				return
			}
			var e *vendorapi.Error
			if !errors.As(err, &e) {
				t.Fatalf("want a *Error, got %v", err)
			}
			if e.Kind != tt.kind || vendorapi.Retryable(err) != tt.retryable || vendorapi.RetryAfter(err) != tt.after {
				t.Fatalf("got kind %v retryable %v after %v (%v); want %v %v %v", e.Kind, vendorapi.Retryable(err), vendorapi.RetryAfter(err), err, tt.kind, tt.retryable, tt.after)
			}
			if !strings.Contains(err.Error(), tt.errText) || !strings.HasPrefix(err.Error(), "bamboohr: ") {
				t.Fatalf("error %q lacks %q or the bamboohr prefix", err, tt.errText)
			}
			for _, secret := range []string{bambooHRTestKey, bambooHRAuth, bambooHRTestSecret} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error text holds a secret: %v", err)
				}
			}
		})
	}
}

func TestBambooHRResolveRefusesAnEventWithoutAUsableID(t *testing.T) {
	srv := conformance.FakeSender(t) // any request fails the test
	b := newTestBambooHR(t, bambooHRSettings(srv.URL))
	for _, id := range []string{"", "0", "../admin", "12a"} {
		_, err := b.Resolve(t.Context(), sources.Event{ID: "x", IDs: map[string]string{"bamboohr": id}})
		var e *vendorapi.Error
		if !errors.As(err, &e) || e.Kind != vendorapi.Invalid || vendorapi.Retryable(err) {
			t.Errorf("id %q: want a permanent invalid error, got %v", id, err)
		}
	}
}

func TestBambooHRResolveStopsWithTheContext(t *testing.T) {
	srv := conformance.FakeSender(t)
	b := newTestBambooHR(t, bambooHRSettings(srv.URL))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := b.Resolve(ctx, sources.Event{ID: "x", IDs: map[string]string{"bamboohr": "67890"}})
	if !vendorapi.Retryable(err) || !strings.Contains(err.Error(), "stopped") {
		t.Fatalf("want a retryable stopped error, got %v", err)
	}
}

func TestBambooHRDefaultBaseURLIsTheCompanyHost(t *testing.T) {
	var got string
	hc := &http.Client{Transport: conformance.RoundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r.URL.Scheme + "://" + r.URL.Host + r.URL.EscapedPath()
		return &http.Response{StatusCode: http.StatusNotFound, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
	})}
	srcs, err := buildWith([]sources.Spec{{Name: "hr", Type: "bamboohr", Settings: map[string]any{
		"secret": bambooHRTestSecret, "company_domain": "Acme", "api_key": bambooHRTestKey,
	}}}, sources.Deps{HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = srcs[0].(*Source).Resolve(t.Context(), sources.Event{IDs: map[string]string{"bamboohr": "67890"}})
	if got != "https://acme.bamboohr.com/api/v1/employees/67890" {
		t.Fatalf("Get Employee sent to %q", got)
	}
}
