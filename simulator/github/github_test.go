package github

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
	"github.com/offboarder/offboarder/simulator/fake/faketest"
)

const bearer = "Bearer " + DefaultToken

// demo serves the fake alone with alice, bob and carol (2 authorizations
// each) and the knobs k.
func demo(t *testing.T, k fake.Knobs, c Config) *faketest.Server[Config] {
	t.Helper()
	sim := faketest.Start(t, k, c, func(c func() Config, _ func() time.Time) fake.Vendor { return newGitHub(c) })
	sim.Seed(0)
	return sim
}

// checkMessage asserts body is GitHub's {"message": msg, …}.
func checkMessage(t *testing.T, body []byte, msg string) {
	t.Helper()
	var e map[string]string
	if err := json.Unmarshal(body, &e); err != nil || e["message"] != msg || e["documentation_url"] == "" {
		t.Errorf("error body %s, want message %q and a documentation_url", body, msg)
	}
}

type auth struct {
	Login          string `json:"login"`
	CredentialID   int64  `json:"credential_id"`
	CredentialType string `json:"credential_type"`
}

func list(t *testing.T, sim *faketest.Server[Config], query string) (*http.Response, []auth) {
	t.Helper()
	resp, body := sim.Do(t, "GET", "/github/orgs/sim-github-org/credential-authorizations"+query, bearer, "")
	var out []auth
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("list: %v: %s", err, body)
		}
	}
	return resp, out
}

func TestGitHubAuthentication(t *testing.T) {
	sim := demo(t, fake.Knobs{}, Config{})
	for _, tt := range []struct {
		name, auth string
		want       int
	}{
		{"a bearer token is accepted", "Bearer " + DefaultToken, 200},
		{"the token scheme is accepted too", "token " + DefaultToken, 200},
		{"a wrong token is 401 Bad credentials", "Bearer ghp_wrong", 401},
		{"no token is 401", "", 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := sim.Do(t, "GET", "/github/orgs/sim-github-org/credential-authorizations", tt.auth, "")
			if resp.StatusCode != tt.want {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == 401 {
				checkMessage(t, body, "Bad credentials")
			}
		})
	}
}

func TestGitHubCredentialAuthorizations(t *testing.T) {
	t.Run("the list is filtered by login, and each removal takes one away until none is left", func(t *testing.T) {
		sim := demo(t, fake.Knobs{}, Config{})
		_, got := list(t, sim, "?login=alice")
		if len(got) != 2 || got[0].Login != "alice" || got[0].CredentialType != "personal access token" || got[1].CredentialType != "SSH key" {
			t.Fatalf("alice's authorizations = %+v", got)
		}
		for i, a := range got {
			resp, _ := sim.Do(t, "DELETE", "/github/orgs/sim-github-org/credential-authorizations/"+itoa(a.CredentialID), bearer, "")
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("remove = %d", resp.StatusCode)
			}
			if n := sim.Sessions("github", "alice@example.com"); n != 1-i {
				t.Errorf("sessions = %d, want %d", n, 1-i)
			}
		}
		if _, left := list(t, sim, "?login=ALICE"); len(left) != 0 {
			t.Errorf("left = %+v", left)
		}
		resp, body := sim.Do(t, "DELETE", "/github/orgs/sim-github-org/credential-authorizations/"+itoa(got[0].CredentialID), bearer, "")
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("a second removal = %d, want 404", resp.StatusCode)
		}
		checkMessage(t, body, "Not Found")
		if n := sim.Sessions("github", "bob@example.com"); n != 2 {
			t.Errorf("bob's sessions = %d, want 2", n)
		}
	})
	t.Run("pages follow per_page with a Link to the next and last", func(t *testing.T) {
		sim := demo(t, fake.Knobs{}, Config{})
		resp, got := list(t, sim, "?per_page=4")
		if len(got) != 4 || !strings.Contains(resp.Header.Get("Link"), `page=2&per_page=4>; rel="next"`) {
			t.Fatalf("page 1 = %d items, Link %q", len(got), resp.Header.Get("Link"))
		}
		resp, got = list(t, sim, "?per_page=4&page=2")
		if len(got) != 2 || resp.Header.Get("Link") != "" {
			t.Errorf("page 2 = %d items, Link %q", len(got), resp.Header.Get("Link"))
		}
		if _, got = list(t, sim, "?per_page=4&page=3"); len(got) != 0 {
			t.Errorf("page 3 = %+v", got)
		}
	})
	t.Run("another organization is 404", func(t *testing.T) {
		sim := demo(t, fake.Knobs{}, Config{Org: "acme"})
		resp, body := sim.Do(t, "GET", "/github/orgs/sim-github-org/credential-authorizations", bearer, "")
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("status = %d", resp.StatusCode)
		}
		checkMessage(t, body, "Not Found")
		if resp, _ := sim.Do(t, "GET", "/github/orgs/acme/credential-authorizations", bearer, ""); resp.StatusCode != 200 {
			t.Errorf("the configured org = %d", resp.StatusCode)
		}
	})
}

func TestGitHubExternalIdentities(t *testing.T) {
	sim := demo(t, fake.Knobs{}, Config{})
	query := func(t *testing.T, body string) map[string]any {
		t.Helper()
		resp, b := sim.Do(t, "POST", "/github/graphql", bearer, body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status = %d: %s", resp.StatusCode, b)
		}
		var out map[string]any
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	t.Run("userName as a variable finds the identity and its linked login", func(t *testing.T) {
		q := `{"query":"query($org: String!, $u: String!) { organization(login: $org) { samlIdentityProvider { externalIdentities(userName: $u, first: 10) { nodes { samlIdentity { nameId } user { login } } } } } }","variables":{"org":"sim-github-org","u":"Bob@Example.com"}}`
		out := query(t, q)
		nodes := out["data"].(map[string]any)["organization"].(map[string]any)["samlIdentityProvider"].(map[string]any)["externalIdentities"].(map[string]any)["nodes"].([]any)
		if len(nodes) != 1 || nodes[0].(map[string]any)["user"].(map[string]any)["login"] != "bob" ||
			nodes[0].(map[string]any)["samlIdentity"].(map[string]any)["nameId"] != "bob@example.com" {
			t.Errorf("nodes = %v", nodes)
		}
	})
	t.Run("literal arguments work, and an unknown userName gives no nodes", func(t *testing.T) {
		out := query(t, `{"query":"{ organization(login: \"sim-github-org\") { samlIdentityProvider { externalIdentities(userName: \"nobody@example.com\", first: 5) { nodes { user { login } } } } } }"}`)
		nodes := out["data"].(map[string]any)["organization"].(map[string]any)["samlIdentityProvider"].(map[string]any)["externalIdentities"].(map[string]any)["nodes"].([]any)
		if len(nodes) != 0 {
			t.Errorf("nodes = %v", nodes)
		}
	})
	t.Run("another organization is a NOT_FOUND error with organization null", func(t *testing.T) {
		out := query(t, `{"query":"{ organization(login: \"other\") { samlIdentityProvider { externalIdentities(first: 5) { nodes { user { login } } } } } }"}`)
		errs := out["errors"].([]any)
		if len(errs) != 1 || errs[0].(map[string]any)["type"] != "NOT_FOUND" || out["data"].(map[string]any)["organization"] != nil {
			t.Errorf("answer = %v", out)
		}
	})
	t.Run("a query without first, or another query, is an error", func(t *testing.T) {
		for _, q := range []string{
			`{"query":"{ organization(login: \"sim-github-org\") { samlIdentityProvider { externalIdentities(userName: \"bob@example.com\") { nodes { user { login } } } } } }"}`,
			`{"query":"{ viewer { login } }"}`,
		} {
			if out := query(t, q); out["errors"] == nil {
				t.Errorf("%s: answer = %v, want errors", q, out)
			}
		}
	})
}

func TestGitHubKnobs(t *testing.T) {
	t.Run("over the rate limit it is GitHub's 403 with x-ratelimit-remaining 0 and the reset", func(t *testing.T) {
		sim := demo(t, fake.Knobs{RateLimit: 1}, Config{})
		clock := time.Unix(1_700_000_000, 0)
		sim.SetClock(func() time.Time { return clock })
		for i, want := range []int{200, 403} {
			resp, body := sim.Do(t, "GET", "/github/orgs/sim-github-org/credential-authorizations", bearer, "")
			if resp.StatusCode != want {
				t.Fatalf("call %d: status = %d, want %d", i+1, resp.StatusCode, want)
			}
			if want == 403 {
				if resp.Header.Get("x-ratelimit-remaining") != "0" || resp.Header.Get("x-ratelimit-reset") != "1700000001" {
					t.Errorf("headers = %v", resp.Header)
				}
				var e map[string]string
				_ = json.Unmarshal(body, &e)
				if !strings.HasPrefix(e["message"], "API rate limit exceeded") {
					t.Errorf("body = %s", body)
				}
			}
		}
	})
	t.Run("an error rate of 1 answers 503 and removes nothing", func(t *testing.T) {
		sim := demo(t, fake.Knobs{ErrorRate: 1}, Config{})
		resp, _ := sim.Do(t, "DELETE", "/github/orgs/sim-github-org/credential-authorizations/161195", bearer, "")
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("status = %d", resp.StatusCode)
		}
		if n := sim.Sessions("github", "alice@example.com"); n != 2 {
			t.Errorf("sessions = %d", n)
		}
	})
	t.Run("calls are recorded with the user a login or credential names", func(t *testing.T) {
		sim := demo(t, fake.Knobs{}, Config{})
		sim.Reset()
		sim.Do(t, "GET", "/github/orgs/sim-github-org/credential-authorizations?login=carol", bearer, "")
		sim.Do(t, "DELETE", "/github/orgs/sim-github-org/credential-authorizations/161199", bearer, "") // carol's first
		got := sim.Calls()
		if len(got) != 2 || got[0].User != "carol@example.com" || got[1].User != "carol@example.com" || got[1].Status != http.StatusNoContent {
			t.Errorf("calls = %+v", got)
		}
	})
	t.Run("logins are derived from emails and numbered when taken", func(t *testing.T) {
		sim := demo(t, fake.Knobs{}, Config{})
		sim.AddUser("alice@other.example", 1)
		sim.AddUser("j.o'neil+x@example.com", 1)
		_, a := list(t, sim, "?login=alice-2")
		_, j := list(t, sim, "?login=j-o-neil-x")
		if len(a) != 1 || len(j) != 1 {
			t.Errorf("alice-2 = %+v, j-o-neil-x = %+v", a, j)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
