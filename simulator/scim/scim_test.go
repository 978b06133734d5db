package scim

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
	"github.com/offboarder/offboarder/simulator/fake/faketest"
)

const bearer = "Bearer " + DefaultToken

// start serves the Lucid fake alone behind the knobs k, with alice, bob and
// carol active.
func start(t *testing.T, k fake.Knobs) *faketest.Server[Config] {
	t.Helper()
	sim := faketest.Start(t, k, Config{}, func(c func() Config, _ func() time.Time) fake.Vendor { return newLucid(c) })
	sim.Seed(0)
	return sim
}

// call sends one request under /lucid/scim/v2 and decodes the JSON answer.
func call(t *testing.T, sim *faketest.Server[Config], method, path, auth, body string) (int, map[string]any) {
	t.Helper()
	resp, b := sim.Do(t, method, "/lucid/scim/v2"+path, auth, body)
	var out map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %s", method, path, b)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/scim+json" {
			t.Errorf("%s %s: Content-Type = %q, want application/scim+json", method, path, ct)
		}
	}
	return resp.StatusCode, out
}

func search(t *testing.T, sim *faketest.Server[Config], filter string) (int, map[string]any) {
	t.Helper()
	return call(t, sim, "GET", "/Users?"+url.Values{"filter": {filter}}.Encode(), bearer, "")
}

// ids lists the ids of a ListResponse's Resources.
func ids(list map[string]any) []string {
	var out []string
	rs, _ := list["Resources"].([]any)
	for _, r := range rs {
		out = append(out, r.(map[string]any)["id"].(string))
	}
	return out
}

// wantError checks an RFC 7644 §3.12 error body.
func wantError(t *testing.T, status int, body map[string]any, wantStatus int, scimType string) {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("status = %d, want %d (%v)", status, wantStatus, body)
	}
	schemas, _ := body["schemas"].([]any)
	if len(schemas) != 1 || schemas[0] != errorSchema || body["status"] != strconv.Itoa(wantStatus) || body["detail"] == "" {
		t.Errorf("error body = %v, want the SCIM error shape with status %q", body, strconv.Itoa(wantStatus))
	}
	if got, _ := body["scimType"].(string); got != scimType {
		t.Errorf("scimType = %q, want %q", got, scimType)
	}
}

func TestLucidFilters(t *testing.T) {
	sim := start(t, fake.Knobs{})
	alice := ids(must(search(t, sim, `userName eq "alice@example.com"`)))
	if len(alice) != 1 {
		t.Fatalf("userName eq alice = %v, want one id", alice)
	}
	for _, f := range []string{
		`userName eq "ALICE@example.com"`, `USERNAME EQ "alice@example.com"`, `emails eq "alice@example.com"`,
		`emails.value eq "alice@example.com"`, `email eq "Alice@Example.com"`, `id eq "` + alice[0] + `"`,
		`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "alice@example.com"`,
	} {
		if got := ids(must(search(t, sim, f))); len(got) != 1 || got[0] != alice[0] {
			t.Errorf("%s = %v, want %v", f, got, alice)
		}
	}
	if got := ids(must(search(t, sim, `userName eq "dave@example.com"`))); len(got) != 0 {
		t.Errorf("an unknown userName found %v", got)
	}
	if got := ids(must(search(t, sim, `active eq true`))); len(got) != 3 {
		t.Errorf("active eq true = %v, want the 3 users", got)
	}
	for _, tt := range []struct{ name, filter string }{
		{"another operator", `userName co "alice"`},
		{"presence", `userName pr`},
		{"a logical operator", `userName eq "alice@example.com" or userName eq "bob@example.com"`},
		{"grouping", `(userName eq "alice@example.com")`},
		{"a value filter", `emails[value eq "alice@example.com"]`},
		{"an unquoted string", `userName eq alice@example.com`},
		{"no value", `userName eq`},
		{"an unknown attribute", `nickName eq "al"`},
		{"a string for active", `active eq "true"`},
	} {
		t.Run(tt.name+" is 400 invalidFilter", func(t *testing.T) {
			status, body := search(t, sim, tt.filter)
			wantError(t, status, body, 400, "invalidFilter")
		})
	}
}

func must(_ int, body map[string]any) map[string]any { return body }

func TestLucidPaging(t *testing.T) {
	sim := start(t, fake.Knobs{})
	status, page := call(t, sim, "GET", "/Users?startIndex=2&count=1", bearer, "")
	if status != 200 || page["totalResults"] != float64(3) || page["startIndex"] != float64(2) || page["itemsPerPage"] != float64(1) || len(ids(page)) != 1 {
		t.Fatalf("page = %d %v", status, page)
	}
	if status, body := call(t, sim, "GET", "/Users?count=ten", bearer, ""); status != 400 || body["scimType"] != "invalidValue" {
		t.Errorf("count=ten = %d %v", status, body)
	}
}

func TestLucidPatch(t *testing.T) {
	const pathForm = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`
	const valueForm = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`
	const entraForm = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":false}]}`
	for _, tt := range []struct{ name, body string }{{"with a path", pathForm}, {"without a path", valueForm}, {"with op Replace", entraForm}} {
		t.Run(tt.name+" deactivates the user, and the user reads inactive", func(t *testing.T) {
			sim := start(t, fake.Knobs{})
			id := ids(must(search(t, sim, `userName eq "bob@example.com"`)))[0]
			if n := sim.Sessions("lucid", "bob@example.com"); n != 1 {
				t.Fatalf("an active user counts %d sessions, want 1", n)
			}
			status, user := call(t, sim, "PATCH", "/Users/"+id, bearer, tt.body)
			if status != 200 || user["active"] != false || user["id"] != id {
				t.Fatalf("PATCH = %d %v", status, user)
			}
			if _, back := call(t, sim, "GET", "/Users/"+id, bearer, ""); back["active"] != false {
				t.Errorf("GET after PATCH = %v", back)
			}
			if n := sim.Sessions("lucid", "bob@example.com"); n != 0 {
				t.Errorf("a deactivated user counts %d sessions, want 0", n)
			}
			if n := sim.Sessions("lucid", "alice@example.com"); n != 1 {
				t.Errorf("alice counts %d sessions, want 1: only bob is deactivated", n)
			}
			sim.AddUser("bob@example.com", 2)
			if n := sim.Sessions("lucid", "bob@example.com"); n != 1 {
				t.Errorf("adding bob again counts %d sessions, want 1 (active again)", n)
			}
		})
	}
	sim := start(t, fake.Knobs{})
	id := ids(must(search(t, sim, `userName eq "carol@example.com"`)))[0]
	for _, tt := range []struct {
		name, id, body string
		status         int
		scimType       string
	}{
		{"an unknown id is Lucid's 403", "lucid-9", pathForm, 403, ""},
		{"a body that is not a PatchOp", id, `{"active":false}`, 400, "invalidSyntax"},
		{"another attribute", id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"x"}]}`, 400, "invalidPath"},
		{"a string for active", id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":"False"}]}`, 400, "invalidValue"},
		{"null for active", id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":null}}]}`, 400, "invalidValue"},
		{"remove", id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"active"}]}`, 400, "invalidPath"},
	} {
		t.Run(tt.name+" changes nothing", func(t *testing.T) {
			status, body := call(t, sim, "PATCH", "/Users/"+tt.id, bearer, tt.body)
			wantError(t, status, body, tt.status, tt.scimType)
			if n := sim.Sessions("lucid", "carol@example.com"); n != 1 {
				t.Errorf("carol counts %d sessions, want 1", n)
			}
		})
	}
	t.Run("an unknown id is 404 to a GET", func(t *testing.T) {
		status, body := call(t, sim, "GET", "/Users/lucid-9", bearer, "")
		wantError(t, status, body, 404, "")
	})
}

func TestLucidAuthAndKnobs(t *testing.T) {
	t.Run("a missing or wrong token is 401 in SCIM's error shape", func(t *testing.T) {
		sim := start(t, fake.Knobs{})
		for _, auth := range []string{"", "Bearer nope", DefaultToken} {
			status, body := call(t, sim, "GET", "/Users", auth, "")
			wantError(t, status, body, 401, "")
		}
		sim.SetConfig(Config{Token: "rotated"})
		if status, _ := call(t, sim, "GET", "/Users", "Bearer rotated", ""); status != 200 {
			t.Errorf("the configured token got %d", status)
		}
	})
	t.Run("over the rate limit it is 429 with Retry-After", func(t *testing.T) {
		sim := start(t, fake.Knobs{RateLimit: 1})
		call(t, sim, "GET", "/Users", bearer, "")
		resp, _ := sim.Do(t, "GET", "/lucid/scim/v2/Users", bearer, "")
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" {
			t.Fatalf("second call in the window = %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	})
	t.Run("an error rate of 1 answers 503 and deactivates nobody", func(t *testing.T) {
		sim := start(t, fake.Knobs{})
		id := ids(must(search(t, sim, `userName eq "alice@example.com"`)))[0]
		sim.SetKnobs(fake.Knobs{ErrorRate: 1})
		status, body := call(t, sim, "PATCH", "/Users/"+id, bearer, `{"schemas":["`+patchSchema+`"],"Operations":[{"op":"replace","value":{"active":false}}]}`)
		wantError(t, status, body, 503, "")
		if n := sim.Sessions("lucid", "alice@example.com"); n != 1 {
			t.Errorf("alice counts %d sessions, want 1", n)
		}
	})
	t.Run("calls are recorded with their user", func(t *testing.T) {
		sim := start(t, fake.Knobs{})
		id := ids(must(search(t, sim, `emails.value eq "Bob@example.com"`)))[0]
		call(t, sim, "GET", "/Users/"+id, bearer, "")
		calls := sim.Calls()
		if len(calls) != 2 || calls[0].User != "bob@example.com" || calls[1].User != "bob@example.com" || calls[0].Vendor != "lucid" {
			t.Fatalf("calls = %+v", calls)
		}
		if !strings.HasPrefix(calls[0].Path, "/scim/v2/Users") {
			t.Errorf("path = %q, want the vendor's own path", calls[0].Path)
		}
	})
}
