package scim_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/connectors/conformance"
	"github.com/offboarder/offboarder/connectors/scim"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// The fake below is shaped from RFC 7644 (the ListResponse of a filtered
// GET /Users, PATCH with a PatchOp, the §3.12 error body) and Lucid's SCIM
// documentation (https://developer.lucid.co/scim/: the base URL
// /scim/v2, "Authorization: Bearer <token>", the User resource with
// userName, emails and active; https://developer.lucid.co/reference/getallusers:
// filter with eq, 400 for a bad filter, 401 for a bad token;
// https://lucid.readme.io/v1.0/reference/modifyuserpatch: 403 when the
// user does not exist).

const (
	scimToken = "lucid-scim-test-token-1502c55ad68b4f3a"
	scimEmail = "isaac.brock@example.com"
	scimID    = "lucid-1234"
	scimRoot  = "/scim/v2"
)

var scimHeaders = http.Header{
	"Authorization": {"Bearer " + scimToken},
	"User-Agent":    {"offboarder"},
	"Accept":        {"application/scim+json, application/json"},
}

type step = conformance.Step

var types = map[string]func() connectors.Config{"scim": func() connectors.Config { return new(scim.Config) }}

// openSCIM opens a scim connector at baseURL + /scim/v2 through Build;
// extra settings are added to base_url and token.
func openSCIM(baseURL string, extra map[string]any) (connectors.Connector, error) {
	settings := map[string]any{"base_url": baseURL + scimRoot, "token": scimToken}
	for k, v := range extra {
		settings[k] = v
	}
	cs, err := connectors.Build([]connectors.Spec{{Name: "lucid", Type: "scim", Settings: settings}}, types, connectors.Deps{})
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

// scimUser is a User resource as Lucid shows it.
func scimUser(id, userName, email string, active bool) string {
	a := "false"
	if active {
		a = "true"
	}
	return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:lucid:1.0:User"],` +
		`"id":"` + id + `","userName":"` + userName + `","name":{"givenName":"Isaac","familyName":"Brock"},` +
		`"emails":[{"value":"` + email + `","type":"work","primary":true}],"active":` + a + `,` +
		`"meta":{"resourceType":"User","location":"https://users.lucid.app/scim/v2/Users/` + id + `"}}`
}

func scimList(users ...string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":` +
		itoa(len(users)) + `,"startIndex":1,"itemsPerPage":` + itoa(len(users)) + `,"Resources":[` + strings.Join(users, ",") + `]}`
}

func itoa(n int) string { return strconv.Itoa(n) }

func scimErr(status, scimType, detail string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"` + status + `","scimType":"` + scimType + `","detail":"` + detail + `"}`
}

func byUserName(status int, body string) step {
	return step{Method: "GET", Path: scimRoot + "/Users", Status: status, Body: body,
		Query: url.Values{"filter": {`userName eq "` + scimEmail + `"`}}}
}

func byEmail(status int, body string) step {
	return step{Method: "GET", Path: scimRoot + "/Users", Status: status, Body: body,
		Query: url.Values{"filter": {`emails.value eq "` + scimEmail + `"`}}}
}

func patch(status int, body string) step {
	return step{Method: "PATCH", Path: scimRoot + "/Users/" + scimID, Status: status, Body: body}
}

func get(status int, body string) step {
	return step{Method: "GET", Path: scimRoot + "/Users/" + scimID, Status: status, Body: body}
}

var (
	active   = scimUser(scimID, scimEmail, scimEmail, true)
	inactive = scimUser(scimID, scimEmail, scimEmail, false)
)

func TestSCIMConformance(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		New:     func(base string) (connectors.Connector, error) { return openSCIM(base, nil) },
		Secret:  scimToken,
		Subject: offboard.Subject{Email: scimEmail, Reason: offboard.ReasonTerminated},
		Handler: func(t *testing.T, s conformance.Scenario) http.Handler {
			switch s {
			case conformance.Success:
				return conformance.Script(t, scimHeaders, byUserName(200, scimList(active)), patch(200, inactive), get(200, inactive))
			case conformance.NotFound:
				return conformance.Script(t, scimHeaders, byUserName(200, scimList()), byEmail(200, scimList()))
			case conformance.RateLimited:
				s := byUserName(429, scimErr("429", "", "Too many requests"))
				s.Header = map[string]string{"Retry-After": "30"}
				return conformance.Script(t, scimHeaders, s)
			case conformance.ServerError:
				return conformance.Script(t, scimHeaders, byUserName(503, scimErr("503", "", "Service unavailable")))
			case conformance.Unauthorized:
				return conformance.Script(t, scimHeaders, byUserName(401, scimErr("401", "", "Invalid bearer token")))
			}
			return conformance.Hanging()
		},
	})
}

// TestSCIMRevokePerReason: a leaver (terminated, deactivated) is deactivated
// and read back; a session reset (security, suspended, manual) is skipped
// with no PATCH, its reason in the detail.
func TestSCIMRevokePerReason(t *testing.T) {
	tests := []struct {
		reason offboard.Reason
		steps  []step
		want   offboard.Outcome
		detail string
	}{
		{offboard.ReasonTerminated, []step{byUserName(200, scimList(active)), patch(200, inactive), get(200, inactive)}, offboard.Verified,
			"account deactivated; live sessions are not ended by this API"},
		{offboard.ReasonDeactivated, []step{byUserName(200, scimList(active)), patch(204, ""), get(200, inactive)}, offboard.Verified,
			"account deactivated; live sessions are not ended by this API"},
		{offboard.ReasonSecurity, []step{byUserName(200, scimList(active))}, offboard.Skipped,
			`account not deactivated: the reason is "security", and disable_for is terminated, deactivated`},
		{offboard.ReasonSuspended, []step{byUserName(200, scimList(active))}, offboard.Skipped,
			`account not deactivated: the reason is "suspended", and disable_for is terminated, deactivated`},
		{offboard.ReasonManual, []step{byUserName(200, scimList(active))}, offboard.Skipped,
			`account not deactivated: the reason is "manual", and disable_for is terminated, deactivated`},
	}
	for _, tt := range tests {
		t.Run(string(tt.reason), func(t *testing.T) {
			out, detail, err := revoke(t, nil, offboard.Subject{Email: scimEmail, Reason: tt.reason}, tt.steps...)
			if err != nil || out != tt.want {
				t.Fatalf("Revoke = %q, %v; want %q", out, err, tt.want)
			}
			if detail != tt.detail {
				t.Errorf("detail = %q, want %q", detail, tt.detail)
			}
		})
	}
}

// revoke runs one Revoke against the scripted fake and returns its
// outcome, its detail and its error.
func revoke(t *testing.T, extra map[string]any, s offboard.Subject, steps ...step) (offboard.Outcome, string, error) {
	t.Helper()
	srv := httptest.NewServer(conformance.Script(t, scimHeaders, steps...))
	t.Cleanup(srv.Close)
	c, err := openSCIM(srv.URL, extra)
	if err != nil {
		t.Fatal(err)
	}
	ctx, detail := connectors.WithReport(t.Context())
	out, err := c.Revoke(ctx, s)
	return out, detail(), err
}

func TestSCIMRevoke(t *testing.T) {
	leaver := offboard.Subject{Email: scimEmail, Reason: offboard.ReasonTerminated}
	other := scimUser("lucid-5678", "ibrock", scimEmail, true)
	stranger := scimUser("lucid-9999", "someone@example.com", "someone@example.com", true)
	tests := []struct {
		name   string
		extra  map[string]any
		steps  []step
		want   offboard.Outcome
		kind   vendorapi.Kind // 0: no error
		text   []string       // in the error text or, without an error, in the detail
		status int
	}{{
		name:  "a user found by email when the userName differs is deactivated",
		steps: []step{byUserName(200, scimList()), byEmail(200, scimList(scimUser(scimID, "ibrock", scimEmail, true))), patch(200, inactive), get(200, inactive)},
		want:  offboard.Verified,
	}, {
		name:  "an already inactive account is not patched",
		steps: []step{byUserName(200, scimList(inactive))},
		want:  offboard.Verified, text: []string{"account already deactivated"},
	}, {
		name:  "a server that ignores the filter deactivates no one else",
		steps: []step{byUserName(200, scimList(stranger)), byEmail(200, scimList(stranger))},
		want:  offboard.NotFound,
	}, {
		name:  "two accounts with the email are a permanent error naming both",
		steps: []step{byUserName(200, scimList()), byEmail(200, scimList(scimUser(scimID, "ibrock", scimEmail, true), other))},
		kind:  vendorapi.Invalid, text: []string{"2 users match", scimID, "lucid-5678", "by hand"},
	}, {
		name:  "an account that still reads active after the patch is acknowledged",
		steps: []step{byUserName(200, scimList(active)), patch(200, active), get(200, active)},
		want:  offboard.Acknowledged, text: []string{"still reads active"},
	}, {
		name:  "a user deleted before the patch (404) is not found",
		steps: []step{byUserName(200, scimList(active)), patch(404, scimErr("404", "", "Resource lucid-1234 not found"))},
		want:  offboard.NotFound,
	}, {
		name: "Lucid's 403 for a user that does not exist is read back as not found",
		steps: []step{byUserName(200, scimList(active)), patch(403, ""),
			get(404, scimErr("404", "", "User not found"))},
		want: offboard.NotFound,
	}, {
		name:  "a 403 for a user that still exists stays an auth error",
		steps: []step{byUserName(200, scimList(active)), patch(403, scimErr("403", "", "Forbidden")), get(200, active)},
		kind:  vendorapi.Auth, status: 403, text: []string{"permission"},
	}, {
		name:  "a bad filter is a permanent error with the scimType",
		steps: []step{byUserName(400, scimErr("400", "invalidFilter", "Unsupported operator"))},
		kind:  vendorapi.Invalid, status: 400, text: []string{`"invalidFilter: Unsupported operator"`},
	}, {
		name:  "a 404 of the search is a wrong base_url",
		steps: []step{byUserName(404, "")},
		kind:  vendorapi.NotFound, status: 404, text: []string{"check base_url"},
	}, {
		name:  "a 409 of the patch is a permanent error with the detail",
		steps: []step{byUserName(200, scimList(active)), patch(409, scimErr("409", "uniqueness", "userName already exists"))},
		kind:  vendorapi.Invalid, status: 409, text: []string{"uniqueness: userName already exists"},
	}, {
		name:  "with disable_for security, a terminated leaver's account is left active",
		extra: map[string]any{"disable_for": []any{"security"}},
		steps: []step{byUserName(200, scimList(active))},
		want:  offboard.Skipped, text: []string{`the reason is "terminated", and disable_for is security`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, detail, err := revoke(t, tt.extra, leaver, tt.steps...)
			if tt.kind == 0 {
				if err != nil || out != tt.want {
					t.Fatalf("Revoke = %q, %v; want %q", out, err, tt.want)
				}
				for _, w := range tt.text {
					if !strings.Contains(detail, w) {
						t.Errorf("detail %q does not hold %q", detail, w)
					}
				}
				return
			}
			e, ok := err.(*vendorapi.Error)
			if !ok || e.Kind != tt.kind || (tt.status != 0 && e.Status != tt.status) {
				t.Fatalf("Revoke = %q, %v; want a %v error with status %d", out, err, tt.kind, tt.status)
			}
			for _, w := range tt.text {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not hold %q", err, w)
				}
			}
		})
	}
}

// TestSCIMPatchForms: both forms of RFC 7644 §3.5.2.3 are sent as
// configured, with SCIM's media type.
func TestSCIMPatchForms(t *testing.T) {
	tests := []struct {
		patch any // nil: the default
		want  string
	}{
		{nil, `{"Operations":[{"op":"replace","path":"active","value":false}],"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`},
		{"path", `{"Operations":[{"op":"replace","path":"active","value":false}],"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`},
		{"value", `{"Operations":[{"op":"replace","value":{"active":false}}],"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`},
	}
	for _, tt := range tests {
		name := "default"
		if tt.patch != nil {
			name = tt.patch.(string)
		}
		t.Run(name, func(t *testing.T) {
			var got, ctype string
			script := conformance.Script(t, scimHeaders, byUserName(200, scimList(active)), patch(200, inactive), get(200, inactive))
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPatch {
					b, _ := io.ReadAll(r.Body)
					got, ctype = string(b), r.Header.Get("Content-Type")
				}
				script.ServeHTTP(w, r)
			}))
			t.Cleanup(srv.Close)
			var extra map[string]any
			if tt.patch != nil {
				extra = map[string]any{"patch": tt.patch}
			}
			c, err := openSCIM(srv.URL, extra)
			if err != nil {
				t.Fatal(err)
			}
			if out, err := c.Revoke(t.Context(), offboard.Subject{Email: scimEmail, Reason: offboard.ReasonTerminated}); err != nil || out != offboard.Verified {
				t.Fatalf("Revoke = %q, %v", out, err)
			}
			if got != tt.want {
				t.Errorf("PATCH body = %s, want %s", got, tt.want)
			}
			if ctype != "application/scim+json" {
				t.Errorf("Content-Type = %q, want application/scim+json", ctype)
			}
		})
	}
}

func TestSCIMCheck(t *testing.T) {
	q := url.Values{"startIndex": {"1"}, "count": {"1"}}
	for _, tt := range []struct {
		name   string
		status int
		body   string
		kind   vendorapi.Kind
	}{
		{"a token that may read users passes", 200, scimList(active), 0},
		{"a bad token is an auth error", 401, scimErr("401", "", "Invalid bearer token"), vendorapi.Auth},
		{"a wrong base_url is not found", 404, "", vendorapi.NotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(conformance.Script(t, scimHeaders, step{Method: "GET", Path: scimRoot + "/Users", Query: q, Status: tt.status, Body: tt.body}))
			t.Cleanup(srv.Close)
			c, err := openSCIM(srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = c.(connectors.Checker).Check(t.Context())
			if tt.kind == 0 && err != nil || tt.kind != 0 && !vendorapi.IsKind(err, tt.kind) {
				t.Fatalf("Check = %v, want kind %v", err, tt.kind)
			}
		})
	}
}

func TestSCIMConfigErrors(t *testing.T) {
	conformance.WantBuildErrors(t, types, "scim", map[string]any{
		"base_url": "https://users.lucid.app/scim/v2/Users", "disable_for": []any{"fired"}, "patch": "merge",
	}, []string{"(scim).base_url: give the SCIM base URL without /Users", "(scim).token: required",
		"(scim).disable_for[0]: want one of", "(scim).patch: want path or value"})
	conformance.WantBuildErrors(t, types, "scim", map[string]any{"token": scimToken},
		[]string{"(scim).base_url: required"}, scimToken)
}

// TestSCIMFilterQuoting: a double quote or a backslash in an address is
// escaped in the filter's JSON string, so it cannot end the string.
func TestSCIMFilterQuoting(t *testing.T) {
	const odd = `o"neil\x@example.com`
	search := func(attr string) step {
		return step{Method: "GET", Path: scimRoot + "/Users", Status: 200, Body: scimList(),
			Query: url.Values{"filter": {attr + ` eq "o\"neil\\x@example.com"`}}}
	}
	out, _, err := revoke(t, nil, offboard.Subject{Email: odd, Reason: offboard.ReasonTerminated}, search("userName"), search("emails.value"))
	if err != nil || out != offboard.NotFound {
		t.Fatalf("Revoke = %q, %v", out, err)
	}
}
