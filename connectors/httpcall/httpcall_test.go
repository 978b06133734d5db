package httpcall_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/connectors/conformance"
	"github.com/offboarder/offboarder/connectors/httpcall"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// The fake is an in-house app as an operator would describe it: POST
// /api/users/{email}/sessions?reason=… with a bearer token and a JSON body
// ends the person's sessions and answers 204; an unknown person is 404;
// errors are {"message": …} or {"error": …}, and a proxy in front of the
// app answers 429 with Retry-After.

const (
	appToken = "app-token-9f8e7d6c5b4a3921"
	appEmail = "isaac.brock@example.com"
	appPath  = "/api/users/isaac.brock@example.com/sessions"
)

var appHeaders = http.Header{
	"Authorization": {"Bearer " + appToken},
	"X-Okta-Id":     {"00u1abcd"},
	"Content-Type":  {"application/json"},
	"User-Agent":    {"offboarder"},
}

var appSubject = offboard.Subject{Email: appEmail, IDs: map[string]string{"okta": "00u1abcd"}, Reason: offboard.ReasonTerminated}

// types holds the http type alone, for Build.
var types = map[string]func() connectors.Config{"http": func() connectors.Config { return new(httpcall.Config) }}

// appSettings are a working config against base; extra replaces keys.
func appSettings(base string, extra map[string]any) map[string]any {
	s := map[string]any{
		"base_url": base + "/api",
		"path":     "/users/{{.Email}}/sessions?reason={{.Reason}}",
		"headers":  map[string]any{"Authorization": "Bearer " + appToken, "X-Okta-Id": "{{.IDs.okta}}"},
		"body":     `{"email": {{json .Email}}, "reason": {{json .Reason}}, "okta_id": {{json .IDs.okta}}}`,
	}
	for k, v := range extra {
		if v == nil {
			delete(s, k)
			continue
		}
		s[k] = v
	}
	return s
}

func openApp(base string, extra map[string]any) (connectors.Connector, error) {
	cs, err := connectors.Build([]connectors.Spec{{Name: "app", Type: "http", Settings: appSettings(base, extra)}}, types, connectors.Deps{})
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

// appFake answers the scripted steps and checks every request's body.
func appFake(t *testing.T, steps ...conformance.Step) http.Handler {
	t.Helper()
	script := conformance.Script(t, appHeaders, steps...)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var got map[string]string
		if err := json.Unmarshal(raw, &got); err != nil || got["email"] != appEmail || got["reason"] != "terminated" || got["okta_id"] != "00u1abcd" {
			t.Errorf("body = %s, want the subject's email, reason and okta id (%v)", raw, err)
		}
		script.ServeHTTP(w, r)
	})
}

func appStep(status int, body string, header map[string]string) conformance.Step {
	return conformance.Step{Method: "POST", Path: appPath, Query: url.Values{"reason": {"terminated"}},
		Status: status, Body: body, Header: header}
}

func TestHTTPConformance(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		New:     func(base string) (connectors.Connector, error) { return openApp(base, nil) },
		Secret:  appToken,
		Subject: appSubject,
		Handler: func(t *testing.T, s conformance.Scenario) http.Handler {
			switch s {
			case conformance.Success:
				return appFake(t, appStep(204, "", nil))
			case conformance.NotFound:
				return appFake(t, appStep(404, `{"error":"no such user"}`, nil))
			case conformance.RateLimited:
				return appFake(t, appStep(429, `{"message":"slow down"}`, map[string]string{"Retry-After": "30"}))
			case conformance.ServerError:
				return appFake(t, appStep(503, `{"message":"maintenance"}`, nil))
			case conformance.Unauthorized:
				return appFake(t, appStep(401, `{"message":"token `+appToken+` is not valid"}`, nil))
			}
			return conformance.Hanging()
		},
	})
}

// revokeOnce serves h, opens the app with extra and revokes s under a
// report; it returns the outcome, the detail and the error.
func revokeOnce(t *testing.T, h http.Handler, extra map[string]any, s offboard.Subject) (offboard.Outcome, string, error) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := openApp(srv.URL, extra)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	ctx, detail := connectors.WithReport(t.Context())
	out, err := c.Revoke(ctx, s)
	return out, detail(), err
}

func TestHTTPOutcomes(t *testing.T) {
	t.Run("a success code is acknowledged, and the detail names the request by its template", func(t *testing.T) {
		out, detail, err := revokeOnce(t, appFake(t, appStep(202, `{"ok":true}`, nil)), nil, appSubject)
		if err != nil || out != offboard.Acknowledged {
			t.Fatalf("Revoke = %q, %v; want acknowledged", out, err)
		}
		for _, want := range []string{"POST /users/{{.Email}}/sessions?reason={{.Reason}}", "202", "nothing was read back"} {
			if !strings.Contains(detail, want) {
				t.Errorf("detail %q does not hold %q", detail, want)
			}
		}
		if strings.Contains(detail, appToken) || strings.Contains(detail, appEmail) {
			t.Errorf("detail %q holds a filled-in value", detail)
		}
	})
	t.Run("a configured not-found code is not_found", func(t *testing.T) {
		out, _, err := revokeOnce(t, appFake(t, appStep(410, `{"error":"gone"}`, nil)), map[string]any{"not_found_codes": []any{410}}, appSubject)
		if err != nil || out != offboard.NotFound {
			t.Fatalf("Revoke = %q, %v; want not_found", out, err)
		}
	})
	t.Run("a 2xx outside success_codes is a permanent invalid error", func(t *testing.T) {
		_, _, err := revokeOnce(t, appFake(t, appStep(200, `{}`, nil)), map[string]any{"success_codes": []any{204}}, appSubject)
		if !vendorapi.IsKind(err, vendorapi.Invalid) || vendorapi.Retryable(err) {
			t.Fatalf("error = %v, want a permanent invalid error", err)
		}
	})
	t.Run("a 403 is a permanent auth error", func(t *testing.T) {
		_, _, err := revokeOnce(t, appFake(t, appStep(403, `{"message":"forbidden"}`, nil)), nil, appSubject)
		if !vendorapi.IsKind(err, vendorapi.Auth) || vendorapi.Retryable(err) {
			t.Fatalf("error = %v, want a permanent auth error", err)
		}
	})
	t.Run("a 400 is a permanent invalid error with the app's words and without the header secret", func(t *testing.T) {
		_, detail, err := revokeOnce(t, appFake(t, appStep(400, `{"message":"bad header Bearer `+appToken+`"}`, nil)), nil, appSubject)
		if !vendorapi.IsKind(err, vendorapi.Invalid) || vendorapi.Retryable(err) {
			t.Fatalf("error = %v, want a permanent invalid error", err)
		}
		if !strings.Contains(err.Error(), "bad header") || strings.Contains(err.Error(), appToken) || strings.Contains(detail, appToken) {
			t.Errorf("error %q / detail %q: want the app's words with the token redacted", err, detail)
		}
	})
	t.Run("a subject without an id the templates name fails before any request", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t.Errorf("unexpected request %s %s", r.Method, r.URL)
		}))
		t.Cleanup(srv.Close)
		c, err := openApp(srv.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Revoke(t.Context(), offboard.Subject{Email: appEmail, Reason: offboard.ReasonTerminated})
		if !vendorapi.IsKind(err, vendorapi.Invalid) || !strings.Contains(err.Error(), `the subject has no id "okta"`) {
			t.Fatalf("error = %v, want an invalid error naming the id", err)
		}
		if strings.Contains(err.Error(), appToken) {
			t.Errorf("error holds the header secret: %v", err)
		}
	})
}

// A request that disables an account obeys disable_for; one that does
// not is sent for every reason.
func TestHTTPDisableFor(t *testing.T) {
	tests := []struct {
		name   string
		extra  map[string]any
		reason offboard.Reason
		sent   bool
	}{
		{"without disables it is sent for a security reset", nil, offboard.ReasonSecurity, true},
		{"with disables it is sent for terminated by default", map[string]any{"disables": true}, offboard.ReasonTerminated, true},
		{"with disables it is sent for deactivated by default", map[string]any{"disables": true}, offboard.ReasonDeactivated, true},
		{"with disables it is skipped for security by default", map[string]any{"disables": true}, offboard.ReasonSecurity, false},
		{"with disables it is skipped for suspended by default", map[string]any{"disables": true}, offboard.ReasonSuspended, false},
		{"with disables it is skipped for manual by default", map[string]any{"disables": true}, offboard.ReasonManual, false},
		{"disable_for names the reasons it is sent for", map[string]any{"disables": true, "disable_for": []any{"security"}}, offboard.ReasonSecurity, true},
		{"disable_for leaves out the others", map[string]any{"disables": true, "disable_for": []any{"security"}}, offboard.ReasonTerminated, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []string
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				got = append(got, r.URL.Query().Get("reason"))
				mu.Unlock()
				w.WriteHeader(204)
			})
			s := appSubject
			s.Reason = tt.reason
			out, detail, err := revokeOnce(t, h, tt.extra, s)
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case tt.sent && (out != offboard.Acknowledged || len(got) != 1 || got[0] != string(tt.reason)):
				t.Errorf("outcome %q after %v requests, want acknowledged after one for %s", out, got, tt.reason)
			case !tt.sent && (out != offboard.Skipped || len(got) != 0):
				t.Errorf("outcome %q after %v requests, want skipped and none", out, got)
			case !tt.sent && !strings.Contains(detail, `the reason is "`+string(tt.reason)+`"`):
				t.Errorf("detail %q does not give the reason", detail)
			}
		})
	}
}

// A value the path prints stays one segment (or one query value): the
// request never leaves base_url.
func TestHTTPPathCannotEscapeBaseURL(t *testing.T) {
	for _, id := range []string{"a/b", "x?admin=1", "x#frag", "%2e%2e", "..%2f..", "https://evil.example", "//evil.example/x", "a b&c=d"} {
		t.Run(id, func(t *testing.T) {
			var got *url.URL
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r.URL
				w.WriteHeader(204)
			})
			extra := map[string]any{"path": "/users/{{.IDs.app}}/logout?who={{.IDs.app}}", "headers": nil, "body": nil}
			s := offboard.Subject{Email: appEmail, IDs: map[string]string{"app": id}, Reason: offboard.ReasonTerminated}
			out, _, err := revokeOnce(t, h, extra, s)
			if err != nil || out != offboard.Acknowledged || got == nil {
				t.Fatalf("Revoke = %q, %v (request %v); want acknowledged", out, err, got)
			}
			segs := strings.Split(got.EscapedPath(), "/")
			if len(segs) != 5 || segs[1] != "api" || segs[2] != "users" || segs[4] != "logout" {
				t.Fatalf("path %q, want /api/users/<one segment>/logout", got.EscapedPath())
			}
			if seg, _ := url.PathUnescape(segs[3]); seg != id {
				t.Errorf("segment %q decodes to %q, want %q", segs[3], seg, id)
			}
			if q := got.Query(); len(q) != 1 || q.Get("who") != id {
				t.Errorf("query %q, want who=%q alone", got.RawQuery, id)
			}
		})
	}
	for _, id := range []string{"..", ".", "", "../../admin", "a/../../b"} {
		t.Run("the id "+strconv.Quote(id)+" is refused without a request", func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				t.Errorf("unexpected request %s", r.URL)
			})
			extra := map[string]any{"path": "/users/{{.IDs.app}}/logout", "headers": nil, "body": nil}
			_, _, err := revokeOnce(t, h, extra, offboard.Subject{Email: appEmail, IDs: map[string]string{"app": id}})
			if !vendorapi.IsKind(err, vendorapi.Invalid) || !strings.Contains(err.Error(), "path") {
				t.Fatalf("error = %v, want an invalid error naming path", err)
			}
		})
	}
}

// Every template is checked at start; each problem names its key, and a
// header's text, a secret, is never shown.
func TestHTTPConfigProblems(t *testing.T) {
	const headerSecret = "s3cr3t-header-value-77aa"
	tests := []struct {
		name  string
		extra map[string]any
		want  []string
	}{
		{"a path that does not parse", map[string]any{"path": "/users/{{.Email"}, []string{"connectors[0] (http).path: "}},
		{"a field the subject does not have", map[string]any{"path": "/users/{{.Emial}}"}, []string{"path: ", "Emial"}},
		{"no path", map[string]any{"path": nil}, []string{"path: required"}},
		{"a path with ..", map[string]any{"path": "/../admin/{{.Email}}"}, []string{"path: not a path below base_url"}},
		{"a path with a fragment", map[string]any{"path": "/users/{{.Email}}#x"}, []string{"path: not a path below base_url"}},
		{"a path calling another template", map[string]any{"path": `{{define "x"}}/a{{end}}{{template "x"}}`}, []string{"path: {{define}}"}},
		{"a method that is not a token", map[string]any{"method": "PO ST"}, []string{"method: must be an HTTP method token"}},
		{"a body with GET", map[string]any{"method": "GET"}, []string{"body: not allowed with GET"}},
		{"a status over 599", map[string]any{"success_codes": []any{200, 700}}, []string{"success_codes[1]: must be an HTTP status, 100 to 599"}},
		{"a status under 100", map[string]any{"not_found_codes": []any{99}}, []string{"not_found_codes[0]: must be an HTTP status"}},
		{"a code both success and not found", map[string]any{"not_found_codes": []any{204}}, []string{"not_found_codes: 204 is also a success code"}},
		{"a body value not encoded with json", map[string]any{"body": `{"email": "{{.Email}}"}`}, []string{"body: every value the body prints must be encoded with json"}},
		{"a body that is not JSON once filled in", map[string]any{"body": `{"email": {{json .Email}}`}, []string{"body: not valid JSON once filled in"}},
		{"a body json inside quotes", map[string]any{"body": `{"email": "x{{json .Email}}"}`}, []string{"body: not valid JSON once filled in"}},
		{"a body that does not parse", map[string]any{"body": `{{json .Email`}, []string{"body: "}},
		{"a base_url that is not http", map[string]any{"base_url": "ftp://app.example.com"}, []string{"base_url: "}},
		{"disable_for without disables", map[string]any{"disable_for": []any{"terminated"}}, []string{"disable_for: only with disables: true"}},
		{"a bad disable_for reason", map[string]any{"disables": true, "disable_for": []any{"fired"}}, []string{"disable_for[0]: want one of"}},
		{"an unknown key", map[string]any{"url": "https://x"}, []string{"url: unknown key"}},
		{"a header template that does not parse", map[string]any{"headers": map[string]any{"Authorization": "Bearer " + headerSecret + " {{"}},
			[]string{"headers.Authorization: not a valid template"}},
		{"a header template that fails", map[string]any{"headers": map[string]any{"Authorization": "Bearer {{printf \"%s\" \"" + headerSecret + "\" | .Emial}}"}},
			[]string{"headers.Authorization: "}},
		{"every template's problem at once", map[string]any{"path": "/users/{{.Emial}}", "body": `{"a": {{json .Nope}}}`,
			"headers": map[string]any{"Authorization": "Bearer " + headerSecret + " {{.Emial}}"}},
			[]string{`path: at 1:9: executing "path" at <.Emial>`, "body: at ", "Nope", "headers.Authorization: the template fails"}},
		{"an empty header value", map[string]any{"headers": map[string]any{"Authorization": ""}}, []string{"headers.Authorization: empty"}},
		{"a header set by offboarder", map[string]any{"headers": map[string]any{"Host": headerSecret}}, []string{"headers.Host: set by offboarder"}},
		{"a header value with a line break", map[string]any{"headers": map[string]any{"X-A": headerSecret + "\r\nX-B: 1"}}, []string{"headers.X-A: the filled-in value is not a valid header value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conformance.WantBuildErrors(t, types, "http", appSettings("https://app.example.com", tt.extra), tt.want, headerSecret, appToken)
		})
	}
	t.Run("a valid config with explicit escapes, a GET and a custom method opens", func(t *testing.T) {
		for _, extra := range []map[string]any{
			{"path": "/u/{{pathescape .Email}}?e={{urlquery .Email}}"},
			{"method": "GET", "body": nil},
			{"method": "PURGE", "success_codes": []any{200}, "not_found_codes": []any{404, 410}},
			{"path": "/users/{{with $id := .IDs.okta}}{{$id}}{{end}}/x", "disables": true, "disable_for": []any{"terminated", "security"}},
		} {
			if _, err := openApp("https://app.example.com", extra); err != nil {
				t.Errorf("%v: %v", extra, err)
			}
		}
	})
}

// An error of any kind the connector returns is a *vendorapi.Error named
// after it.
func TestHTTPErrorsAreNamed(t *testing.T) {
	_, _, err := revokeOnce(t, appFake(t, appStep(500, `{"message":"boom"}`, nil)), nil, appSubject)
	if e, ok := errors.AsType[*vendorapi.Error](err); !ok || e.System != "app" || !strings.HasPrefix(err.Error(), "app: ") {
		t.Fatalf("error = %v, want an *Error of system app", err)
	}
}
