package salesforce

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
	"github.com/offboarder/offboarder/simulator/fake/faketest"
)

const data = "/salesforce/services/data/v66.0"

// start serves the fake alone with the demo users, behind knobs.
func start(t *testing.T, k fake.Knobs, c Config) *faketest.Server[Config] {
	t.Helper()
	s := faketest.Start(t, k, c, func(c func() Config, now func() time.Time) fake.Vendor { return New(c, now) })
	s.Seed(0)
	return s
}

// bearer fetches an access token with the client credentials flow.
func bearer(t *testing.T, s *faketest.Server[Config], id, secret string) string {
	t.Helper()
	status, out := s.PostForm(t, "/salesforce/services/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}})
	if status != http.StatusOK {
		t.Fatalf("token = %d %v", status, out)
	}
	if _, ok := out["expires_in"]; ok || out["instance_url"] != s.HTTP.URL+"/salesforce" || out["token_type"] != "Bearer" {
		t.Errorf("token answer %v, want Salesforce's shape", out)
	}
	return "Bearer " + out["access_token"].(string)
}

// soqlGet runs a query and decodes the answer.
func soqlGet(t *testing.T, s *faketest.Server[Config], auth, q string) (int, map[string]any, []byte) {
	t.Helper()
	resp, body := s.Do(t, "GET", data+"/query?q="+url.QueryEscape(q), auth, "")
	var out map[string]any
	_ = json.Unmarshal(body, &out)
	return resp.StatusCode, out, body
}

// wantError checks a REST error array.
func wantError(t *testing.T, body []byte, code string) {
	t.Helper()
	var e []map[string]string
	if err := json.Unmarshal(body, &e); err != nil || len(e) != 1 || e[0]["errorCode"] != code || e[0]["message"] == "" {
		t.Errorf("error body %s, want [{message, errorCode %q}]", body, code)
	}
}

func records(out map[string]any) []map[string]any {
	var rs []map[string]any
	for _, r := range out["records"].([]any) {
		rs = append(rs, r.(map[string]any))
	}
	return rs
}

func TestTokenEndpoint(t *testing.T) {
	s := start(t, fake.Knobs{}, Config{ClientID: "cid", ClientSecret: "csecret"})
	auth := bearer(t, s, "cid", "csecret")
	if status, _, body := soqlGet(t, s, auth, "SELECT Id FROM User LIMIT 1"); status != http.StatusOK {
		t.Fatalf("query with the token = %d %s", status, body)
	}
	for _, tt := range []struct {
		name string
		form url.Values
		code string
	}{
		{"a wrong secret is 400 invalid_client", url.Values{"grant_type": {"client_credentials"}, "client_id": {"cid"}, "client_secret": {"x"}}, "invalid_client"},
		{"the default client is not this org's", url.Values{"grant_type": {"client_credentials"}, "client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret}}, "invalid_client"},
		{"another grant is 400 unsupported_grant_type", url.Values{"grant_type": {"password"}, "client_id": {"cid"}, "client_secret": {"csecret"}}, "unsupported_grant_type"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if status, out := s.PostForm(t, "/salesforce/services/oauth2/token", tt.form); status != http.StatusBadRequest || out["error"] != tt.code {
				t.Errorf("token = %d %v", status, out)
			}
		})
	}
	t.Run("a call without a token is 401 INVALID_SESSION_ID", func(t *testing.T) {
		resp, body := s.Do(t, "GET", data+"/query?q="+url.QueryEscape("SELECT Id FROM User"), "Bearer nope", "")
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("status %d", resp.StatusCode)
		}
		wantError(t, body, "INVALID_SESSION_ID")
	})
}

func TestSessionsAndTokens(t *testing.T) {
	s := start(t, fake.Knobs{}, Config{})
	auth := bearer(t, s, DefaultClientID, DefaultClientSecret)
	status, out, body := soqlGet(t, s, auth, `SELECT Id, username FROM user WHERE Username = 'ALICE@example.com' OR Email = 'alice@example.com'`)
	if status != http.StatusOK || out["totalSize"] != 1.0 || out["done"] != true {
		t.Fatalf("user query = %d %s", status, body)
	}
	u := records(out)[0]
	id := u["Id"].(string)
	if len(id) != 18 || !strings.HasPrefix(id, "005") || u["Username"] != "alice@example.com" || u["attributes"] == nil {
		t.Errorf("user record %v", u)
	}
	_, out, _ = soqlGet(t, s, auth, "SELECT Id FROM AuthSession WHERE UsersId = '"+id+"'")
	sessions := records(out)
	_, out, _ = soqlGet(t, s, auth, "SELECT AppName, DeleteToken FROM OauthToken WHERE UserId = '"+id+"'")
	tokens := records(out)
	if len(sessions) != 2 || len(tokens) != 2 || s.Sessions("salesforce", "alice@example.com") != 4 {
		t.Fatalf("alice has %d sessions and %d tokens", len(sessions), len(tokens))
	}
	for _, ss := range sessions {
		if resp, _ := s.Do(t, "DELETE", data+"/sobjects/AuthSession/"+ss["Id"].(string), auth, ""); resp.StatusCode != http.StatusNoContent {
			t.Errorf("delete session = %d", resp.StatusCode)
		}
	}
	resp, body := s.Do(t, "DELETE", data+"/sobjects/AuthSession/"+sessions[0]["Id"].(string), auth, "")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("deleting a deleted session = %d", resp.StatusCode)
	}
	wantError(t, body, "NOT_FOUND")
	del := tokens[0]["DeleteToken"].(string)
	if resp, _ := s.Do(t, "GET", "/salesforce/services/oauth2/revoke?token="+url.QueryEscape(del), "", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("revoke by GET = %d", resp.StatusCode)
	}
	if status, out := s.PostForm(t, "/salesforce/services/oauth2/revoke", url.Values{"token": {del}}); status != http.StatusBadRequest || out["error"] != "invalid_token" {
		t.Errorf("revoking it again = %d %v", status, out)
	}
	if resp, err := s.HTTP.Client().PostForm(s.HTTP.URL+"/salesforce/services/oauth2/revoke", url.Values{"token": {tokens[1]["DeleteToken"].(string)}}); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("revoke by POST = %v, %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if n := s.Sessions("salesforce", "alice@example.com"); n != 0 {
		t.Errorf("alice has %d left", n)
	}
	if n := s.Sessions("salesforce", "bob@example.com"); n != 4 {
		t.Errorf("bob has %d, want 4 untouched", n)
	}
	resp, body = s.Do(t, "DELETE", data+"/sobjects/User/"+id, auth, "")
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("deleting a user = %d", resp.StatusCode)
	}
	wantError(t, body, "INVALID_TYPE_FOR_OPERATION")
}

func TestQueryBatches(t *testing.T) {
	s := start(t, fake.Knobs{}, Config{})
	s.AddUser("many@example.com", 2001)
	auth := bearer(t, s, DefaultClientID, DefaultClientSecret)
	_, out, _ := soqlGet(t, s, auth, "SELECT Id FROM User WHERE Email = 'many@example.com'")
	id := records(out)[0]["Id"].(string)
	_, out, _ = soqlGet(t, s, auth, "SELECT Id FROM AuthSession WHERE UsersId = '"+id+"'")
	next, _ := out["nextRecordsUrl"].(string)
	if out["done"] != false || out["totalSize"] != 2001.0 || len(records(out)) != 2000 || !strings.HasPrefix(next, "/services/data/v66.0/query/01g") {
		t.Fatalf("first batch: done %v, total %v, %d records, next %q", out["done"], out["totalSize"], len(records(out)), next)
	}
	resp, body := s.Do(t, "GET", "/salesforce"+next, auth, "")
	_ = json.Unmarshal(body, &out)
	if resp.StatusCode != http.StatusOK || out["done"] != true || len(records(out)) != 1 || out["totalSize"] != 2001.0 {
		t.Fatalf("second batch = %d %s", resp.StatusCode, body)
	}
	_, out, _ = soqlGet(t, s, auth, "SELECT DeleteToken FROM OauthToken WHERE UserId = '"+id+"'")
	if len(records(out)) != 500 || out["done"] != false {
		t.Errorf("OauthToken batch of %d, want 500", len(records(out)))
	}
	if resp, body := s.Do(t, "GET", "/salesforce"+next, auth, ""); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a used locator = %d", resp.StatusCode)
	} else {
		wantError(t, body, "INVALID_QUERY_LOCATOR")
	}
}

func TestQueryErrors(t *testing.T) {
	s := start(t, fake.Knobs{}, Config{})
	auth := bearer(t, s, DefaultClientID, DefaultClientSecret)
	for _, tt := range []struct{ q, code string }{
		{"SELECT Id FROM Contact", "INVALID_TYPE"},
		{"SELECT Password FROM User", "INVALID_FIELD"},
		{"SELECT Id FROM User WHERE Email = 'a' OR Email = 'b' AND Id = 'c'", "MALFORMED_QUERY"},
		{`SELECT Id FROM User WHERE Email = 'a\qb'`, "MALFORMED_QUERY"},
		{"SELECT Id FROM User WHERE Email = 'unterminated", "MALFORMED_QUERY"},
		{"DELETE FROM User", "MALFORMED_QUERY"},
	} {
		t.Run(tt.q, func(t *testing.T) {
			status, _, body := soqlGet(t, s, auth, tt.q)
			if status != http.StatusBadRequest {
				t.Errorf("status %d", status)
			}
			wantError(t, body, tt.code)
		})
	}
	t.Run("an escaped quote is part of the literal and matches nobody", func(t *testing.T) {
		_, out, body := soqlGet(t, s, auth, `SELECT Id FROM User WHERE Email = 'x\' OR Email != \'' OR Email = 'alice@example.com'`)
		if out["totalSize"] != 1.0 {
			t.Errorf("answer %s, want alice only", body)
		}
	})
	t.Run("an unknown api version is 404 NOT_FOUND", func(t *testing.T) {
		resp, body := s.Do(t, "GET", "/salesforce/services/data/v99.0/query?q=SELECT+Id+FROM+User", auth, "")
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("status %d", resp.StatusCode)
		}
		wantError(t, body, "NOT_FOUND")
	})
}

func TestKnobs(t *testing.T) {
	s := start(t, fake.Knobs{RateLimit: 1}, Config{})
	auth := bearer(t, s, DefaultClientID, DefaultClientSecret) // the window's one call
	resp, body := s.Do(t, "GET", data+"/query?q=SELECT+Id+FROM+User", auth, "")
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Retry-After") != "" || !strings.HasPrefix(resp.Header.Get("Sforce-Limit-Info"), "api-usage=") {
		t.Errorf("over the limit = %d, headers %v", resp.StatusCode, resp.Header)
	}
	wantError(t, body, "REQUEST_LIMIT_EXCEEDED")
	s.SetKnobs(fake.Knobs{ErrorRate: 1})
	resp, body = s.Do(t, "GET", data+"/query?q=SELECT+Id+FROM+User", auth, "")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a failing server = %d", resp.StatusCode)
	}
	wantError(t, body, "SERVER_UNAVAILABLE")
}
