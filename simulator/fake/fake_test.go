package fake

import (
	"maps"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"
)

type dirUser struct {
	id       int
	sessions int
}

func TestDirectory(t *testing.T) {
	var mu sync.Mutex
	d := NewDirectory[int](&mu, func(u *dirUser) int { return u.sessions })
	add := func(email string, id, sessions int) *dirUser {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		u := d.Ensure(email, func() (int, *dirUser) { return id, &dirUser{id: id} })
		u.sessions = sessions
		return u
	}
	bob := add("bob@example.com", 30, 1)
	add("alice@example.com", 10, 2)
	add("carol@example.com", 20, 0)

	t.Run("adding a user again keeps the first id", func(t *testing.T) {
		if u := add("bob@example.com", 99, 4); u != bob || u.id != 30 {
			t.Errorf("bob again = %+v, want the first bob, id 30", u)
		}
		mu.Lock()
		defer mu.Unlock()
		if got := d.ByID(99); got != nil {
			t.Errorf("ByID(99) = %+v, want nil", got)
		}
	})
	t.Run("ids are listed in order and name their users", func(t *testing.T) {
		mu.Lock()
		defer mu.Unlock()
		if got := d.IDs(); !slices.Equal(got, []int{10, 20, 30}) {
			t.Errorf("IDs = %v", got)
		}
		if got := d.ByID(30); got != bob {
			t.Errorf("ByID(30) = %+v, want bob", got)
		}
		emails := d.Emails()
		slices.Sort(emails)
		if want := []string{"alice@example.com", "bob@example.com", "carol@example.com"}; !slices.Equal(emails, want) {
			t.Errorf("Emails = %v", emails)
		}
	})
	t.Run("sessions and users count what the vendor counts", func(t *testing.T) {
		if n := d.Sessions("bob@example.com"); n != 4 {
			t.Errorf("bob's sessions = %d, want 4", n)
		}
		if n := d.Sessions("nobody@example.com"); n != -1 {
			t.Errorf("an unknown user's sessions = %d, want -1", n)
		}
		want := map[string]int{"alice@example.com": 2, "bob@example.com": 4, "carol@example.com": 0}
		if got := d.Users(); !maps.Equal(got, want) {
			t.Errorf("Users = %v, want %v", got, want)
		}
	})
	t.Run("the subject is found by id first, then by email", func(t *testing.T) {
		for _, tt := range []struct {
			id    int
			email string
			want  string
		}{
			{10, "", "alice@example.com"},
			{10, "bob@example.com", "alice@example.com"},
			{0, "bob@example.com", "bob@example.com"},
			{0, "BOB@example.com", ""},
			{42, "", ""},
		} {
			if got := d.Subject(tt.id, tt.email); got != tt.want {
				t.Errorf("Subject(%d, %q) = %q, want %q", tt.id, tt.email, got, tt.want)
			}
		}
	})
}

func TestTokens(t *testing.T) {
	var b Tokens
	live := b.Mint("sim-", 8, time.Hour)
	expired := b.Mint("sim-", 8, -time.Second)
	if len(live) != len("sim-")+16 || live[:4] != "sim-" {
		t.Errorf("minted %q, want sim- and 16 hex digits", live)
	}
	for _, tt := range []struct {
		name, pattern, auth string
		want                bool
	}{
		{"a live token passes", "GET /api/users", "Bearer " + live, true},
		{"an expired token does not", "GET /api/users", "Bearer " + expired, false},
		{"a token not issued here does not", "GET /api/users", "Bearer sim-0123456789abcdef", false},
		{"another scheme does not", "GET /api/users", "Basic " + live, false},
		{"no token does not", "GET /api/users", "", false},
		{"a token request always does", "POST /oauth/token", "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Pattern = tt.pattern
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			if got := b.Authorized(r, "/oauth/token"); got != tt.want {
				t.Errorf("Authorized = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestClient(t *testing.T) {
	c := Client{ID: "", Secret: "mine"}.Or(Client{ID: "default-id", Secret: "default-secret"})
	if c != (Client{ID: "default-id", Secret: "mine"}) {
		t.Errorf("Or = %+v", c)
	}
	if !c.Is("default-id", "mine") || c.Is("default-id", "default-secret") || c.Is("other", "mine") {
		t.Error("Is does not tell the client's own pair from others")
	}
	for _, tt := range []struct {
		name, body, basicID, basicSecret, wantID, wantSecret string
	}{
		{"the body's pair comes first", "client_id=a&client_secret=b", "c", "d", "a", "b"},
		{"HTTP Basic stands in for a body without one", "grant_type=client_credentials", "c", "d", "c", "d"},
		{"neither is no client", "", "", "", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/token", nil)
			if tt.basicID != "" {
				r.SetBasicAuth(tt.basicID, tt.basicSecret)
			}
			p, _ := url.ParseQuery(tt.body)
			id, secret := PresentedClient(r, p)
			if id != tt.wantID || secret != tt.wantSecret {
				t.Errorf("PresentedClient = %q, %q, want %q, %q", id, secret, tt.wantID, tt.wantSecret)
			}
		})
	}
}

func TestLimitsCountFixedWindowsPerVendor(t *testing.T) {
	now := time.Date(2026, 12, 6, 10, 0, 30, 0, time.UTC)
	s := NewServer(Knobs{RateLimit: 2, Limits: map[string]Limit{"okta": {Requests: 3, Per: time.Minute}, "bad": {Requests: 0, Per: time.Second}}},
		func() time.Time { return now })
	if _, ok := s.Knobs().Limits["bad"]; ok {
		t.Error("a limit of 0 requests was kept")
	}
	okta := Limit{Requests: 3, Per: time.Minute}
	for i := 1; i <= 4; i++ {
		q := s.take("okta", okta)
		if q.Exceeded != (i == 4) || q.Limit != 3 || !q.Reset.Equal(time.Date(2026, 12, 6, 10, 1, 0, 0, time.UTC)) {
			t.Errorf("okta call %d: %+v", i, q)
		}
	}
	now = now.Add(29 * time.Second) // 10:00:59, same window
	if q := s.take("okta", okta); !q.Exceeded {
		t.Errorf("okta call 5 in the same minute: %+v, want exceeded", q)
	}
	now = now.Add(time.Second) // 10:01:00, the next window
	if q := s.take("okta", okta); q.Exceeded || q.Remaining != 2 {
		t.Errorf("first okta call of the next minute: %+v", q)
	}
	sec := Limit{Requests: 2, Per: time.Second}
	for i := 1; i <= 3; i++ {
		if q := s.take("slack", sec); q.Exceeded != (i == 3) {
			t.Errorf("slack call %d: %+v", i, q)
		}
	}
}
