package entra

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// deltaPage reads one delta page at path and returns its users and the
// token of its next or delta link (which names the kind).
func deltaPage(t *testing.T, f *fixture, bearer, path string) (users []map[string]any, kind, token string) {
	t.Helper()
	resp, body := f.sim.Do(t, "GET", path, bearer, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
	}
	var page struct {
		Value     []map[string]any `json:"value"`
		NextLink  string           `json:"@odata.nextLink"`
		DeltaLink string           `json:"@odata.deltaLink"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	link, kind := page.DeltaLink, "$deltatoken"
	if page.NextLink != "" {
		link, kind = page.NextLink, "$skiptoken"
	}
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(link, f.srv.URL+"/entra/v1.0/users/delta?") || (page.NextLink == "") == (page.DeltaLink == "") {
		t.Fatalf("links: next %q, delta %q", page.NextLink, page.DeltaLink)
	}
	return page.Value, kind, u.Query().Get(kind)
}

func TestEntraDeltaQuery(t *testing.T) {
	f := demo(t, options{})
	bearer := entraBearer(t, f)
	users, kind, token := deltaPage(t, f, bearer, "/entra/v1.0/users/delta?$select=id,accountEnabled,mail,userPrincipalName")
	if len(users) != 3 || kind != "$deltatoken" {
		t.Fatalf("first round: %d users, %s; want every user and a delta link", len(users), kind)
	}
	if u := users[0]; len(u) != 4 || u["accountEnabled"] != true || u["id"] == nil {
		t.Fatalf("user %v; want the selected properties", u)
	}

	t.Run("a round with no change is empty", func(t *testing.T) {
		users, kind, next := deltaPage(t, f, bearer, "/entra/v1.0/users/delta?$deltatoken="+token)
		if len(users) != 0 || kind != "$deltatoken" || next == "" {
			t.Fatalf("%d users, %s", len(users), kind)
		}
	})
	t.Run("a disabled user is in the next round, with the selected properties", func(t *testing.T) {
		resp, body := f.sim.Do(t, "PATCH", "/entra/v1.0/users/bob@example.com", bearer, `{"accountEnabled":false}`)
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("update: %d %s", resp.StatusCode, body)
		}
		users, _, next := deltaPage(t, f, bearer, "/entra/v1.0/users/delta?$deltatoken="+token)
		if len(users) != 1 || users[0]["userPrincipalName"] != "bob@example.com" || users[0]["accountEnabled"] != false || len(users[0]) != 4 {
			t.Fatalf("users %v; want bob, disabled", users)
		}
		if users, _, _ := deltaPage(t, f, bearer, "/entra/v1.0/users/delta?$deltatoken="+next); len(users) != 0 {
			t.Fatalf("the round after: %v; want none", users)
		}
		u := entraGet(t, f, "/entra/v1.0/users/bob@example.com?$select=accountEnabled", bearer, http.StatusOK)
		if u["accountEnabled"] != false {
			t.Fatalf("bob reads %v", u)
		}
	})
	t.Run("more users than a page go on by skip tokens", func(t *testing.T) {
		g := demo(t, options{})
		const n = entraPageSize + 5
		for i := range n {
			g.sim.AddUser(fmt.Sprintf("user%03d@example.com", i), 0)
		}
		b := entraBearer(t, g)
		first, kind, skip := deltaPage(t, g, b, "/entra/v1.0/users/delta")
		if len(first) != entraPageSize || kind != "$skiptoken" {
			t.Fatalf("first page %d users, %s", len(first), kind)
		}
		rest, kind, _ := deltaPage(t, g, b, "/entra/v1.0/users/delta?$skiptoken="+url.QueryEscape(skip))
		if len(first)+len(rest) != n+3 || kind != "$deltatoken" {
			t.Fatalf("%d + %d users of %d, %s", len(first), len(rest), n+3, kind)
		}
	})
	t.Run("a bad token or update is 400", func(t *testing.T) {
		for _, c := range []struct{ method, path, body string }{
			{"GET", "/entra/v1.0/users/delta?$deltatoken=garbage", ""},
			{"PATCH", "/entra/v1.0/users/alice@example.com", `{"displayName":"x"}`},
			{"PATCH", "/entra/v1.0/users/alice@example.com", `{"accountEnabled":"no"}`},
		} {
			if resp, body := f.sim.Do(t, c.method, c.path, bearer, c.body); resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"error"`) {
				t.Errorf("%s %s: %d %s", c.method, c.path, resp.StatusCode, body)
			}
		}
	})
}
