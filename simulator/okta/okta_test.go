package okta

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

const oktaAuth = "SSWS " + DefaultToken

// checkOktaError asserts body is Okta's Error object with that code.
func checkOktaError(t *testing.T, body []byte, code string) {
	t.Helper()
	var e map[string]any
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %s: %v", body, err)
	}
	for _, k := range []string{"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"} {
		if _, ok := e[k]; !ok {
			t.Errorf("error body %s lacks %s", body, k)
		}
	}
	if e["errorCode"] != code || e["errorLink"] != code {
		t.Errorf("errorCode/errorLink = %v/%v, want %s", e["errorCode"], e["errorLink"], code)
	}
	if id, _ := e["errorId"].(string); !regexp.MustCompile(`^oae[A-Za-z0-9_-]{22}$`).MatchString(id) {
		t.Errorf("errorId = %q", id)
	}
	if _, ok := e["errorCauses"].([]any); !ok {
		t.Errorf("errorCauses = %v, want an array", e["errorCauses"])
	}
}

// logins decodes a users array into its logins.
func logins(t *testing.T, body []byte) []string {
	t.Helper()
	var users []oktaUserJSON
	if err := json.Unmarshal(body, &users); err != nil {
		t.Fatalf("users %s: %v", body, err)
	}
	out := []string{}
	for _, u := range users {
		out = append(out, u.Profile.Login)
	}
	slices.Sort(out)
	return out
}

func TestOktaGetUser(t *testing.T) {
	alice := oktaID("00u", "alice@example.com")
	tests := []struct {
		name, key string
	}{
		{"a user is found by id", alice},
		{"a user is found by login", "alice@example.com"},
		{"a login is found in any case", "Alice@Example.COM"},
		{"a user is found by an unambiguous login shortname", "alice"},
		{"a login may be percent-encoded", "alice%40example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := demo(t, options{})
			resp, body := f.sim.Do(t, "GET", "/okta/api/v1/users/"+tt.key, oktaAuth, "")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d %s", resp.StatusCode, body)
			}
			var u oktaUserJSON
			if err := json.Unmarshal(body, &u); err != nil {
				t.Fatal(err)
			}
			if u.ID != alice || u.Profile.Login != "alice@example.com" || u.Profile.Email != "alice@example.com" {
				t.Errorf("user = %+v", u)
			}
		})
	}
	t.Run("the user object has Okta's shape", func(t *testing.T) {
		f := demo(t, options{})
		_, body := f.sim.Do(t, "GET", "/okta/api/v1/users/alice@example.com", oktaAuth, "")
		var u map[string]any
		if err := json.Unmarshal(body, &u); err != nil {
			t.Fatal(err)
		}
		if id, _ := u["id"].(string); !regexp.MustCompile(`^00u[0-9A-Za-z]{17}$`).MatchString(id) {
			t.Errorf("id = %q", id)
		}
		if u["status"] != "ACTIVE" {
			t.Errorf("status = %v", u["status"])
		}
		if _, err := time.Parse(oktaTime, u["created"].(string)); err != nil {
			t.Errorf("created: %v", err)
		}
		profile := u["profile"].(map[string]any)
		if profile["firstName"] != "Alice" || profile["lastName"] == "" || profile["login"] != "alice@example.com" {
			t.Errorf("profile = %v", profile)
		}
		self := u["_links"].(map[string]any)["self"].(map[string]any)["href"]
		if self != f.srv.URL+"/okta/api/v1/users/"+alice {
			t.Errorf("_links.self = %v", self)
		}
	})
	t.Run("an unknown user is 404 E0000007 in Okta's error shape", func(t *testing.T) {
		f := demo(t, options{})
		resp, body := f.sim.Do(t, "GET", "/okta/api/v1/users/nobody@example.com", oktaAuth, "")
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("status = %d", resp.StatusCode)
		}
		checkOktaError(t, body, "E0000007")
		if !strings.Contains(string(body), "Not found: Resource not found: nobody@example.com (User)") {
			t.Errorf("body = %s", body)
		}
	})
	t.Run("an ambiguous shortname is not found", func(t *testing.T) {
		f := demo(t, options{})
		f.sim.AddUser("alice@other.example", 1)
		if resp, _ := f.sim.Do(t, "GET", "/okta/api/v1/users/alice", oktaAuth, ""); resp.StatusCode != http.StatusNotFound {
			t.Errorf("status = %d", resp.StatusCode)
		}
	})
}

func TestOktaListUsers(t *testing.T) {
	tests := []struct {
		name, query string
		want        []string
	}{
		{"search finds a user by login", `search=profile.login eq "bob@example.com"`, []string{"bob@example.com"}},
		{"search finds a user by email", `search=profile.email eq "carol@example.com"`, []string{"carol@example.com"}},
		{"search values and operators are case-insensitive", `search=profile.login EQ "BOB@Example.com"`, []string{"bob@example.com"}},
		{"search joins terms with or", `search=profile.login eq "x@example.com" or profile.email eq "alice@example.com"`, []string{"alice@example.com"}},
		{"search joins terms with and in parentheses", `search=(profile.login sw "a" or profile.login sw "b") and status eq "ACTIVE"`, []string{"alice@example.com", "bob@example.com"}},
		{"search on an attribute the org lacks matches nobody", `search=profile.department eq "Sales"`, []string{}},
		{"a search that matches nobody is an empty array", `search=profile.login eq "nobody@example.com"`, []string{}},
		{"filter finds a user by login", `filter=profile.login eq "alice@example.com"`, []string{"alice@example.com"}},
		{"filter values are case-sensitive", `filter=profile.login eq "ALICE@example.com"`, []string{}},
		{"q matches the start of a name or email", `q=car`, []string{"carol@example.com"}},
		{"limit=1 answers one user, as a credentials probe", `limit=1`, nil},
		{"no query lists everyone", ``, []string{"alice@example.com", "bob@example.com", "carol@example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := demo(t, options{})
			resp, body := f.sim.Do(t, "GET", "/okta/api/v1/users?"+encodeQuery(tt.query), oktaAuth, "")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d %s", resp.StatusCode, body)
			}
			got := logins(t, body)
			if tt.want == nil {
				if len(got) != 1 {
					t.Errorf("got %v, want one user", got)
				}
				return
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if len(tt.want) == 0 && strings.TrimSpace(string(body)) != "[]" {
				t.Errorf("body = %s, want []", body)
			}
		})
	}
	t.Run("limit pages with Link rel=next until the last page", func(t *testing.T) {
		f := demo(t, options{})
		var all []string
		next := f.srv.URL + "/okta/api/v1/users?limit=2"
		for pages := 0; next != ""; pages++ {
			if pages > 3 {
				t.Fatal("too many pages")
			}
			u, _ := url.Parse(next)
			resp, body := f.sim.Do(t, "GET", u.RequestURI(), oktaAuth, "")
			all = append(all, logins(t, body)...)
			next = ""
			for _, l := range resp.Header.Values("Link") {
				if href, ok := strings.CutSuffix(l, `>; rel="next"`); ok {
					next = strings.TrimPrefix(href, "<")
				}
			}
		}
		slices.Sort(all)
		if !slices.Equal(all, []string{"alice@example.com", "bob@example.com", "carol@example.com"}) {
			t.Errorf("pages held %v", all)
		}
	})
}

func TestOktaListUsersRejectsBadQueries(t *testing.T) {
	tests := []struct {
		name, query, code string
	}{
		{"a search without a value", `search=profile.login eq`, "E0000031"},
		{"a search with an unquoted value", `search=profile.login eq alice`, "E0000031"},
		{"a search with an unterminated string", `search=profile.login eq "alice`, "E0000031"},
		{"a search with ne", `search=profile.login ne "alice"`, "E0000031"},
		{"a search with a dangling or", `search=profile.login eq "a" or`, "E0000031"},
		{"a search with an unknown property", `search=login eq "a"`, "E0000031"},
		{"a search with a wrong-case property", `search=profile.Login eq "a"`, "E0000031"},
		{"a search with an unclosed parenthesis", `search=(profile.login eq "a"`, "E0000031"},
		{"a filter with sw", `filter=profile.login sw "a"`, "E0000031"},
		{"a filter on a property it doesn't support", `filter=profile.department eq "a"`, "E0000031"},
		{"a search and a filter together", `search=status eq "ACTIVE"&filter=status eq "ACTIVE"`, "E0000033"},
		{"a limit that is not a number", `limit=many`, "E0000001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := demo(t, options{})
			resp, body := f.sim.Do(t, "GET", "/okta/api/v1/users?"+encodeQuery(tt.query), oktaAuth, "")
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status = %d %s", resp.StatusCode, body)
			}
			checkOktaError(t, body, tt.code)
		})
	}
}

func TestOktaRevokeSessions(t *testing.T) {
	alice := oktaID("00u", "alice@example.com")
	tests := []struct {
		name, query string
		tokensLeft  int
	}{
		{"a revoke clears the sessions and keeps the tokens by default", "", 2},
		{"a revoke with oauthTokens=true clears the tokens too", "?oauthTokens=true&forgetDevices=false", 0},
		{"only true counts as true, as in Okta's Java stack", "?oauthTokens=1", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := demo(t, options{})
			path := "/okta/api/v1/users/" + alice + "/sessions" + tt.query
			for range 2 { // idempotent: the second call is 204 too
				resp, body := f.sim.Do(t, "DELETE", path, oktaAuth, "")
				if resp.StatusCode != http.StatusNoContent || len(body) != 0 {
					t.Fatalf("status = %d %s, want 204", resp.StatusCode, body)
				}
			}
			if n := f.sim.Sessions("okta", "alice@example.com"); n != 0 {
				t.Errorf("sessions = %d", n)
			}
			if n := f.sim.Sessions("okta", "bob@example.com"); n != 2 {
				t.Errorf("bob's sessions = %d", n)
			}
			v := f.sim.Vendor.(*okta)
			v.mu.Lock()
			tokens := v.users.ByID(alice).tokens
			v.mu.Unlock()
			if tokens != tt.tokensLeft {
				t.Errorf("tokens = %d, want %d", tokens, tt.tokensLeft)
			}
		})
	}
	for _, key := range []string{"00u0000000000000000X", "alice@example.com"} {
		t.Run("a revoke for "+key+", which is no user id, is 404 E0000007", func(t *testing.T) {
			f := demo(t, options{})
			resp, body := f.sim.Do(t, "DELETE", "/okta/api/v1/users/"+key+"/sessions", oktaAuth, "")
			if resp.StatusCode != http.StatusNotFound {
				t.Fatalf("status = %d", resp.StatusCode)
			}
			checkOktaError(t, body, "E0000007")
			if n := f.sim.Sessions("okta", "alice@example.com"); n != 2 {
				t.Errorf("sessions = %d", n)
			}
		})
	}
}

func TestOktaRejectsBadTokens(t *testing.T) {
	tests := []struct{ name, token, auth string }{
		{"no Authorization header", "", ""},
		{"a wrong token", "", "SSWS not-the-token"},
		{"the right token under Bearer", "", "Bearer " + DefaultToken},
		{"the right token under a lower-case scheme", "", "ssws " + DefaultToken},
		{"an empty token", "", "SSWS "},
		{"the default token when another is configured", "custom", oktaAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := demo(t, options{Token: tt.token})
			resp, body := f.sim.Do(t, "DELETE", "/okta/api/v1/users/"+oktaID("00u", "alice@example.com")+"/sessions", tt.auth, "")
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status = %d", resp.StatusCode)
			}
			checkOktaError(t, body, "E0000011")
			if !strings.Contains(string(body), `"errorSummary":"Invalid token provided"`) {
				t.Errorf("body = %s", body)
			}
			if n := f.sim.Sessions("okta", "alice@example.com"); n != 2 {
				t.Errorf("sessions = %d", n)
			}
		})
	}
	t.Run("a configured token is accepted", func(t *testing.T) {
		f := demo(t, options{Token: "custom"})
		if resp, _ := f.sim.Do(t, "GET", "/okta/api/v1/users?limit=1", "SSWS custom", ""); resp.StatusCode != http.StatusOK {
			t.Errorf("status = %d", resp.StatusCode)
		}
	})
}

func TestOktaRateLimit(t *testing.T) {
	f := demo(t, options{RateLimit: 2})
	clock := time.Unix(1_700_000_000, 0)
	f.sim.SetClock(func() time.Time { return clock })
	for i, want := range []struct{ status, remaining int }{{200, 1}, {200, 0}, {429, 0}} {
		resp, body := f.sim.Do(t, "GET", "/okta/api/v1/users?limit=1", oktaAuth, "")
		if resp.StatusCode != want.status {
			t.Fatalf("call %d: status = %d, want %d", i+1, resp.StatusCode, want.status)
		}
		h := resp.Header
		if h.Get("X-Rate-Limit-Limit") != "2" || h.Get("X-Rate-Limit-Remaining") != strconv.Itoa(want.remaining) ||
			h.Get("X-Rate-Limit-Reset") != "1700000001" {
			t.Errorf("call %d: headers %v", i+1, h)
		}
		if want.status == http.StatusTooManyRequests {
			checkOktaError(t, body, "E0000047")
		}
	}
	clock = clock.Add(time.Second)
	if resp, _ := f.sim.Do(t, "GET", "/okta/api/v1/users?limit=1", oktaAuth, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("the next second: status = %d", resp.StatusCode)
	}
}

func TestOktaAnswersCarryJSONAndRateHeaders(t *testing.T) {
	alice := oktaID("00u", "alice@example.com")
	tests := []struct {
		name, method, path, auth string
		status                   int
	}{
		{"a user", "GET", "/okta/api/v1/users/alice", oktaAuth, 200},
		{"a list", "GET", "/okta/api/v1/users", oktaAuth, 200},
		{"a revoke", "DELETE", "/okta/api/v1/users/" + alice + "/sessions", oktaAuth, 204},
		{"a bad token", "GET", "/okta/api/v1/users", "", 401},
		{"an unknown user", "GET", "/okta/api/v1/users/nobody", oktaAuth, 404},
		{"a bad search", "GET", "/okta/api/v1/users?search=x", oktaAuth, 400},
		{"an unknown path", "GET", "/okta/api/v1/groups", oktaAuth, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := demo(t, options{})
			resp, body := f.sim.Do(t, tt.method, tt.path, tt.auth, "")
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d %s, want %d", resp.StatusCode, body, tt.status)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			for _, h := range []string{"X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"} {
				if _, err := strconv.Atoi(resp.Header.Get(h)); err != nil {
					t.Errorf("%s = %q", h, resp.Header.Get(h))
				}
			}
			if tt.path == "/okta/api/v1/groups" {
				checkOktaError(t, body, "E0000008")
			}
		})
	}
}

func TestOktaCallsAreRecordedWithTheirUser(t *testing.T) {
	f := demo(t, options{})
	alice := oktaID("00u", "alice@example.com")
	f.sim.Do(t, "GET", "/okta/api/v1/users?"+encodeQuery(`search=profile.login eq "bob@example.com"`), oktaAuth, "")
	f.sim.Do(t, "DELETE", "/okta/api/v1/users/"+alice+"/sessions?oauthTokens=true", oktaAuth, "")
	f.sim.Do(t, "DELETE", "/okta/api/v1/users/"+alice+"/sessions", "SSWS wrong", "")
	f.sim.Do(t, "GET", "/okta/api/v1/users/nobody@example.com", oktaAuth, "")
	want := []fake.Call{
		{Vendor: "okta", Method: "GET", Path: "/api/v1/users", Status: 200, User: "bob@example.com"},
		{Vendor: "okta", Method: "DELETE", Path: "/api/v1/users/" + alice + "/sessions", Query: "oauthTokens=true", Status: 204, User: "alice@example.com"},
		{Vendor: "okta", Method: "DELETE", Path: "/api/v1/users/" + alice + "/sessions", Status: 401, User: "alice@example.com"},
		{Vendor: "okta", Method: "GET", Path: "/api/v1/users/nobody@example.com", Status: 404},
	}
	got := f.sim.Calls()
	if len(got) != len(want) {
		t.Fatalf("calls = %+v", got)
	}
	for i := range want {
		if got[i].At.IsZero() {
			t.Errorf("call %d has no time", i)
		}
		got[i].At = time.Time{}
		want[i].Query = cmpQuery(got[i].Query, want[i].Query)
		if got[i] != want[i] {
			t.Errorf("call %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// cmpQuery lets a want without a query match a search query.
func cmpQuery(got, want string) string {
	if want == "" && strings.HasPrefix(got, "search=") {
		return got
	}
	return want
}

// encodeQuery percent-encodes a readable query like `search=a eq "b"&limit=1`.
func encodeQuery(q string) string {
	if q == "" {
		return ""
	}
	v := url.Values{}
	for part := range strings.SplitSeq(q, "&") {
		k, val, _ := strings.Cut(part, "=")
		v.Add(k, val)
	}
	return v.Encode()
}
