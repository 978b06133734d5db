package pagerduty

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
	"github.com/offboarder/offboarder/simulator/fake/faketest"
)

const key = "Token token=" + DefaultToken

// demo serves the fake alone with alice, bob and carol (2 sessions each)
// and the knobs k.
func demo(t *testing.T, k fake.Knobs) *faketest.Server[Config] {
	t.Helper()
	sim := faketest.Start(t, k, Config{}, func(c func() Config, now func() time.Time) fake.Vendor { return newPagerDuty(c, now) })
	sim.Seed(0)
	return sim
}

// checkError asserts body is PagerDuty's {"error":{"message": msg, "code": code}}.
func checkError(t *testing.T, body []byte, msg string, code int) {
	t.Helper()
	var e struct {
		Error struct {
			Message string `json:"message"`
			Code    int    `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Message != msg || e.Error.Code != code {
		t.Errorf("error body %s, want message %q and code %d", body, msg, code)
	}
}

type userList struct {
	Users []struct {
		ID    string `json:"id"`
		Email string `json:"email"`
	} `json:"users"`
	More bool `json:"more"`
}

type delegationList struct {
	Delegations []struct {
		ID     string `json:"id"`
		Kind   string `json:"delegation_type"`
		Status string `json:"status"`
	} `json:"oauth_delegations"`
	More       bool    `json:"more"`
	NextCursor *string `json:"next_cursor"`
}

func get[T any](t *testing.T, sim *faketest.Server[Config], path string) (int, T) {
	t.Helper()
	resp, body := sim.Do(t, "GET", path, key, "")
	var out T
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("%s: %v: %s", path, err, body)
		}
	}
	return resp.StatusCode, out
}

func TestPagerDutyAuthentication(t *testing.T) {
	sim := demo(t, fake.Knobs{})
	for _, tt := range []struct {
		name, auth string
		want       int
	}{
		{"the API key as Token token= is accepted", key, 200},
		{"a bearer token is not the API key's scheme", "Bearer " + DefaultToken, 401},
		{"a wrong key is 401", "Token token=wrong", 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := sim.Do(t, "GET", "/pagerduty/users?limit=1", tt.auth, "")
			if resp.StatusCode != tt.want {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == 401 {
				checkError(t, body, "Unauthorized", 2006)
			}
		})
	}
}

func TestPagerDutyUsersAndDelegations(t *testing.T) {
	sim := demo(t, fake.Knobs{})
	_, users := get[userList](t, sim, "/pagerduty/users?query=bob%40example.com")
	if len(users.Users) != 1 || users.Users[0].Email != "bob@example.com" {
		t.Fatalf("users = %+v", users)
	}
	bob := users.Users[0].ID
	t.Run("a query matches names too, and pages with limit and offset", func(t *testing.T) {
		if _, u := get[userList](t, sim, "/pagerduty/users?query=ALICE"); len(u.Users) != 1 {
			t.Errorf("query ALICE = %+v", u)
		}
		_, p1 := get[userList](t, sim, "/pagerduty/users?limit=2")
		_, p2 := get[userList](t, sim, "/pagerduty/users?limit=2&offset=2")
		if len(p1.Users) != 2 || !p1.More || len(p2.Users) != 1 || p2.More {
			t.Errorf("pages = %+v, %+v", p1, p2)
		}
	})
	t.Run("a user has web, mobile and integration delegations, paged by cursor", func(t *testing.T) {
		_, d := get[delegationList](t, sim, "/pagerduty/users/"+bob+"/oauth_delegations?limit=2")
		if len(d.Delegations) != 2 || !d.More || d.NextCursor == nil || d.Delegations[0].Kind != "web" || d.Delegations[1].Kind != "mobile" {
			t.Fatalf("page 1 = %+v", d)
		}
		_, d2 := get[delegationList](t, sim, "/pagerduty/users/"+bob+"/oauth_delegations?limit=2&cursor="+*d.NextCursor)
		if len(d2.Delegations) != 1 || d2.More || d2.Delegations[0].Kind != "integration" {
			t.Errorf("page 2 = %+v", d2)
		}
	})
	t.Run("deleting web and mobile revokes them at once and leaves the integration", func(t *testing.T) {
		resp, body := sim.Do(t, "DELETE", "/pagerduty/oauth_delegations?user_id="+bob+"&type=web,mobile", key, "")
		if resp.StatusCode != 200 || string(body) != "{\"status\":\"ok\"}\n" {
			t.Fatalf("delete = %d %s", resp.StatusCode, body)
		}
		if n := sim.Sessions("pagerduty", "bob@example.com"); n != 0 {
			t.Errorf("bob's sessions = %d", n)
		}
		if n := sim.Sessions("pagerduty", "alice@example.com"); n != 2 {
			t.Errorf("alice's sessions = %d, want 2", n)
		}
		_, issued := get[delegationList](t, sim, "/pagerduty/users/"+bob+"/oauth_delegations?status=issued")
		_, revoked := get[delegationList](t, sim, "/pagerduty/users/"+bob+"/oauth_delegations?status=revoked")
		if len(issued.Delegations) != 1 || issued.Delegations[0].Kind != "integration" || len(revoked.Delegations) != 2 {
			t.Errorf("issued = %+v, revoked = %+v", issued, revoked)
		}
		if resp, _ := sim.Do(t, "DELETE", "/pagerduty/oauth_delegations?user_id="+bob+"&type=mobile", key, ""); resp.StatusCode != 200 {
			t.Errorf("a second deletion = %d, want 200", resp.StatusCode)
		}
	})
	t.Run("bad arguments are 400 and an unknown user's delegations 404", func(t *testing.T) {
		for _, path := range []string{"/pagerduty/oauth_delegations?user_id=" + bob, "/pagerduty/oauth_delegations?user_id=" + bob + "&type=integration",
			"/pagerduty/oauth_delegations?user_id=PNOBODY&type=web"} {
			resp, body := sim.Do(t, "DELETE", path, key, "")
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s = %d", path, resp.StatusCode)
			}
			checkError(t, body, "Invalid Input Provided", 2001)
		}
		resp, body := sim.Do(t, "GET", "/pagerduty/users/PNOBODY/oauth_delegations", key, "")
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("unknown user = %d", resp.StatusCode)
		}
		checkError(t, body, "Not Found", 2100)
	})
}

func TestPagerDutyKnobs(t *testing.T) {
	t.Run("over the rate limit it is 429 with ratelimit-reset in seconds", func(t *testing.T) {
		sim := demo(t, fake.Knobs{RateLimit: 1})
		clock := time.Unix(1_700_000_000, 0)
		sim.SetClock(func() time.Time { return clock })
		for i, want := range []int{200, 429} {
			resp, body := sim.Do(t, "GET", "/pagerduty/users?limit=1", key, "")
			if resp.StatusCode != want {
				t.Fatalf("call %d: status = %d, want %d", i+1, resp.StatusCode, want)
			}
			if want == 429 {
				if resp.Header.Get("ratelimit-reset") != "1" || resp.Header.Get("ratelimit-remaining") != "0" {
					t.Errorf("headers = %v", resp.Header)
				}
				checkError(t, body, "Rate Limit Exceeded", 2020)
			}
		}
	})
	t.Run("an error rate of 1 answers 500 and signs nobody out", func(t *testing.T) {
		sim := demo(t, fake.Knobs{})
		_, users := get[userList](t, sim, "/pagerduty/users?query=alice")
		sim.SetKnobs(fake.Knobs{ErrorRate: 1})
		resp, _ := sim.Do(t, "DELETE", "/pagerduty/oauth_delegations?user_id="+users.Users[0].ID+"&type=web,mobile", key, "")
		if resp.StatusCode != http.StatusInternalServerError {
			t.Fatalf("status = %d", resp.StatusCode)
		}
		if n := sim.Sessions("pagerduty", "alice@example.com"); n != 2 {
			t.Errorf("sessions = %d", n)
		}
	})
	t.Run("calls are recorded with the user they name", func(t *testing.T) {
		sim := demo(t, fake.Knobs{})
		_, users := get[userList](t, sim, "/pagerduty/users?query=carol")
		sim.Reset()
		sim.Do(t, "DELETE", "/pagerduty/oauth_delegations?user_id="+users.Users[0].ID+"&type=web", key, "")
		sim.Do(t, "GET", "/pagerduty/users/"+users.Users[0].ID+"/oauth_delegations", key, "")
		got := sim.Calls()
		if len(got) != 2 || got[0].User != "carol@example.com" || got[1].User != "carol@example.com" || got[0].Vendor != "pagerduty" {
			t.Errorf("calls = %+v", got)
		}
	})
}
