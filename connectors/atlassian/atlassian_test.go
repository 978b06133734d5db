package atlassian_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/connectors/atlassian"
	"github.com/offboarder/offboarder/connectors/conformance"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// The fake below is shaped from Atlassian's admin API documentation: the
// organizations API's user search
// (https://developer.atlassian.com/cloud/admin/organization/rest/api-group-users/,
// POST /admin/v2/orgs/{orgId}/directories/{directoryId}/users/search, its
// data[] of users with accountId, email, accountStatus, claimStatus, and
// the {"errors":[…]} body), the user-management API's API tokens, lifecycle
// and profile groups
// (https://developer.atlassian.com/cloud/admin/user-management/rest/api-group-api-tokens/,
// …/api-group-lifecycle/, …/api-group-profile/), and the 429 with
// X-RateLimit-Reset as an ISO 8601 time
// (https://developer.atlassian.com/cloud/admin/api-access/rest/intro/).

const (
	apiKey  = "atlassian-org-api-key-3e1f0c9b77a24d5e"
	orgID   = "0a1b2c3d-org"
	email   = "isaac.brock@example.com"
	account = "557058:4f9acfd2-6155-419b-8de5-5b5cf27a59a0"
	search  = "/admin/v2/orgs/" + orgID + "/directories/-/users/search"
	user    = "/users/" + account + "/manage"
)

var headers = http.Header{
	"Authorization": {"Bearer " + apiKey},
	"User-Agent":    {"offboarder"},
	"Accept":        {"application/json"},
}

type step = conformance.Step

var types = map[string]func() connectors.Config{"atlassian": func() connectors.Config { return new(atlassian.Config) }}

// open opens an atlassian connector at baseURL through Build; extra
// settings are added to token, org_id and base_url.
func open(baseURL string, extra map[string]any) (connectors.Connector, error) {
	settings := map[string]any{"token": apiKey, "org_id": orgID, "base_url": baseURL}
	for k, v := range extra {
		settings[k] = v
	}
	cs, err := connectors.Build([]connectors.Spec{{Name: "atlassian", Type: "atlassian", Settings: settings}}, types, connectors.Deps{})
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

// member is a user of the search's answer, as Atlassian shows one.
func member(id, addr, status, claim string) string {
	return `{"accountId":"` + id + `","accountType":"atlassian","status":"active","accountStatus":"` + status +
		`","membershipStatus":"active","name":"Isaac Brock","nickname":"isaac","email":"` + addr +
		`","emailVerified":true,"claimStatus":"` + claim + `","mfaEnabled":true}`
}

func found(members ...string) string {
	return `{"data":[` + strings.Join(members, ",") + `],"links":{"self":"` + search + `"}}`
}

func apiToken(id string) string {
	return `{"label":"ci ` + id + `","lastAccess":"2026-05-12T20:20:50.521Z","createdAt":"2026-04-12T23:20:50.522Z","id":"` + id + `","expiry":"2027-03-19T00:00:00.000Z"}`
}

func tokenList(ids ...string) string {
	var out []string
	for _, id := range ids {
		out = append(out, apiToken(id))
	}
	return "[" + strings.Join(out, ",") + "]"
}

func profile(status string) string {
	return `{"account":{"account_id":"` + account + `","account_type":"atlassian","account_status":"` + status +
		`","name":"Isaac Brock","picture":"https://avatar.example/ib","email":"` + email + `","nickname":"isaac"}}`
}

func orgErr(status, code, title, detail string) string {
	return `{"errors":[{"id":"8e1c","status":"` + status + `","code":"` + code + `","title":"` + title + `","detail":"` + detail + `"}]}`
}

func find(status int, body string) step {
	return step{Method: "POST", Path: search, Status: status, Body: body}
}
func listTokens(status int, body string) step {
	return step{Method: "GET", Path: user + "/api-tokens", Status: status, Body: body}
}
func deleteToken(id string) step {
	return step{Method: "DELETE", Path: user + "/api-tokens/" + id, Status: 204}
}
func disable(status int, body string) step {
	return step{Method: "POST", Path: user + "/lifecycle/disable", Status: status, Body: body}
}
func getProfile(status string) step {
	return step{Method: "GET", Path: user + "/profile", Status: 200, Body: profile(status)}
}

var (
	active   = member(account, email, "active", "managed")
	leaver   = offboard.Subject{Email: email, Reason: offboard.ReasonTerminated}
	disabled = map[string]any{"disable": true}
)

func TestAtlassianConformance(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		New:     func(base string) (connectors.Connector, error) { return open(base, disabled) },
		Secret:  apiKey,
		Subject: leaver,
		Handler: func(t *testing.T, s conformance.Scenario) http.Handler {
			switch s {
			case conformance.Success:
				return conformance.Script(t, headers, find(200, found(active)), listTokens(200, tokenList("t1")), deleteToken("t1"),
					disable(204, ""), listTokens(200, "[]"), getProfile("inactive").With())
			case conformance.NotFound:
				return conformance.Script(t, headers, find(200, found()))
			case conformance.RateLimited:
				s := find(429, orgErr("429", "ADMIN-429", "Too Many Requests", "rate limit exceeded"))
				s.Header = map[string]string{"Retry-After": "30", "X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0"}
				return conformance.Script(t, headers, s)
			case conformance.ServerError:
				return conformance.Script(t, headers, find(503, orgErr("503", "ADMIN-UAM-500-1", "Internal Error", "try again")))
			case conformance.Unauthorized:
				return conformance.Script(t, headers, find(401, `{"code":401,"message":"Unauthorized"}`))
			}
			return conformance.Hanging()
		},
	})
}

// revoke runs one Revoke against the scripted fake and returns its
// outcome, its detail and its error.
func revoke(t *testing.T, extra map[string]any, s offboard.Subject, steps ...step) (offboard.Outcome, string, error) {
	t.Helper()
	srv := httptest.NewServer(conformance.Script(t, headers, steps...))
	t.Cleanup(srv.Close)
	c, err := open(srv.URL, extra)
	if err != nil {
		t.Fatal(err)
	}
	ctx, detail := connectors.WithReport(t.Context())
	out, err := c.Revoke(ctx, s)
	return out, detail(), err
}

// TestAtlassianRevokePerReason: a leaver's API tokens are deleted and the
// account is disabled; any other reason changes nothing, and says why.
func TestAtlassianRevokePerReason(t *testing.T) {
	const done = "API tokens deleted: 2; account disabled (no new sign-in); live web sessions are not ended: Atlassian has no API for that"
	leave := []step{find(200, found(active)), listTokens(200, tokenList("t1", "t2")), deleteToken("t1"), deleteToken("t2").With(),
		disable(204, ""), listTokens(200, "[]"), getProfile("inactive").With()}
	tests := []struct {
		reason offboard.Reason
		steps  []step
		want   offboard.Outcome
		detail string
	}{
		{offboard.ReasonTerminated, leave, offboard.Verified, done},
		{offboard.ReasonDeactivated, leave, offboard.Verified, done},
		{offboard.ReasonSecurity, []step{find(200, found(active))}, offboard.Skipped,
			`API tokens not deleted, account not disabled: the reason is "security", and disable_for is terminated, deactivated; live web sessions are not ended: Atlassian has no API for that`},
		{offboard.ReasonSuspended, []step{find(200, found(active))}, offboard.Skipped,
			`API tokens not deleted, account not disabled: the reason is "suspended", and disable_for is terminated, deactivated; live web sessions are not ended: Atlassian has no API for that`},
		{offboard.ReasonManual, []step{find(200, found(active))}, offboard.Skipped,
			`API tokens not deleted, account not disabled: the reason is "manual", and disable_for is terminated, deactivated; live web sessions are not ended: Atlassian has no API for that`},
	}
	for _, tt := range tests {
		t.Run(string(tt.reason), func(t *testing.T) {
			out, detail, err := revoke(t, disabled, offboard.Subject{Email: email, Reason: tt.reason}, tt.steps...)
			if err != nil || out != tt.want {
				t.Fatalf("Revoke = %q, %v; want %q", out, err, tt.want)
			}
			if detail != tt.detail {
				t.Errorf("detail = %q, want %q", detail, tt.detail)
			}
		})
	}
}

func TestAtlassianRevoke(t *testing.T) {
	unclaimed := `{"key":"forbidden.unclaimedDomain","context":{"domain":"example.com"}}`
	tests := []struct {
		name   string
		extra  map[string]any
		steps  []step
		want   offboard.Outcome
		kind   vendorapi.Kind // 0: no error
		text   []string       // in the error text or, without an error, in the detail
		status int
	}{{
		name:  "without disable the tokens are deleted and the account is left as it is",
		steps: []step{find(200, found(active)), listTokens(200, tokenList("t1")), deleteToken("t1"), listTokens(200, "[]")},
		want:  offboard.Verified,
		text:  []string{"API tokens deleted: 1; account not disabled (disable is false); live web sessions are not ended: Atlassian has no API for that"},
	}, {
		name:  "a person without tokens is disabled and read back",
		extra: disabled,
		steps: []step{find(200, found(active)), listTokens(200, "[]"), disable(204, ""), listTokens(200, "[]"), getProfile("inactive").With()},
		want:  offboard.Verified, text: []string{"API tokens deleted: 0; account disabled"},
	}, {
		name:  "an account already inactive is not disabled again",
		extra: disabled,
		steps: []step{find(200, found(member(account, email, "inactive", "managed"))), listTokens(200, "[]"), listTokens(200, "[]"), getProfile("inactive").With()},
		want:  offboard.Verified, text: []string{"account already inactive"},
	}, {
		name:  "the email matches in any case",
		steps: []step{find(200, found(member(account, "Isaac.Brock@Example.com", "active", "managed"))), listTokens(200, "[]"), listTokens(200, "[]")},
		want:  offboard.Verified,
	}, {
		name:  "a token still listed after deletion is acknowledged",
		steps: []step{find(200, found(active)), listTokens(200, tokenList("t1")), deleteToken("t1"), listTokens(200, tokenList("t1"))},
		want:  offboard.Acknowledged, text: []string{"1 API tokens still listed"},
	}, {
		name:  "an account that still reads active after the disable is acknowledged",
		extra: disabled,
		steps: []step{find(200, found(active)), listTokens(200, "[]"), disable(204, ""), listTokens(200, "[]"), getProfile("active").With()},
		want:  offboard.Acknowledged, text: []string{"the account still reads active"},
	}, {
		name:  "a token deleted meanwhile (404) counts as deleted",
		steps: []step{find(200, found(active)), listTokens(200, tokenList("t1")), {Method: "DELETE", Path: user + "/api-tokens/t1", Status: 404}, listTokens(200, "[]")},
		want:  offboard.Verified,
	}, {
		name:  "a search that finds someone else touches no one",
		steps: []step{find(200, found(member("other", "someone@example.com", "active", "managed")))},
		want:  offboard.NotFound,
	}, {
		name:  "an account the organization does not manage needs a person",
		extra: disabled,
		steps: []step{find(200, found(member(account, email, "active", "unmanaged")))},
		want:  offboard.ManualRequired, text: []string{"not managed by the organization", "live web sessions are not ended"},
	}, {
		name:  "a 403 forbidden.unclaimedDomain of the token list needs a person",
		steps: []step{find(200, found(active)), listTokens(403, unclaimed)},
		want:  offboard.ManualRequired, text: []string{"forbidden.unclaimedDomain (example.com)"},
	}, {
		name:  "an account gone before its tokens are listed is not found",
		steps: []step{find(200, found(active)), listTokens(404, `{"key":"notFound"}`)},
		want:  offboard.NotFound, text: []string{"account no longer found"},
	}, {
		name:  "two accounts with the email are a permanent error naming both",
		steps: []step{find(200, found(active, member("557058:other", email, "active", "managed")))},
		kind:  vendorapi.Invalid, text: []string{"2 accounts have the email", account, "557058:other", "by hand"},
	}, {
		name:  "a 403 of the disable is an auth error with the vendor's words",
		extra: disabled,
		steps: []step{find(200, found(active)), listTokens(200, "[]"), disable(403, `[{"code":"forbidden","message":"lifecycle.enablement not allowed"}]`)},
		kind:  vendorapi.Auth, status: 403, text: []string{"forbidden: lifecycle.enablement not allowed"},
	}, {
		name:  "a 404 of the search is a wrong org_id",
		steps: []step{find(404, orgErr("404", "ADMIN-UAM-404-2", "Organization not found", ""))},
		kind:  vendorapi.NotFound, status: 404, text: []string{"check org_id", "ADMIN-UAM-404-2: Organization not found"},
	}, {
		name:  "with disable_for security, a terminated leaver keeps tokens and account",
		extra: map[string]any{"disable": true, "disable_for": []any{"security"}},
		steps: []step{find(200, found(active))},
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

// TestAtlassianRequestBodies: the search asks for the exact email, and the
// disable carries a message.
func TestAtlassianRequestBodies(t *testing.T) {
	bodies := map[string]string{}
	script := conformance.Script(t, headers, find(200, found(active)), listTokens(200, "[]"), disable(204, ""),
		listTokens(200, "[]"), getProfile("inactive").With())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			b, _ := io.ReadAll(r.Body)
			bodies[r.URL.Path] = string(b)
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("%s: Content-Type = %q", r.URL.Path, ct)
			}
		}
		script.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := open(srv.URL, disabled)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := c.Revoke(t.Context(), leaver); err != nil || out != offboard.Verified {
		t.Fatalf("Revoke = %q, %v", out, err)
	}
	if got, want := bodies[search], `{"emails":["`+email+`"],"limit":10}`; got != want {
		t.Errorf("search body = %s, want %s", got, want)
	}
	var msg struct{ Message string }
	if err := json.Unmarshal([]byte(bodies[user+"/lifecycle/disable"]), &msg); err != nil || msg.Message == "" {
		t.Errorf("disable body = %s, want a message", bodies[user+"/lifecycle/disable"])
	}
}

// TestAtlassianRateLimitReset: a 429 that names its reset only as an ISO
// 8601 time, as Atlassian documents X-RateLimit-Reset, gives the wait.
func TestAtlassianRateLimitReset(t *testing.T) {
	s := find(429, orgErr("429", "ADMIN-429", "Too Many Requests", ""))
	s.Header = map[string]string{"X-RateLimit-Reset": time.Now().Add(40 * time.Second).UTC().Format(time.RFC3339), "X-RateLimit-Remaining": "0"}
	_, _, err := revoke(t, nil, leaver, s)
	e, ok := err.(*vendorapi.Error)
	if !ok || e.Kind != vendorapi.RateLimited || e.RetryAfter < 30*time.Second || e.RetryAfter > 41*time.Second {
		t.Fatalf("Revoke error = %v, want rate limited with a wait near 40s", err)
	}
}

func TestAtlassianCheck(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		body   string
		kind   vendorapi.Kind
		text   string
	}{
		{"a key that may read the organization passes", 200, `{"data":{"id":"` + orgID + `","type":"orgs","attributes":{"name":"Example"}}}`, 0, ""},
		{"a bad key is an auth error", 401, `{"code":401,"message":"Unauthorized"}`, vendorapi.Auth, "credentials"},
		{"a wrong org_id is not found, naming org_id", 404, orgErr("404", "ADMIN-UAM-404-2", "Organization not found", ""), vendorapi.NotFound, "check org_id"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(conformance.Script(t, headers, step{Method: "GET", Path: "/admin/v1/orgs/" + orgID, Status: tt.status, Body: tt.body}))
			t.Cleanup(srv.Close)
			c, err := open(srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = c.(connectors.Checker).Check(t.Context())
			if tt.kind == 0 && err != nil || tt.kind != 0 && !vendorapi.IsKind(err, tt.kind) {
				t.Fatalf("Check = %v, want kind %v", err, tt.kind)
			}
			if tt.text != "" && !strings.Contains(err.Error(), tt.text) {
				t.Errorf("Check = %v, want it to say %q", err, tt.text)
			}
		})
	}
}

func TestAtlassianConfigErrors(t *testing.T) {
	conformance.WantBuildErrors(t, types, "atlassian", map[string]any{
		"org_id": "a/b", "base_url": "ftp://api.atlassian.com", "disable_for": []any{"fired"}, "disable": true,
	}, []string{"(atlassian).token: required", "(atlassian).org_id: give the organization id alone",
		"(atlassian).base_url:", "(atlassian).disable_for[0]: want one of"})
	conformance.WantBuildErrors(t, types, "atlassian", map[string]any{"token": apiKey},
		[]string{"(atlassian).org_id: required"}, apiKey)
	conformance.WantBuildErrors(t, types, "atlassian", map[string]any{"token": apiKey, "org_id": orgID, "disable": "yes"},
		[]string{"(atlassian).disable"}, apiKey)
}

// TestAtlassianDefaultBaseURL: without base_url the connector opens
// against Atlassian's own host.
func TestAtlassianDefaultBaseURL(t *testing.T) {
	if _, err := connectors.Build([]connectors.Spec{{Name: "atlassian", Type: "atlassian",
		Settings: map[string]any{"token": apiKey, "org_id": orgID}}}, types, connectors.Deps{}); err != nil {
		t.Fatalf("Build: %v", err)
	}
}
