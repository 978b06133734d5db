package google

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/conformance"
)

const (
	googleToken     = "c2b9e0f4-offboarder-channel-7d1a"
	googleClientSA  = "offboarder@offboarder-prod.iam.gserviceaccount.com"
	googleAdmin     = "admin@example.com"
	googleChannel1  = "offboarder-00000000000000000000000000000001"
	googleOtherTool = "01234567-89ab-cdef-0123456789ab" // the documentation's example id
)

var (
	googleKeyOnce sync.Once
	googleRSA     *rsa.PrivateKey
	googleKeyJSON string
)

// googleTestKey is a service account's JSON key, as Google's console makes
// it [sa], with a key generated for the tests.
func googleTestKey(t testing.TB) (*rsa.PrivateKey, string) {
	t.Helper()
	googleKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		der, _ := x509.MarshalPKCS8PrivateKey(k)
		b, _ := json.Marshal(map[string]string{
			"type":                        "service_account",
			"project_id":                  "offboarder-prod",
			"private_key_id":              "4b9d1e0f2a3c4d5e6f708192a3b4c5d6e7f80912",
			"private_key":                 string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
			"client_email":                googleClientSA,
			"client_id":                   "113456789012345678901",
			"auth_uri":                    "https://accounts.google.com/o/oauth2/auth",
			"token_uri":                   "https://oauth2.googleapis.com/token",
			"auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
		})
		googleRSA, googleKeyJSON = k, string(b)
	})
	return googleRSA, googleKeyJSON
}

func googleSettings(t testing.TB, base string) map[string]any {
	t.Helper()
	if base == "" {
		base = "http://127.0.0.1:9"
	}
	_, key := googleTestKey(t)
	return map[string]any{
		"channel_token":    googleToken,
		"credentials":      key,
		"admin_email":      googleAdmin,
		"notification_url": "https://offboarder.example.com/webhooks/google",
		"base_url":         base,
		"token_url":        base + "/token",
	}
}

func newTestGoogle(t testing.TB, settings map[string]any) *Source {
	t.Helper()
	if settings == nil {
		settings = googleSettings(t, "")
	}
	srcs, err := build([]sources.Spec{{Name: "google", Type: "google", Settings: settings}})
	if err != nil {
		t.Fatal(err)
	}
	g := srcs[0].(*Source)
	n := 0
	g.newID = func() string { n++; return fmt.Sprintf("offboarder-%032x", n) }
	return g
}

func googleFile(t testing.TB, name string) []byte {
	t.Helper()
	return testdataFile(t, name)
}

// googleHeaders are a notification's headers [push].
func googleHeaders(state string, kv ...string) http.Header {
	h := conformance.Headers(
		ChannelIDHeader, googleChannel1,
		ChannelTokenHeader, googleToken,
		"X-Goog-Channel-Expiration", "Tue, 10 Mar 2026 20:32:02 GMT",
		"X-Goog-Resource-ID", "ret987df98743md8g",
		"X-Goog-Resource-URI", "https://admin.googleapis.com/admin/reports/v1/activity/users/all/applications/admin?alt=json",
		ResourceStateHeader, state,
		"X-Goog-Message-Number", "23",
		"User-Agent", "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)",
	)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			h.Del(kv[i])
			continue
		}
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func TestGoogleHandshake(t *testing.T) {
	g := newTestGoogle(t, nil)
	tests := []struct {
		name      string
		method    string
		header    http.Header
		handshake bool
		status    int
	}{
		{"a sync message with the channel token is acknowledged", http.MethodPost, googleHeaders("sync", "X-Goog-Message-Number", "1"), true, http.StatusOK},
		{"a sync message with a wrong token is refused", http.MethodPost, googleHeaders("sync", ChannelTokenHeader, "target=myApp-myFilesChannelDest"), true, http.StatusUnauthorized},
		{"a sync message without a token is refused", http.MethodPost, googleHeaders("sync", ChannelTokenHeader, ""), true, http.StatusUnauthorized},
		{"a sync message of another tool's channel is refused", http.MethodPost, googleHeaders("sync", ChannelIDHeader, googleOtherTool), true, http.StatusUnauthorized},
		{"an event notification is not a handshake", http.MethodPost, googleHeaders("SUSPEND_USER"), false, 0},
		{"a GET with sync is not a handshake", http.MethodGet, googleHeaders("sync"), false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, ok := g.Handshake(&sources.Request{Context: t.Context(), Method: tt.method, Header: tt.header})
			if ok != tt.handshake {
				t.Fatalf("handshake = %v, want %v", ok, tt.handshake)
			}
			if !ok {
				return
			}
			if resp.Status != tt.status || resp.ContentType != "application/json" {
				t.Fatalf("got %d %q %s", resp.Status, resp.ContentType, resp.Body)
			}
			if strings.Contains(string(resp.Body), googleToken) {
				t.Fatalf("the answer holds the token: %s", resp.Body)
			}
		})
	}
}

func TestGoogleVerify(t *testing.T) {
	g := newTestGoogle(t, nil)
	tests := []struct {
		name   string
		header http.Header
		ok     bool
	}{
		{"the channel token on a channel of this source is accepted", googleHeaders("SUSPEND_USER"), true},
		{"a missing token is refused", googleHeaders("SUSPEND_USER", ChannelTokenHeader, ""), false},
		{"an empty token is refused", conformance.Headers(ChannelIDHeader, googleChannel1, ChannelTokenHeader, ""), false},
		{"a wrong token is refused", googleHeaders("SUSPEND_USER", ChannelTokenHeader, "398348u3tu83ut8uu38"), false},
		{"a prefix of the token is refused", googleHeaders("SUSPEND_USER", ChannelTokenHeader, googleToken[:len(googleToken)-1]), false},
		{"the token with a character more is refused", googleHeaders("SUSPEND_USER", ChannelTokenHeader, googleToken+"x"), false},
		{"the token in another letter case is refused", googleHeaders("SUSPEND_USER", ChannelTokenHeader, strings.ToUpper(googleToken)), false},
		{"two tokens are refused even if one is right", func() http.Header {
			h := googleHeaders("SUSPEND_USER")
			h.Add(ChannelTokenHeader, "other")
			return h
		}(), false},
		{"the right token on another tool's channel id is refused", googleHeaders("SUSPEND_USER", ChannelIDHeader, googleOtherTool), false},
		{"the right token without a channel id is refused", googleHeaders("SUSPEND_USER", ChannelIDHeader, ""), false},
		{"a channel id with upper-case hex is refused", googleHeaders("SUSPEND_USER", ChannelIDHeader, strings.ToUpper(googleChannel1)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := g.Verify(&sources.Request{Context: t.Context(), Method: http.MethodPost, Header: tt.header, Body: googleFile(t, "suspend-user.json")})
			if tt.ok {
				if err != nil {
					t.Fatalf("want accepted, got %v", err)
				}
				return
			}
			if !errors.Is(err, sources.ErrUnauthorized) || !strings.HasPrefix(err.Error(), "google: ") {
				t.Fatalf("want a google ErrUnauthorized, got %v", err)
			}
			for _, v := range append(tt.header.Values(ChannelTokenHeader), googleToken) {
				if len(v) > 3 && strings.Contains(err.Error(), v) {
					t.Fatalf("error text holds a token: %v", err)
				}
			}
		})
	}
}

// googleActivityJSON is an admin activity with one event per name.
func googleActivityJSON(at, qualifier string, events ...[2]string) []byte {
	var evs []string
	for _, e := range events {
		evs = append(evs, fmt.Sprintf(`{"type":"USER_SETTINGS","name":%q,"parameters":[{"name":"USER_EMAIL","value":%q}]}`, e[0], e[1]))
	}
	return []byte(fmt.Sprintf(`{"kind":"admin#reports#activity","id":{"time":%q,"uniqueQualifier":%s,"applicationName":"admin","customerId":"ABCD012345"},"actor":{"callerType":"USER","email":"admin@example.com","profileId":"0123456789987654321"},"ipAddress":"192.0.2.0","events":[%s]}`,
		at, qualifier, strings.Join(evs, ",")))
}

func TestGoogleParse(t *testing.T) {
	g := newTestGoogle(t, nil)
	at := time.Date(2026, 3, 10, 18, 23, 35, 808_000_000, time.UTC)
	type want struct {
		id, email string
		reason    offboard.Reason
		typ       string
	}
	idOf := func(q, name, email string) string { return EventID(at, q, name, email) }
	tests := []struct {
		name    string
		body    []byte
		events  []want
		ignored string
		wantErr string
	}{
		{name: "a suspension offboards the user named in USER_EMAIL, not the admin", body: googleFile(t, "suspend-user.json"),
			events: []want{{idOf("-987654321", "SUSPEND_USER", "liz@example.com"), "liz@example.com", offboard.ReasonSuspended, "SUSPEND_USER"}}},
		{name: "a deletion is a termination", body: googleFile(t, "delete-user.json"),
			events: []want{{EventID(time.Date(2026, 3, 10, 19, 2, 11, 114_000_000, time.UTC), "4511890246237419132", "DELETE_USER", "bob@example.com"), "bob@example.com", offboard.ReasonTerminated, "DELETE_USER"}}},
		{name: "a created user is ignored by name", body: googleFile(t, "create-user.json"), ignored: "not offboarding events: CREATE_USER"},
		{name: "a uniqueQualifier sent as a number keys alike",
			body:   googleActivityJSON("2026-03-10T18:23:35.808Z", "-987654321", [2]string{"SUSPEND_USER", "liz@example.com"}),
			events: []want{{idOf("-987654321", "SUSPEND_USER", "liz@example.com"), "liz@example.com", offboard.ReasonSuspended, "SUSPEND_USER"}}},
		{name: "a time in another zone keys alike",
			body:   googleActivityJSON("2026-03-10T19:23:35.808+01:00", `"-987654321"`, [2]string{"SUSPEND_USER", "liz@example.com"}),
			events: []want{{idOf("-987654321", "SUSPEND_USER", "liz@example.com"), "liz@example.com", offboard.ReasonSuspended, "SUSPEND_USER"}}},
		{name: "an activity with two users gives one event each",
			body: googleActivityJSON("2026-03-10T18:23:35.808Z", `"7"`, [2]string{"SUSPEND_USER", "a@example.com"}, [2]string{"SUSPEND_USER", "b@example.com"}),
			events: []want{{idOf("7", "SUSPEND_USER", "a@example.com"), "a@example.com", offboard.ReasonSuspended, "SUSPEND_USER"},
				{idOf("7", "SUSPEND_USER", "b@example.com"), "b@example.com", offboard.ReasonSuspended, "SUSPEND_USER"}}},
		{name: "an event repeated in one activity counts once",
			body:   googleActivityJSON("2026-03-10T18:23:35.808Z", `"7"`, [2]string{"DELETE_USER", "a@example.com"}, [2]string{"DELETE_USER", "a@example.com"}),
			events: []want{{idOf("7", "DELETE_USER", "a@example.com"), "a@example.com", offboard.ReasonTerminated, "DELETE_USER"}}},
		{name: "an event without a usable USER_EMAIL is skipped",
			body:    googleActivityJSON("2026-03-10T18:23:35.808Z", `"7"`, [2]string{"SUSPEND_USER", "liz"}),
			ignored: "SUSPEND_USER: no usable USER_EMAIL"},
		{name: "an activity without a uniqueQualifier is skipped",
			body:    []byte(`{"id":{"time":"2026-03-10T18:23:35.808Z","applicationName":"admin"},"events":[{"name":"SUSPEND_USER","parameters":[{"name":"USER_EMAIL","value":"liz@example.com"}]}]}`),
			ignored: "no id.uniqueQualifier"},
		{name: "an activity without a time is skipped",
			body:    []byte(`{"id":{"uniqueQualifier":"7","applicationName":"admin"},"events":[{"name":"SUSPEND_USER","parameters":[{"name":"USER_EMAIL","value":"liz@example.com"}]}]}`),
			ignored: "no usable id.time"},
		{name: "an activity of another application is ignored",
			body:    []byte(`{"id":{"time":"2026-03-10T18:23:35.808Z","uniqueQualifier":"7","applicationName":"login"},"events":[{"name":"SUSPEND_USER","parameters":[{"name":"USER_EMAIL","value":"liz@example.com"}]}]}`),
			ignored: "application login"},
		{name: "a notification without a body is ignored for the poll to find", body: nil, ignored: "maintenance polls for it"},
		{name: "an activity without events is ignored", body: []byte(`{"kind":"admin#reports#activity"}`), ignored: "without events"},
		{name: "unknown fields are fine",
			body:   []byte(`{"future":[1],"id":{"time":"2026-03-10T18:23:35.808Z","uniqueQualifier":"-987654321","applicationName":"admin","x":1},"events":[{"type":"USER_SETTINGS","name":"SUSPEND_USER","resourceIds":["a"],"parameters":[{"name":"USER_EMAIL","value":"liz@example.com","multiValue":["x"]}]}]}`),
			events: []want{{idOf("-987654321", "SUSPEND_USER", "liz@example.com"), "liz@example.com", offboard.ReasonSuspended, "SUSPEND_USER"}}},
		{name: "truncated JSON is malformed", body: []byte(`{"events":`), wantErr: "truncated JSON"},
		{name: "an array body is malformed", body: []byte(`[]`), wantErr: "wrong JSON type"},
		{name: "events that are not a list are malformed", body: []byte(`{"events":{"name":"SUSPEND_USER"}}`), wantErr: "events"},
		{name: "an activity over the bound is malformed",
			body:    []byte(`{"events":[` + strings.TrimSuffix(strings.Repeat(`{"name":"X"},`, MaxEvents+1), ",") + `]}`),
			wantErr: fmt.Sprintf("more than %d events", MaxEvents)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := g.Parse(&sources.Request{Context: t.Context(), Method: http.MethodPost, Header: googleHeaders("SUSPEND_USER"), Body: tt.body})
			if tt.wantErr != "" {
				if !errors.Is(err, sources.ErrMalformed) || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "google: ") {
					t.Fatalf("want a google malformed error with %q, got %v", tt.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(tt.events) == 0 {
				if len(d.Events) != 0 || !strings.Contains(d.Ignored, tt.ignored) {
					t.Fatalf("want ignored with %q, got %+v", tt.ignored, d)
				}
				return
			}
			if len(d.Events) != len(tt.events) {
				t.Fatalf("want %d events, got %+v", len(tt.events), d.Events)
			}
			for i, w := range tt.events {
				ev := d.Events[i]
				if ev.ID != w.id || ev.Email != w.email || ev.Reason != w.reason || ev.Type != w.typ {
					t.Errorf("event %d: got %+v, want %+v", i, ev, w)
				}
				if ev.Email == googleAdmin || ev.IDs != nil || !ev.EffectiveAt.IsZero() || ev.Systems != nil || ev.DryRun {
					t.Errorf("event %d: unexpected subject or options: %+v", i, ev)
				}
			}
		})
	}
}

func TestGoogleEventIDsAreStable(t *testing.T) {
	at := time.Date(2026, 3, 10, 18, 23, 35, 808_000_000, time.UTC)
	id := EventID(at, "-987654321", "SUSPEND_USER", "liz@example.com")
	if !strings.HasPrefix(id, "2026-03-10T18:23:35.808Z/-987654321/SUSPEND_USER/") || len(id) != len("2026-03-10T18:23:35.808Z/-987654321/SUSPEND_USER/")+12 {
		t.Fatalf("id = %q", id)
	}
	for _, other := range []string{
		EventID(at.Add(time.Millisecond), "-987654321", "SUSPEND_USER", "liz@example.com"),
		EventID(at, "-987654322", "SUSPEND_USER", "liz@example.com"),
		EventID(at, "-987654321", "DELETE_USER", "liz@example.com"),
		EventID(at, "-987654321", "SUSPEND_USER", "bob@example.com"),
	} {
		if other == id {
			t.Fatalf("two different events share the id %q", id)
		}
	}
}

func TestGoogleEventsOverrideTheDefaults(t *testing.T) {
	s := googleSettings(t, "")
	s["events"] = map[string]any{"ARCHIVE_USER": "terminated", "SUSPEND_USER": "deactivated", "DELETE_USER": ""}
	g := newTestGoogle(t, s)
	body := googleActivityJSON("2026-03-10T18:23:35.808Z", `"7"`,
		[2]string{"ARCHIVE_USER", "a@example.com"}, [2]string{"SUSPEND_USER", "b@example.com"}, [2]string{"DELETE_USER", "c@example.com"})
	d, err := g.Parse(&sources.Request{Context: t.Context(), Method: http.MethodPost, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]offboard.Reason{}
	for _, ev := range d.Events {
		got[ev.Email] = ev.Reason
	}
	if want := map[string]offboard.Reason{"a@example.com": offboard.ReasonTerminated, "b@example.com": offboard.ReasonDeactivated}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("reasons: got %v, want %v", got, want)
	}
	// The defaults of another source are untouched.
	d, err = newTestGoogle(t, nil).Parse(&sources.Request{Context: t.Context(), Method: http.MethodPost, Body: body})
	if err != nil || len(d.Events) != 2 || d.Events[0].Reason != offboard.ReasonSuspended || d.Events[1].Reason != offboard.ReasonTerminated {
		t.Fatalf("defaults changed: %+v, %v", d, err)
	}
}

func TestGoogleBuildErrorsNameTheKey(t *testing.T) {
	with := func(kv ...any) map[string]any {
		s := googleSettings(t, "")
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(s, kv[i].(string))
			} else {
				s[kv[i].(string)] = kv[i+1]
			}
		}
		return s
	}
	_, key := googleTestKey(t)
	var k map[string]string
	_ = json.Unmarshal([]byte(key), &k)
	keyWith := func(field, value string) string {
		m := map[string]string{}
		for a, b := range k {
			m[a] = b
		}
		m[field] = value
		b, _ := json.Marshal(m)
		return string(b)
	}
	tests := []struct {
		name     string
		settings map[string]any
		want     string
	}{
		{"a missing channel token", with("channel_token", nil), "sources[0] (google).channel_token: required"},
		{"a short channel token", with("channel_token", "hunter2"), "sources[0] (google).channel_token: too short"},
		{"a channel token longer than Google keeps", with("channel_token", strings.Repeat("a", 257)), "sources[0] (google).channel_token: longer than the 256"},
		{"a channel token with a space", with("channel_token", "forwardTo=hr createdBy=mobile"), "sources[0] (google).channel_token: use printable ASCII"},
		{"missing credentials", with("credentials", nil), "sources[0] (google).credentials: required"},
		{"credentials that are not JSON", with("credentials", "-----BEGIN PRIVATE KEY-----"), "sources[0] (google).credentials: not a service account json key"},
		{"credentials of another type", with("credentials", keyWith("type", "authorized_user")), `sources[0] (google).credentials: not a service account json key (its "type"`},
		{"credentials without a client email", with("credentials", keyWith("client_email", "")), "sources[0] (google).credentials: the json key has no client_email"},
		{"credentials with a broken key", with("credentials", keyWith("private_key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")), "sources[0] (google).credentials: the json key's private_key: cannot be parsed"},
		{"a key's token uri that is not a url", with("credentials", keyWith("token_uri", "oauth2.googleapis.com/token"), "token_url", nil), "sources[0] (google).credentials: the json key's token_uri"},
		{"a missing admin email", with("admin_email", nil), "sources[0] (google).admin_email: required"},
		{"an admin email with a name", with("admin_email", "Admin <admin@example.com>"), "sources[0] (google).admin_email: must be a bare address"},
		{"a missing notification url", with("notification_url", nil), "sources[0] (google).notification_url: required"},
		{"a plain http notification url", with("notification_url", "http://offboarder.example.com/webhooks/google"), "sources[0] (google).notification_url: must be an https url"},
		{"a base url with the API path", with("base_url", "https://admin.googleapis.com/admin/reports/v1"), "sources[0] (google).base_url: give the root"},
		{"a token url with a fragment", with("token_url", "https://oauth2.googleapis.com/token#x"), "sources[0] (google).token_url: must not have a query or fragment"},
		{"an event name that is not one", with("events", map[string]any{"suspend user": "suspended"}), `sources[0] (google).events["suspend user"]: not an admin activity event name`},
		{"an unknown reason", with("events", map[string]any{"ARCHIVE_USER": "fired"}), `sources[0] (google).events["ARCHIVE_USER"]: want one of`},
		{"every default dropped", with("events", map[string]any{"SUSPEND_USER": "", "DELETE_USER": ""}), "sources[0] (google).events: no event name is left"},
		{"an unknown key", with("colour", "red"), `sources[0] (google).colour: unknown key (known:`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := build([]sources.Spec{{Name: "google", Type: "google", Settings: tt.settings}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("want an error with %q, got %v", tt.want, err)
			}
			for _, secret := range []string{googleToken, "PRIVATE KEY", "hunter2", k["private_key_id"]} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("a secret is in the error: %v", err)
				}
			}
		})
	}
}

func TestGoogleDefaultsAndInterfaces(t *testing.T) {
	s := googleSettings(t, "")
	delete(s, "base_url")
	delete(s, "token_url")
	g := newTestGoogle(t, s)
	if g.Name() != "google" || g.Type() != "google" || g.Interval() != Interval || len(g.events) != 2 {
		t.Fatalf("got name %q, type %q, interval %s, events %v", g.Name(), g.Type(), g.Interval(), g.events)
	}
	if id := googleChannelID(); !googleChannelIDRE.MatchString(id) || len(id) > 64 || id == googleChannelID() {
		t.Fatalf("channel id %q is not of the form Verify accepts, or not fresh", id)
	}
}
