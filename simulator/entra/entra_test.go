package entra

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/simulator/fake/faketest"
)

const entraTokenURL = "/entra/contoso.onmicrosoft.com/oauth2/v2.0/token"

// entraForm is a good client credentials request for f.
func entraForm(f *fixture) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {DefaultClientID},
		"client_secret": {DefaultClientSecret}, "scope": {f.srv.URL + "/entra/.default"}}
}

// entraBearer gets an access token and answers its Authorization value.
func entraBearer(t *testing.T, f *fixture) string {
	t.Helper()
	status, out := f.sim.PostForm(t, entraTokenURL, entraForm(f))
	tok, _ := out["access_token"].(string)
	if status != http.StatusOK || tok == "" || out["token_type"] != "Bearer" || out["expires_in"] != 3599.0 {
		t.Fatalf("token = %d %v", status, out)
	}
	return "Bearer " + tok
}

// checkGraphError asserts body is Graph's error with that code.
func checkGraphError(t *testing.T, body []byte, code string) {
	t.Helper()
	var e struct {
		Error struct {
			Code       string            `json:"code"`
			Message    string            `json:"message"`
			InnerError map[string]string `json:"innerError"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %s: %v", body, err)
	}
	guid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if e.Error.Code != code || e.Error.Message == "" || !guid.MatchString(e.Error.InnerError["request-id"]) || e.Error.InnerError["date"] == "" {
		t.Errorf("error body %s, want code %s with a message and innerError", body, code)
	}
}

// entraGet decodes a Graph answer into a map.
func entraGet(t *testing.T, f *fixture, path, auth string, want int) map[string]any {
	t.Helper()
	resp, body := f.sim.Do(t, "GET", path, auth, "")
	if resp.StatusCode != want {
		t.Fatalf("GET %s = %d %s, want %d", path, resp.StatusCode, body, want)
	}
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func upns(t *testing.T, list map[string]any) []string {
	t.Helper()
	out := []string{}
	for _, u := range list["value"].([]any) {
		out = append(out, u.(map[string]any)["userPrincipalName"].(string))
	}
	slices.Sort(out)
	return out
}

func TestEntraTokenEndpoint(t *testing.T) {
	t.Run("client credentials get a token graph accepts", func(t *testing.T) {
		f := demo(t, options{})
		entraGet(t, f, "/entra/v1.0/users?$top=1", entraBearer(t, f), http.StatusOK)
	})
	t.Run("Graph's own scope and HTTP Basic credentials are accepted, with configured credentials", func(t *testing.T) {
		f := demo(t, options{ClientID: "app-1", ClientSecret: "s3cret"})
		req, _ := http.NewRequestWithContext(t.Context(), "POST", f.srv.URL+entraTokenURL,
			strings.NewReader("grant_type=client_credentials&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("app-1", "s3cret")
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("token = %d", resp.StatusCode)
		}
	})
	tests := []struct {
		name   string
		change func(f *fixture, v url.Values)
		status int
		code   string
		aadsts float64
	}{
		{"a wrong secret", func(_ *fixture, v url.Values) { v.Set("client_secret", "nope") }, 401, "invalid_client", 7000215},
		{"an unknown app", func(_ *fixture, v url.Values) { v.Set("client_id", "6731de76-14a6-49ae-97bc-6eba6914391e") }, 400, "unauthorized_client", 700016},
		{"a scope for another resource", func(_ *fixture, v url.Values) { v.Set("scope", "https://foo.microsoft.com/.default") }, 400, "invalid_scope", 70011},
		{"no scope", func(_ *fixture, v url.Values) { v.Del("scope") }, 400, "invalid_scope", 70011},
		{"another grant type", func(_ *fixture, v url.Values) { v.Set("grant_type", "password") }, 400, "unsupported_grant_type", 70003},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is "+tt.code+" in the identity platform's shape", func(t *testing.T) {
			f := demo(t, options{})
			v := entraForm(f)
			tt.change(f, v)
			status, out := f.sim.PostForm(t, entraTokenURL, v)
			desc, _ := out["error_description"].(string)
			codes, _ := out["error_codes"].([]any)
			if status != tt.status || out["error"] != tt.code || len(codes) != 1 || codes[0] != tt.aadsts ||
				!strings.HasPrefix(desc, "AADSTS") || out["trace_id"] == nil || out["correlation_id"] == nil || out["timestamp"] == nil {
				t.Errorf("token = %d %v", status, out)
			}
			if strings.Contains(desc, DefaultClientSecret) {
				t.Errorf("the description holds the secret: %s", desc)
			}
		})
	}
}

func TestEntraGraph(t *testing.T) {
	t.Run("a call without a token is 401 InvalidAuthenticationToken with a Bearer challenge", func(t *testing.T) {
		f := demo(t, options{})
		resp, body := f.sim.Do(t, "GET", "/entra/v1.0/users", "Bearer made-up", "")
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer ") {
			t.Fatalf("status = %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
		checkGraphError(t, body, "InvalidAuthenticationToken")
	})
	t.Run("a user is found by UPN in any case and by object id, with the default properties", func(t *testing.T) {
		f := demo(t, options{})
		bearer := entraBearer(t, f)
		u := entraGet(t, f, "/entra/v1.0/users/Alice@Example.COM", bearer, http.StatusOK)
		id, _ := u["id"].(string)
		if u["userPrincipalName"] != "alice@example.com" || u["mail"] != "alice@example.com" || u["displayName"] != "Alice Simulated" ||
			u["@odata.context"] != f.srv.URL+"/entra/v1.0/$metadata#users/$entity" || u["signInSessionsValidFromDateTime"] != nil || id != entraID("alice@example.com") {
			t.Errorf("user = %v", u)
		}
		if again := entraGet(t, f, "/entra/v1.0/users/"+id, bearer, http.StatusOK); again["userPrincipalName"] != "alice@example.com" {
			t.Errorf("by id = %v", again)
		}
	})
	t.Run("signInSessionsValidFromDateTime comes only on $select", func(t *testing.T) {
		f := demo(t, options{})
		u := entraGet(t, f, "/entra/v1.0/users/alice@example.com?$select=signInSessionsValidFromDateTime", entraBearer(t, f), http.StatusOK)
		if _, err := time.Parse(time.RFC3339, u["signInSessionsValidFromDateTime"].(string)); err != nil || len(u) != 2 {
			t.Errorf("user = %v (%v)", u, err)
		}
	})
	t.Run("a property the user lacks is 400 Request_BadRequest", func(t *testing.T) {
		f := demo(t, options{})
		resp, body := f.sim.Do(t, "GET", "/entra/v1.0/users/alice@example.com?$select=shoeSize", entraBearer(t, f), "")
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("status = %d", resp.StatusCode)
		}
		checkGraphError(t, body, "Request_BadRequest")
	})
	t.Run("an unknown user is 404 Request_ResourceNotFound", func(t *testing.T) {
		f := demo(t, options{})
		resp, body := f.sim.Do(t, "GET", "/entra/v1.0/users/nobody@example.com", entraBearer(t, f), "")
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "Resource 'nobody@example.com' does not exist") {
			t.Fatalf("status = %d %s", resp.StatusCode, body)
		}
		checkGraphError(t, body, "Request_ResourceNotFound")
	})
}

func TestEntraListUsers(t *testing.T) {
	f := demo(t, options{})
	f.sim.AddUser("o'brien@example.com", 1)
	bearer := entraBearer(t, f)
	tests := []struct {
		name, filter string
		want         []string
	}{
		{"mail or userPrincipalName finds a user", "mail eq 'bob@example.com' or userPrincipalName eq 'bob@example.com'", []string{"bob@example.com"}},
		{"values compare without case", "userPrincipalName eq 'CAROL@example.com'", []string{"carol@example.com"}},
		{"a doubled quote is a quote", "mail eq 'o''brien@example.com'", []string{"o'brien@example.com"}},
		{"or joins terms", "mail eq 'alice@example.com' or mail eq 'bob@example.com'", []string{"alice@example.com", "bob@example.com"}},
		{"and binds tighter than or", "mail eq 'alice@example.com' and mail eq 'bob@example.com' or mail eq 'carol@example.com'", []string{"carol@example.com"}},
		{"a filter that matches nobody is an empty value", "mail eq 'nobody@example.com'", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := url.Values{"$filter": {tt.filter}, "$select": {"id,mail,userPrincipalName"}}
			list := entraGet(t, f, "/entra/v1.0/users?"+q.Encode(), bearer, http.StatusOK)
			if got := upns(t, list); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if list["@odata.context"] != f.srv.URL+"/entra/v1.0/$metadata#users(id,mail,userPrincipalName)" {
				t.Errorf("@odata.context = %v", list["@odata.context"])
			}
		})
	}
	for _, bad := range []struct{ filter, code string }{
		{"mail ne 'a@example.com'", "Request_UnsupportedQuery"},
		{"startswith(mail,'a')", "BadRequest"},
		{"department eq 'Sales'", "Request_UnsupportedQuery"},
		{"mail eq 'unterminated", "BadRequest"},
		{"mail eq 'a@example.com' or", "BadRequest"},
	} {
		t.Run("the filter "+bad.filter+" is refused with "+bad.code, func(t *testing.T) {
			resp, body := f.sim.Do(t, "GET", "/entra/v1.0/users?"+url.Values{"$filter": {bad.filter}}.Encode(), bearer, "")
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status = %d %s", resp.StatusCode, body)
			}
			checkGraphError(t, body, bad.code)
		})
	}
	t.Run("$top pages with @odata.nextLink until the last page", func(t *testing.T) {
		var all []string
		next := f.srv.URL + "/entra/v1.0/users?$top=2"
		for pages := 0; next != ""; pages++ {
			if pages > 3 {
				t.Fatal("too many pages")
			}
			u, _ := url.Parse(next)
			list := entraGet(t, f, u.RequestURI(), bearer, http.StatusOK)
			all = append(all, upns(t, list)...)
			next, _ = list["@odata.nextLink"].(string)
		}
		slices.Sort(all)
		if !slices.Equal(all, []string{"alice@example.com", "bob@example.com", "carol@example.com", "o'brien@example.com"}) {
			t.Errorf("pages held %v", all)
		}
	})
	t.Run("a $top over 999 is refused", func(t *testing.T) {
		resp, body := f.sim.Do(t, "GET", "/entra/v1.0/users?$top=1000", bearer, "")
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("status = %d", resp.StatusCode)
		}
		checkGraphError(t, body, "Request_BadRequest")
	})
}

func TestEntraRevokeSignInSessions(t *testing.T) {
	t.Run("a revoke moves the cutoff to now, ends the sessions and answers true", func(t *testing.T) {
		f := demo(t, options{})
		bearer := entraBearer(t, f)
		v := f.sim.Vendor.(*entra)
		v.mu.Lock()
		v.users.ByEmail("alice@example.com").validFrom = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC) // a cutoff long past
		v.mu.Unlock()
		before := time.Now().UTC().Truncate(time.Second)
		for _, key := range []string{"alice@example.com", entraID("alice@example.com")} { // idempotent, by UPN or id
			resp, body := f.sim.Do(t, "POST", "/entra/v1.0/users/"+key+"/revokeSignInSessions", bearer, "")
			var out map[string]any
			_ = json.Unmarshal(body, &out)
			if resp.StatusCode != http.StatusOK || out["value"] != true || !strings.HasSuffix(out["@odata.context"].(string), "/$metadata#Edm.Boolean") {
				t.Fatalf("revoke = %d %s", resp.StatusCode, body)
			}
		}
		u := entraGet(t, f, "/entra/v1.0/users/alice@example.com?$select=signInSessionsValidFromDateTime", bearer, http.StatusOK)
		from, err := time.Parse(time.RFC3339, u["signInSessionsValidFromDateTime"].(string))
		if err != nil || from.Before(before) {
			t.Errorf("cutoff = %v (%v), want at or after %v", from, err, before)
		}
		if n, other := f.sim.Sessions("entra", "alice@example.com"), f.sim.Sessions("entra", "bob@example.com"); n != 0 || other != 2 {
			t.Errorf("sessions = %d, bob's %d", n, other)
		}
	})
	t.Run("a revoke for an unknown user is 404 and changes nothing", func(t *testing.T) {
		f := demo(t, options{})
		resp, body := f.sim.Do(t, "POST", "/entra/v1.0/users/00000000-0000-4000-8000-000000000000/revokeSignInSessions", entraBearer(t, f), "")
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("status = %d", resp.StatusCode)
		}
		checkGraphError(t, body, "Request_ResourceNotFound")
	})
	t.Run("calls are recorded with their user, the token request included", func(t *testing.T) {
		f := demo(t, options{})
		bearer := entraBearer(t, f)
		f.sim.Do(t, "POST", "/entra/v1.0/users/"+entraID("bob@example.com")+"/revokeSignInSessions", bearer, "")
		f.sim.Do(t, "GET", "/entra/v1.0/users?"+url.Values{"$filter": {"mail eq 'carol@example.com'"}}.Encode(), bearer, "")
		var got []string
		for _, c := range f.sim.Calls() {
			got = append(got, c.Method+" "+c.Path+" "+c.User)
		}
		want := []string{
			"POST /contoso.onmicrosoft.com/oauth2/v2.0/token ",
			"POST /v1.0/users/" + entraID("bob@example.com") + "/revokeSignInSessions bob@example.com",
			"GET /v1.0/users carol@example.com",
		}
		if !slices.Equal(got, want) {
			t.Errorf("calls = %q, want %q", got, want)
		}
	})
}

func TestEntraKnobs(t *testing.T) {
	t.Run("a rate limit is 429 TooManyRequests with Retry-After", func(t *testing.T) {
		f := demo(t, options{})
		bearer := entraBearer(t, f)
		f.setOptions(options{RateLimit: 1})
		clock := time.Unix(1_700_000_000, 0)
		f.sim.SetClock(func() time.Time { return clock })
		f.sim.Do(t, "GET", "/entra/v1.0/users?$top=1", bearer, "")
		resp, body := f.sim.Do(t, "GET", "/entra/v1.0/users?$top=1", bearer, "")
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("status = %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		checkGraphError(t, body, "TooManyRequests")
	})
	t.Run("an error rate of 1 is 503 serviceNotAvailable with Retry-After", func(t *testing.T) {
		f := demo(t, options{})
		bearer := entraBearer(t, f)
		f.setOptions(options{ErrorRate: 1})
		resp, body := f.sim.Do(t, "GET", "/entra/v1.0/users/alice@example.com", bearer, "")
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("status = %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		checkGraphError(t, body, "serviceNotAvailable")
	})
	t.Run("a hold blocks a revoke until release", func(t *testing.T) {
		f := demo(t, options{})
		bearer := entraBearer(t, f)
		release := f.sim.Hold("entra")
		t.Cleanup(release)
		done := make(chan int, 1)
		go func() {
			resp, _, err := f.sim.Send(context.Background(), "POST", "/entra/v1.0/users/alice@example.com/revokeSignInSessions", bearer, "")
			if err != nil {
				done <- 0
				return
			}
			done <- resp.StatusCode
		}()
		faketest.Eventually(t, "the revoke is held", func() bool { return f.sim.Blocked("entra") == 1 })
		if n := f.sim.Sessions("entra", "alice@example.com"); n != 2 {
			t.Errorf("sessions = %d during the hold", n)
		}
		release()
		if got := <-done; got != http.StatusOK {
			t.Errorf("revoke = %d after release", got)
		}
		if n := f.sim.Sessions("entra", "alice@example.com"); n != 0 {
			t.Errorf("sessions = %d after release", n)
		}
	})
}

// FuzzEntraFilter: the fake's $filter parser takes any text without a
// panic, and either refuses it with a Graph error code or yields a matcher
// that can be run; the seeds are in testdata/fuzz/FuzzEntraFilter.
func FuzzEntraFilter(f *testing.F) {
	f.Add("mail eq 'alice@example.com'")
	f.Add("mail eq 'o''brien@example.com' or userPrincipalName eq 'Alice@Example.com' and id eq '1'")
	f.Add("startsWith(mail,'a')")
	f.Fuzz(func(t *testing.T, s string) {
		match, code, msg := parseEntraFilter(s)
		switch {
		case match == nil && (code == "" || msg == ""):
			t.Fatalf("parseEntraFilter(%q): refused without a code and a message", s)
		case match != nil && code != "":
			t.Fatalf("parseEntraFilter(%q): a matcher and an error %q", s, code)
		case match != nil:
			match(&entraUser{id: "1", upn: "alice@example.com"})
		}
	})
}
