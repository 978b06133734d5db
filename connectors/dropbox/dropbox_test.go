package dropbox_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/connectors/conformance"
	"github.com/offboarder/offboarder/connectors/dropbox"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// The fake below is shaped from Dropbox's documentation of the team API
// (https://www.dropbox.com/developers/documentation/http/teams) and its
// Stone spec (https://github.com/dropbox/dropbox-api-spec, team.stone and
// auth.stone): members/get_info_v2 answering member_info or id_not_found,
// devices/list_member_devices, devices/revoke_device_session_batch, and the
// error answers of
// https://www.dropbox.com/developers/documentation/http/documentation#error-handling.

const (
	dbToken  = "sl.dbx-test-team-token-AAAbbbCCCddd0123456789"
	dbEmail  = "isaac.brock@example.com"
	dbMember = "dbmid:AAFdgehTzw7WlXhZJsbGCLePe8RvQGYDr-I"
)

var dbHeaders = http.Header{
	"Authorization": {"Bearer " + dbToken},
	"User-Agent":    {"offboarder"},
	"Content-Type":  {"application/json"},
}

const (
	dbMemberInfo = `{"members_info":[{".tag":"member_info","profile":{"team_member_id":"` + dbMember + `","account_id":"dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc","email":"` + dbEmail + `","email_verified":true,"status":{".tag":"active"},"name":{"given_name":"Isaac","surname":"Brock","familiar_name":"Isaac","display_name":"Isaac Brock","abbreviated_name":"IB"},"membership_type":{".tag":"full"},"groups":[],"member_folder_id":"20","root_folder_id":"30"},"roles":[]}]}`
	dbIDNotFound = `{"members_info":[{".tag":"id_not_found","id_not_found":"` + dbEmail + `"}]}`
	dbAll        = `{"active_web_sessions":[{"session_id":"dbwsid:1","ip_address":"3.3.3.3","country":"United States","created":"2015-05-12T15:50:38Z","updated":"2015-05-12T15:51:22Z","user_agent":"Mozilla/5.0","os":"Windows","browser":"Chrome"}],` +
		`"desktop_client_sessions":[{"session_id":"dbdsid:2","host_name":"Home_desktop","client_type":{".tag":"mac"},"client_version":"3.9.19","platform":"Mac OS X 10.10.3","is_delete_on_unlink_supported":true}],` +
		`"mobile_client_sessions":[{"session_id":"dbmsid:3","device_name":"Iphone 6","client_type":{".tag":"iphone"},"client_version":"3.9.5","os_version":"8.4","last_carrier":"Verizon"}]}`
	dbNone           = `{"active_web_sessions":[],"desktop_client_sessions":[],"mobile_client_sessions":[]}`
	dbWebLeft        = `{"active_web_sessions":[{"session_id":"dbwsid:1","user_agent":"Mozilla/5.0","os":"Windows","browser":"Chrome"}]}`
	dbAllRevoked     = `{"revoke_devices_status":[{"success":true},{"success":true},{"success":true}]}`
	dbMemberNotFound = `{"error_summary":"member_not_found/..","error":{".tag":"member_not_found"}}`
	dbBadToken       = `{"error_summary":"invalid_access_token/...","error":{".tag":"invalid_access_token"}}`
	dbMissingScope   = `{"error_summary":"missing_scope/..","error":{".tag":"missing_scope","required_scope":"sessions.modify"}}`
	dbTooMany        = `{"error_summary":"too_many_requests/..","error":{"reason":{".tag":"too_many_requests"},"retry_after":300}}`
	dbBadInput       = `Error in call to API function "team/devices/list_member_devices": request body: could not decode input as JSON`
)

func dbFind(status int, body string) step {
	return step{Method: "POST", Path: "/2/team/members/get_info_v2", Status: status, Body: body}
}

func dbList(status int, body string) step {
	return step{Method: "POST", Path: "/2/team/devices/list_member_devices", Status: status, Body: body}
}

func dbRevoke(status int, body string) step {
	return step{Method: "POST", Path: "/2/team/devices/revoke_device_session_batch", Status: status, Body: body}
}

func dbLimited() step {
	s := dbFind(429, dbTooMany)
	s.Header = map[string]string{"Retry-After": "300"}
	return s
}

// bodies wraps a fake and keeps every request's body, by path.
type bodies struct {
	mu   sync.Mutex
	seen map[string][]string
}

func (b *bodies) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		if b.seen == nil {
			b.seen = map[string][]string{}
		}
		b.seen[r.URL.Path] = append(b.seen[r.URL.Path], string(raw))
		b.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(raw))
		h.ServeHTTP(w, r)
	})
}

func (b *bodies) get(path string, i int) map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var v map[string]any
	if i < len(b.seen[path]) {
		_ = json.Unmarshal([]byte(b.seen[path][i]), &v)
	}
	return v
}

// openDropbox opens a dropbox connector through Build.
func openDropbox(baseURL string) (connectors.Connector, error) {
	cs, err := connectors.Build([]connectors.Spec{{Name: "dropbox", Type: "dropbox",
		Settings: map[string]any{"base_url": baseURL, "token": dbToken}}}, types, connectors.Deps{})
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

func TestDropboxRevoke(t *testing.T) {
	tests := []struct {
		name       string
		subject    offboard.Subject
		steps      []step
		want       offboard.Outcome
		detail     []string
		kind       vendorapi.Kind // 0: no error
		retryAfter time.Duration
		text       []string
	}{{
		name:    "a member's web, desktop and mobile sessions are revoked in one batch and none is listed after",
		subject: offboard.Subject{Email: dbEmail},
		steps:   []step{dbFind(200, dbMemberInfo), dbList(200, dbAll), dbRevoke(200, dbAllRevoked), dbList(200, dbNone)},
		want:    offboard.Verified,
		detail: []string{"ended 1 web session, unlinked 1 desktop client (their synced files kept: delete_on_unlink false) and 1 mobile client",
			"none is listed after", "not ended: third-party apps"},
	}, {
		name:    "a member with nothing listed is verified without a revocation",
		subject: offboard.Subject{Email: dbEmail},
		steps:   []step{dbFind(200, dbMemberInfo), dbList(200, `{}`)},
		want:    offboard.Verified,
		detail:  []string{"nothing to end"},
	}, {
		name:    "a session still listed after the batch is acknowledged, not verified",
		subject: offboard.Subject{Email: dbEmail},
		steps:   []step{dbFind(200, dbMemberInfo), dbList(200, dbAll), dbRevoke(200, dbAllRevoked), dbList(200, dbWebLeft)},
		want:    offboard.Acknowledged,
		detail:  []string{"still listed after: 1 web session, 0 desktop clients, 0 mobile clients"},
	}, {
		name:    "a session already gone (device_session_not_found) counts as ended",
		subject: offboard.Subject{Email: dbEmail},
		steps: []step{dbFind(200, dbMemberInfo), dbList(200, dbAll),
			dbRevoke(200, `{"revoke_devices_status":[{"success":true},{"success":false,"error_type":{".tag":"device_session_not_found"}},{"success":true}]}`),
			dbList(200, dbNone)},
		want: offboard.Verified,
	}, {
		name:    "a revocation dropbox refuses is said in the detail",
		subject: offboard.Subject{Email: dbEmail},
		steps: []step{dbFind(200, dbMemberInfo), dbList(200, dbAll),
			dbRevoke(200, `{"revoke_devices_status":[{"success":false,"error_type":{".tag":"other"}},{"success":true},{"success":true}]}`),
			dbList(200, dbWebLeft)},
		want:   offboard.Acknowledged,
		detail: []string{"dropbox refused 1 of 3 revocations"},
	}, {
		name:    "no member with the email (id_not_found) is not_found",
		subject: offboard.Subject{Email: dbEmail},
		steps:   []step{dbFind(200, dbIDNotFound)},
		want:    offboard.NotFound,
		detail:  []string{"no dropbox team member has the email " + dbEmail},
	}, {
		name:    "a member who left between the lookup and the listing (409 member_not_found) is not_found",
		subject: offboard.Subject{Email: dbEmail},
		steps:   []step{dbFind(200, dbMemberInfo), dbList(409, dbMemberNotFound)},
		want:    offboard.NotFound,
		detail:  []string{"left the team before"},
	}, {
		name:    "a member_not_found inside the batch's statuses is not_found",
		subject: offboard.Subject{Email: dbEmail},
		steps: []step{dbFind(200, dbMemberInfo), dbList(200, dbAll),
			dbRevoke(200, `{"revoke_devices_status":[{"success":false,"error_type":{".tag":"member_not_found"}},{"success":false,"error_type":{".tag":"member_not_found"}},{"success":false,"error_type":{".tag":"member_not_found"}}]}`)},
		want: offboard.NotFound,
	}, {
		name:    "a member who left after the revocation has nothing listed: verified",
		subject: offboard.Subject{Email: dbEmail},
		steps:   []step{dbFind(200, dbMemberInfo), dbList(200, dbAll), dbRevoke(200, dbAllRevoked), dbList(409, dbMemberNotFound)},
		want:    offboard.Verified,
	}, {
		name:    "a token that expires between the revocation and the listing gives acknowledged, and says so",
		subject: offboard.Subject{Email: dbEmail},
		steps: []step{dbFind(200, dbMemberInfo), dbList(200, dbAll), dbRevoke(200, dbAllRevoked),
			dbList(401, `{"error_summary":"expired_access_token/..","error":{".tag":"expired_access_token"}}`)},
		want:   offboard.Acknowledged,
		detail: []string{"they could not be listed again (status 401)"},
	}, {
		name:    "an answer for another address signs nobody out",
		subject: offboard.Subject{Email: dbEmail},
		steps:   []step{dbFind(200, strings.Replace(dbMemberInfo, `"email":"`+dbEmail, `"email":"ab.`+dbEmail, 1))},
		want:    offboard.NotFound,
	}, {
		name:    "a token without sessions.modify is a permanent auth error naming the scope",
		subject: offboard.Subject{Email: dbEmail},
		steps:   []step{dbFind(200, dbMemberInfo), dbList(200, dbAll), dbRevoke(401, dbMissingScope)},
		kind:    vendorapi.Auth,
		text:    []string{"dropbox: POST /2/team/devices/revoke_device_session_batch", "credentials rejected", "needs the scope sessions.modify"},
	}, {
		name:    "a rejected token is a permanent auth error that names the credentials",
		subject: offboard.Subject{Email: dbEmail},
		steps:   []step{dbFind(401, dbBadToken)},
		kind:    vendorapi.Auth,
		text:    []string{"credentials rejected", "invalid_access_token", "status 401"},
	}, {
		name:    "another endpoint-specific 409 is a permanent invalid error, never not_found",
		subject: offboard.Subject{Email: dbEmail},
		steps:   []step{dbFind(200, dbMemberInfo), dbList(409, `{"error_summary":"other/..","error":{".tag":"other"}}`)},
		kind:    vendorapi.Invalid,
		text:    []string{"other/.."},
	}, {
		name:    "a 400 bad input in plain text is permanent and quoted",
		subject: offboard.Subject{Email: dbEmail},
		steps:   []step{dbFind(200, dbMemberInfo), dbList(400, dbBadInput)},
		kind:    vendorapi.Invalid,
		text:    []string{"could not decode input as JSON"},
	}, {
		name:    "a dropbox server error is transient",
		subject: offboard.Subject{Email: dbEmail},
		steps:   []step{dbFind(503, "")},
		kind:    vendorapi.Transient,
	}, {
		name:       "a 429 too_many_requests goes back to the queue with its Retry-After",
		subject:    offboard.Subject{Email: dbEmail},
		steps:      []step{dbLimited()},
		kind:       vendorapi.RateLimited,
		retryAfter: 300 * time.Second,
		text:       []string{"too_many_requests"},
	}, {
		name:    "a subject without an email is invalid and sends nothing",
		subject: offboard.Subject{IDs: map[string]string{"okta": "00u1"}},
		kind:    vendorapi.Invalid,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(conformance.Script(t, dbHeaders, tt.steps...))
			t.Cleanup(srv.Close)
			c, err := openDropbox(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			ctx, detail := connectors.WithReport(t.Context())
			got, err := c.Revoke(ctx, tt.subject)
			if tt.kind == 0 {
				if err != nil {
					t.Fatalf("Revoke: unexpected error: %v", err)
				}
				if got != tt.want {
					t.Fatalf("outcome = %q, want %q", got, tt.want)
				}
				for _, s := range tt.detail {
					if !strings.Contains(detail(), s) {
						t.Errorf("detail %q does not contain %q", detail(), s)
					}
				}
				return
			}
			e, ok := errors.AsType[*vendorapi.Error](err)
			if !ok {
				t.Fatalf("error = %v, want a *Error of kind %v", err, tt.kind)
			}
			if e.Kind != tt.kind {
				t.Errorf("kind = %v, want %v (%v)", e.Kind, tt.kind, err)
			}
			if e.RetryAfter != tt.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", e.RetryAfter, tt.retryAfter)
			}
			for _, s := range tt.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if strings.Contains(err.Error(), dbToken) {
				t.Errorf("error holds the token: %q", err)
			}
		})
	}
}

// The request bodies are Dropbox's argument structs: a UserSelectorArg by
// email, every kind of device listed, and one RevokeDeviceSessionArg per
// session with its .tag, desktop clients with delete_on_unlink false.
func TestDropboxRequestBodies(t *testing.T) {
	var b bodies
	srv := httptest.NewServer(b.wrap(conformance.Script(t, dbHeaders,
		dbFind(200, dbMemberInfo), dbList(200, dbAll), dbRevoke(200, dbAllRevoked), dbList(200, dbNone))))
	t.Cleanup(srv.Close)
	c, err := openDropbox(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := c.Revoke(t.Context(), offboard.Subject{Email: dbEmail}); err != nil || out != offboard.Verified {
		t.Fatalf("Revoke = %q, %v", out, err)
	}
	js := func(v any) string { out, _ := json.Marshal(v); return string(out) }
	checks := []struct{ path, want string }{
		{"/2/team/members/get_info_v2", `{"members":[{".tag":"email","email":"` + dbEmail + `"}]}`},
		{"/2/team/devices/list_member_devices", `{"include_desktop_clients":true,"include_mobile_clients":true,"include_web_sessions":true,"team_member_id":"` + dbMember + `"}`},
		{"/2/team/devices/revoke_device_session_batch", `{"revoke_devices":[` +
			`{".tag":"web_session","session_id":"dbwsid:1","team_member_id":"` + dbMember + `"},` +
			`{".tag":"desktop_client","delete_on_unlink":false,"session_id":"dbdsid:2","team_member_id":"` + dbMember + `"},` +
			`{".tag":"mobile_client","session_id":"dbmsid:3","team_member_id":"` + dbMember + `"}]}`},
	}
	for _, c := range checks {
		if got := js(b.get(c.path, 0)); got != c.want {
			t.Errorf("%s body = %s, want %s", c.path, got, c.want)
		}
	}
}

func TestDropboxCheck(t *testing.T) {
	list := step{Method: "POST", Path: "/2/team/members/list_v2"}
	tests := []struct {
		name   string
		status int
		body   string
		kind   vendorapi.Kind
		text   string
	}{
		{"a team token with members.read passes", 200, `{"members":[],"cursor":"ZtkX9_EHj3x7PMkVuFIhwKYXEpwpLwyxp9vMKomUhllil9q7eWiAu","has_more":false}`, 0, ""},
		{"a token without members.read fails naming the scope", 401, `{"error_summary":"missing_scope/.","error":{".tag":"missing_scope","required_scope":"members.read"}}`, vendorapi.Auth, "members.read"},
		{"a user (not team) token fails", 400, `Error in call to API function "team/members/list:2": This API function operates on a single Dropbox account, but the OAuth 2 access token you provided is for an entire Dropbox Business team.`, vendorapi.Invalid, "Error in call to API function"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := list
			s.Status, s.Body = tt.status, tt.body
			srv := httptest.NewServer(conformance.Script(t, dbHeaders, s))
			t.Cleanup(srv.Close)
			c, err := openDropbox(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			err = c.(connectors.Checker).Check(t.Context())
			if tt.kind == 0 {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if e, ok := errors.AsType[*vendorapi.Error](err); !ok || e.Kind != tt.kind || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("Check error = %v, want kind %v mentioning %q", err, tt.kind, tt.text)
			}
		})
	}
}

func TestDropboxSettings(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]any
		want     []string
	}{{
		name:     "token is required",
		settings: map[string]any{},
		want:     []string{"(dropbox).token: required"},
	}, {
		name:     "a Bearer prefix and a base_url with /2 are each reported",
		settings: map[string]any{"token": "Bearer " + dbToken, "base_url": "https://api.dropboxapi.com/2"},
		want:     []string{`(dropbox).token: give the token without the "Bearer " prefix`, "(dropbox).base_url: give the API host without /2"},
	}, {
		name:     "an unknown key is refused",
		settings: map[string]any{"token": dbToken, "delete_on_unlink": true},
		want:     []string{"delete_on_unlink: unknown key"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conformance.WantBuildErrors(t, types, "dropbox", tt.settings, tt.want, dbToken)
		})
	}
	t.Run("base_url defaults to api.dropboxapi.com", func(t *testing.T) {
		if _, err := connectors.Build([]connectors.Spec{{Name: "dropbox", Type: "dropbox", Settings: map[string]any{"token": dbToken}}}, types, connectors.Deps{}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDropboxConformance(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		New:     openDropbox,
		Secret:  dbToken,
		Subject: offboard.Subject{Email: dbEmail},
		Handler: func(t *testing.T, s conformance.Scenario) http.Handler {
			switch s {
			case conformance.Success:
				return conformance.Script(t, dbHeaders, dbFind(200, dbMemberInfo), dbList(200, dbAll), dbRevoke(200, dbAllRevoked), dbList(200, dbNone))
			case conformance.NotFound:
				return conformance.Script(t, dbHeaders, dbFind(200, dbIDNotFound))
			case conformance.RateLimited:
				return conformance.Script(t, dbHeaders, dbLimited())
			case conformance.ServerError:
				return conformance.Script(t, dbHeaders, dbFind(500, ""))
			case conformance.Unauthorized:
				return conformance.Script(t, dbHeaders, dbFind(401, dbBadToken))
			}
			return conformance.Hanging()
		},
	})
}

// step is one scripted exchange of the Dropbox fake.
type step = conformance.Step

// types holds the dropbox type alone, for Build.
var types = map[string]func() connectors.Config{"dropbox": func() connectors.Config { return new(dropbox.Config) }}
