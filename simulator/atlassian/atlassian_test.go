package atlassian

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
	"github.com/offboarder/offboarder/simulator/fake/faketest"
)

const (
	bearer = "Bearer " + DefaultToken
	search = "/atlassian/admin/v2/orgs/" + DefaultOrgID + "/directories/-/users/search"
)

// start serves the Atlassian fake alone behind the knobs k, with alice,
// bob and carol, each with 2 API tokens.
func start(t *testing.T, k fake.Knobs) *faketest.Server[Config] {
	t.Helper()
	sim := faketest.Start(t, k, Config{}, func(c func() Config, now func() time.Time) fake.Vendor { return newAtlassian(c, now) })
	sim.Seed(0)
	return sim
}

// call sends one request and decodes the JSON answer into out (if any).
func call(t *testing.T, sim *faketest.Server[Config], method, path, auth, body string, out any) int {
	t.Helper()
	resp, b := sim.Do(t, method, path, auth, body)
	if len(b) > 0 && out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %s", method, path, b)
		}
	}
	return resp.StatusCode
}

type page struct {
	Data []struct {
		AccountID, Email, AccountStatus, ClaimStatus string
	}
	Links map[string]string
}

type orgErrors struct {
	Errors []struct{ Status, Code, Title, Detail string }
}

// find is alice's account id through the search by email.
func find(t *testing.T, sim *faketest.Server[Config], email string) string {
	t.Helper()
	var p page
	if st := call(t, sim, "POST", search, bearer, `{"emails":["`+email+`"],"limit":10}`, &p); st != 200 || len(p.Data) != 1 {
		t.Fatalf("search %s = %d %+v, want one user", email, st, p)
	}
	return p.Data[0].AccountID
}

func TestAtlassianSearch(t *testing.T) {
	sim := start(t, fake.Knobs{})
	var p page
	if st := call(t, sim, "POST", search, bearer, `{"emails":["Alice@Example.com"]}`, &p); st != 200 || len(p.Data) != 1 ||
		p.Data[0].Email != "alice@example.com" || p.Data[0].AccountStatus != "active" || p.Data[0].ClaimStatus != "managed" {
		t.Fatalf("search by email = %d %+v", st, p)
	}
	p = page{}
	if st := call(t, sim, "POST", search, bearer, `{"emails":["dana@example.com"]}`, &p); st != 200 || len(p.Data) != 0 {
		t.Fatalf("search for no one = %d %+v", st, p)
	}
	p = page{}
	if st := call(t, sim, "POST", search, bearer, `{"limit":2}`, &p); st != 200 || len(p.Data) != 2 || p.Links["next"] == "" {
		t.Fatalf("first page = %d %+v", st, p)
	}
	var rest page
	if st := call(t, sim, "POST", search, bearer, `{"limit":2,"cursor":"`+p.Links["next"]+`"}`, &rest); st != 200 || len(rest.Data) != 1 || rest.Links["next"] != "" {
		t.Fatalf("second page = %d %+v", st, rest)
	}
	var e orgErrors
	if st := call(t, sim, "POST", search, bearer, `{"emails":["alice@example.com"],"searchTerm":"alice"}`, &e); st != 400 || len(e.Errors) != 1 || e.Errors[0].Status != "400" {
		t.Fatalf("emails with searchTerm = %d %+v, want 400 in the errors shape", st, e)
	}
	e = orgErrors{}
	if st := call(t, sim, "POST", "/atlassian/admin/v2/orgs/other/directories/-/users/search", bearer, `{}`, &e); st != 404 || e.Errors[0].Code != "ADMIN-UAM-404-2" {
		t.Fatalf("another org = %d %+v", st, e)
	}
}

// TestAtlassianOffboarding: tokens listed and deleted one by one, the
// account disabled and read back inactive; the tokens are what the
// simulator counts as sessions.
func TestAtlassianOffboarding(t *testing.T) {
	sim := start(t, fake.Knobs{})
	id := find(t, sim, "alice@example.com")
	user := "/atlassian/users/" + id + "/manage"
	var tokens []apiToken
	if st := call(t, sim, "GET", user+"/api-tokens", bearer, "", &tokens); st != 200 || len(tokens) != 2 || tokens[0].ID == "" {
		t.Fatalf("tokens = %d %+v", st, tokens)
	}
	for _, tok := range tokens {
		if st := call(t, sim, "DELETE", user+"/api-tokens/"+tok.ID, bearer, "", nil); st != 204 {
			t.Fatalf("DELETE %s = %d", tok.ID, st)
		}
	}
	if st := call(t, sim, "DELETE", user+"/api-tokens/"+tokens[0].ID, bearer, "", nil); st != 404 {
		t.Errorf("DELETE of a deleted token = %d, want 404", st)
	}
	if n := sim.Sessions("atlassian", "alice@example.com"); n != 0 {
		t.Errorf("alice has %d tokens, want 0", n)
	}
	if st := call(t, sim, "POST", user+"/lifecycle/disable", bearer, `{"message":"gone"}`, nil); st != 204 {
		t.Fatalf("disable = %d", st)
	}
	var prof struct {
		Account struct {
			AccountStatus string `json:"account_status"`
		}
	}
	if st := call(t, sim, "GET", user+"/profile", bearer, "", &prof); st != 200 || prof.Account.AccountStatus != "inactive" {
		t.Fatalf("profile = %d %+v", st, prof)
	}
	var bad []struct{ Code, Message string }
	if st := call(t, sim, "POST", user+"/lifecycle/disable", bearer, `{`, &bad); st != 400 || len(bad) != 1 || bad[0].Code == "" {
		t.Errorf("disable with a broken body = %d %+v", st, bad)
	}
	var key struct{ Key string }
	if st := call(t, sim, "GET", "/atlassian/users/nobody/manage/api-tokens", bearer, "", &key); st != 404 || key.Key == "" {
		t.Errorf("tokens of no one = %d %+v", st, key)
	}
	if n := sim.Sessions("atlassian", "bob@example.com"); n != 2 {
		t.Errorf("bob has %d tokens, want 2: untouched", n)
	}
	// AddUser makes the account active again, with fresh tokens.
	sim.AddUser("alice@example.com", 1)
	if call(t, sim, "GET", user+"/profile", bearer, "", &prof); prof.Account.AccountStatus != "active" || sim.Sessions("atlassian", "alice@example.com") != 1 {
		t.Errorf("after AddUser: %+v, %d tokens", prof, sim.Sessions("atlassian", "alice@example.com"))
	}
}

func TestAtlassianCredentialsAndLimits(t *testing.T) {
	sim := start(t, fake.Knobs{RateLimit: 1})
	var body struct {
		Code    int
		Message string
	}
	// The first call in a second passes the rate limit, then fails on the key.
	sim.SetClock(func() time.Time { return time.Unix(1_800_000_000, 0) })
	resp, b := sim.Do(t, "GET", "/atlassian/admin/v1/orgs/"+DefaultOrgID, "Bearer wrong", "")
	if err := json.Unmarshal(b, &body); err != nil || resp.StatusCode != 401 || body.Code != 401 || body.Message != "Unauthorized" {
		t.Fatalf("wrong key = %d %s", resp.StatusCode, b)
	}
	if got := resp.Header.Get("X-RateLimit-Reset"); got != "2027-01-15T08:00:01Z" {
		t.Errorf("X-RateLimit-Reset = %q, want the window's end as ISO 8601 UTC", got)
	}
	resp, b = sim.Do(t, "GET", "/atlassian/admin/v1/orgs/"+DefaultOrgID, bearer, "")
	var e orgErrors
	if err := json.Unmarshal(b, &e); err != nil || resp.StatusCode != 429 || len(e.Errors) != 1 || e.Errors[0].Status != "429" {
		t.Fatalf("over the limit = %d %s", resp.StatusCode, b)
	}
	if resp.Header.Get("Retry-After") != "1" || resp.Header.Get("X-RateLimit-Remaining") != "0" || resp.Header.Get("X-RateLimit-Limit") != "1" {
		t.Errorf("429 headers = %v", resp.Header)
	}
	sim.SetClock(func() time.Time { return time.Unix(1_800_000_002, 0) })
	var org struct{ Data struct{ ID, Type string } }
	if st := call(t, sim, "GET", "/atlassian/admin/v1/orgs/"+DefaultOrgID, bearer, "", &org); st != 200 || org.Data.ID != DefaultOrgID || org.Data.Type != "orgs" {
		t.Fatalf("org = %d %+v", st, org)
	}
	sim.SetConfig(Config{Token: "other-key", OrgID: "org-2"})
	sim.SetClock(func() time.Time { return time.Unix(1_800_000_003, 0) })
	if st := call(t, sim, "GET", "/atlassian/admin/v1/orgs/org-2", "Bearer other-key", "", nil); st != 200 {
		t.Errorf("configured org and key = %d", st)
	}
	sim.SetClock(func() time.Time { return time.Unix(1_800_000_004, 0) })
	if st := call(t, sim, "GET", "/atlassian/admin/v1/orgs/"+DefaultOrgID, "Bearer other-key", "", nil); st != 404 {
		t.Errorf("the default org once another is configured = %d, want 404", st)
	}
	if !strings.HasPrefix(find2(t, sim), "712020:") {
		t.Error("account ids are not Atlassian-shaped")
	}
}

// find2 searches for carol in the reconfigured org.
func find2(t *testing.T, sim *faketest.Server[Config]) string {
	t.Helper()
	sim.SetClock(func() time.Time { return time.Unix(1_800_000_006, 0) })
	var p page
	if st := call(t, sim, "POST", "/atlassian/admin/v2/orgs/org-2/directories/sim-directory/users/search", "Bearer other-key", `{"emails":["carol@example.com"]}`, &p); st != 200 || len(p.Data) != 1 {
		t.Fatalf("search = %d %+v", st, p)
	}
	return p.Data[0].AccountID
}
