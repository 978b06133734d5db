package google

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/conformance"
	"github.com/offboarder/offboarder/vendorapi"
)

const (
	googleAccessToken = "ya29.c.fake-reports-token"
	googleBearer      = "Bearer " + googleAccessToken
)

// googleTokenStep is the service account's token request [sa]: a JWT
// assertion signed with the key, for the admin, the audit scope and the
// token URL as audience.
func googleTokenStep() conformance.APIStep {
	return conformance.APIStep{Method: http.MethodPost, Path: "/token", Status: http.StatusOK,
		Check: func(t *testing.T, r *http.Request, body []byte) {
			t.Helper()
			form, err := url.ParseQuery(string(body))
			if err != nil || form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
				t.Errorf("token request form = %q", body)
				return
			}
			k, _ := googleTestKey(t)
			assertion := form.Get("assertion")
			signed, err := jose.ParseSignedCompact(assertion, []jose.SignatureAlgorithm{jose.RS256})
			if err != nil {
				t.Errorf("assertion: %v", err)
				return
			}
			payload, err := signed.Verify(&k.PublicKey)
			if err != nil {
				t.Errorf("assertion signature: %v", err)
				return
			}
			var c struct{ Iss, Sub, Scope, Aud string }
			if err := json.Unmarshal(payload, &c); err != nil {
				t.Errorf("assertion claims: %v", err)
				return
			}
			if c.Iss != googleClientSA || c.Sub != googleAdmin || c.Scope != googleReportsScope ||
				c.Aud != "http://"+r.Host+"/token" {
				t.Errorf("assertion claims: iss %q sub %q scope %q aud %q", c.Iss, c.Sub, c.Scope, c.Aud)
			}
		},
		Body: `{"access_token":"` + googleAccessToken + `","expires_in":3599,"token_type":"Bearer"}`}
}

// googleError is Google's error body [limits].
func googleError(code int, status, reason, msg string) string {
	return fmt.Sprintf(`{"error":{"code":%d,"message":%q,"errors":[{"message":%q,"domain":"global","reason":%q}],"status":%q}}`, code, msg, msg, reason, status)
}

// googleWatchStep is activities.watch for event with channel id: it checks
// the Channel sent and answers it back with a resourceId.
func googleWatchStep(event, id, resourceID string, at time.Time) conformance.APIStep {
	exp := strconv.FormatInt(at.Add(ChannelLifetime).UnixMilli(), 10)
	return conformance.APIStep{Method: http.MethodPost, Path: googleReports + "/watch", Query: url.Values{"eventName": {event}}, Auth: googleBearer,
		Status: http.StatusOK,
		Check: func(t *testing.T, _ *http.Request, body []byte) {
			t.Helper()
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				t.Errorf("watch body: %s", body)
			}
			want := map[string]any{"id": id, "type": "web_hook", "address": "https://offboarder.example.com/webhooks/google",
				"token": googleToken, "expiration": exp, "payload": true}
			if fmt.Sprint(m) != fmt.Sprint(want) {
				t.Errorf("watch body = %v, want %v", m, want)
			}
		},
		Body: `{"kind":"api#channel","id":"` + id + `","resourceId":"` + resourceID + `","resourceUri":"https://admin.googleapis.com/admin/reports/v1/activity/users/all/applications/admin?eventName=` + event + `&alt=json","token":"` + googleToken + `","expiration":"` + exp + `"}`}
}

func googleStopStep(id, resourceID string, status int, body string) conformance.APIStep {
	return conformance.APIStep{Method: http.MethodPost, Path: "/admin/reports_v1/channels/stop", Auth: googleBearer, Status: status, Body: body,
		Check: func(t *testing.T, _ *http.Request, b []byte) {
			t.Helper()
			var m map[string]any
			_ = json.Unmarshal(b, &m)
			if len(m) != 2 || m["id"] != id || m["resourceId"] != resourceID {
				t.Errorf("stop body = %s, want id %s and resourceId %s", b, id, resourceID)
			}
		}}
}

// googleListStep is activities.list for event since from, answering items.
func googleListStep(event string, from time.Time, pageToken, next string, items ...[]byte) conformance.APIStep {
	q := url.Values{"eventName": {event}, "startTime": {from.UTC().Format(time.RFC3339)}, "maxResults": {"1000"}}
	if pageToken != "" {
		q.Set("pageToken", pageToken)
	}
	var list []string
	for _, it := range items {
		list = append(list, string(it))
	}
	body := `{"kind":"admin#reports#activities","etag":"\"abc\"","items":[` + strings.Join(list, ",") + `]`
	if next != "" {
		body += `,"nextPageToken":"` + next + `"`
	}
	return conformance.APIStep{Method: http.MethodGet, Path: googleReports, Query: q, Auth: googleBearer, Status: http.StatusOK, Body: body + "}"}
}

func googleStored(t *testing.T, st *conformance.StateMap) googleState {
	t.Helper()
	raw, ok, _ := st.Get(t.Context(), googleStateKey)
	if !ok {
		t.Fatal("no channel state stored")
	}
	if strings.Contains(string(raw), googleToken) {
		t.Fatalf("the stored state holds the channel token: %s", raw)
	}
	var s googleState
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func googleIDs(events []sources.Event) []string {
	var ids []string
	for _, ev := range events {
		ids = append(ids, ev.ID)
	}
	return ids
}

func TestGoogleMaintainKeepsChannelsAndPolls(t *testing.T) {
	ch := func(n int) string { return fmt.Sprintf("offboarder-%032x", n) }
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Hour)
	t2 := t0.Add(4*time.Hour + 40*time.Minute) // 80 minutes left on the channels
	t3 := t2.Add(time.Hour)
	suspend, del, create := googleFile(t, "suspend-user.json"), googleFile(t, "delete-user.json"), googleFile(t, "create-user.json")
	srv := conformance.FakeSender(t,
		// Run 1: no channels: watch both event names, then poll an hour back.
		googleTokenStep(),
		googleWatchStep("DELETE_USER", ch(1), "ret-del-1", t0),
		googleWatchStep("SUSPEND_USER", ch(2), "ret-sus-2", t0),
		googleListStep("DELETE_USER", t0.Add(-time.Hour), "", "", del),
		googleListStep("SUSPEND_USER", t0.Add(-time.Hour), "", "p2", suspend),
		googleListStep("SUSPEND_USER", t0.Add(-time.Hour), "p2", "", create),
		// Run 2: channels live on; poll from the last poll less the overlap.
		googleListStep("DELETE_USER", t0.Add(-time.Hour), "", ""),
		googleListStep("SUSPEND_USER", t0.Add(-time.Hour), "", "", suspend),
		// Run 3: channels due: new ones first, then stop the old (one stop fails).
		googleWatchStep("DELETE_USER", ch(3), "ret-del-3", t2),
		googleWatchStep("SUSPEND_USER", ch(4), "ret-sus-4", t2),
		googleStopStep(ch(1), "ret-del-1", http.StatusNoContent, ""),
		googleStopStep(ch(2), "ret-sus-2", http.StatusServiceUnavailable, googleError(503, "UNAVAILABLE", "backendError", "The service is currently unavailable.")),
		googleListStep("DELETE_USER", t1.Add(-time.Hour), "", ""),
		googleListStep("SUSPEND_USER", t1.Add(-time.Hour), "", ""),
		// Run 4: the failed stop is tried again (gone already: fine).
		googleStopStep(ch(2), "ret-sus-2", http.StatusNotFound, googleError(404, "NOT_FOUND", "notFound", "Channel not found")),
		googleListStep("DELETE_USER", t2.Add(-time.Hour), "", ""),
		googleListStep("SUSPEND_USER", t2.Add(-time.Hour), "", ""),
	)
	g := newTestGoogle(t, googleSettings(t, srv.URL))
	st := &conformance.StateMap{}
	run := func(at time.Time) []sources.Event {
		t.Helper()
		g.now = func() time.Time { return at }
		events, err := g.Maintain(t.Context(), st)
		if err != nil {
			t.Fatalf("maintain at %s: %v", at, err)
		}
		return events
	}
	// What a push of the same activities makes.
	pushed := func(body []byte) string {
		d, err := g.Parse(&sources.Request{Context: t.Context(), Method: http.MethodPost, Header: googleHeaders("X"), Body: body})
		if err != nil || len(d.Events) != 1 {
			t.Fatalf("push: %+v, %v", d, err)
		}
		return d.Events[0].ID
	}

	events := run(t0)
	if got, want := googleIDs(events), []string{pushed(del), pushed(suspend)}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("poll events = %v, want the pushes' ids %v", got, want)
	}
	if events[0].Email != "bob@example.com" || events[0].Reason != offboard.ReasonTerminated || events[1].Email != "liz@example.com" || events[1].Reason != offboard.ReasonSuspended {
		t.Fatalf("poll events = %+v", events)
	}
	s := googleStored(t, st)
	if len(s.Channels) != 2 || s.Channels[0].ID != ch(1) || s.Channels[1].ID != ch(2) || !s.Channels[0].ExpiresAt.Equal(t0.Add(ChannelLifetime)) || !s.PolledUntil.Equal(t0) {
		t.Fatalf("after run 1: %+v", s)
	}
	if events := run(t1); len(events) != 1 || events[0].ID != pushed(suspend) {
		t.Fatalf("run 2 events = %+v", events)
	}
	if events := run(t2); len(events) != 0 {
		t.Fatalf("run 3 events = %+v", events)
	}
	s = googleStored(t, st)
	if len(s.Channels) != 2 || s.Channels[0].ID != ch(3) || s.Channels[1].ID != ch(4) || len(s.Retired) != 1 || s.Retired[0].ID != ch(2) {
		t.Fatalf("after run 3: %+v", s)
	}
	run(t3)
	if s := googleStored(t, st); len(s.Retired) != 0 || !s.PolledUntil.Equal(t3) {
		t.Fatalf("after run 4: %+v", s)
	}
}

func TestGoogleMaintainReplacesChannelsOfAnotherToken(t *testing.T) {
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	old := googleState{PolledUntil: t0.Add(-30 * time.Minute), Channels: []googleChannelState{
		{ID: "offboarder-0000000000000000000000000000aaaa", ResourceID: "ret-a", Event: "DELETE_USER", Address: "https://offboarder.example.com/webhooks/google", TokenMark: googleMark("the-old-channel-token-value"), ExpiresAt: t0.Add(5 * time.Hour)},
		{ID: "offboarder-0000000000000000000000000000bbbb", ResourceID: "ret-b", Event: "LEFT_OVER", Address: "https://offboarder.example.com/webhooks/google", TokenMark: googleMark(googleToken), ExpiresAt: t0.Add(5 * time.Hour)},
		{ID: "offboarder-0000000000000000000000000000cccc", ResourceID: "ret-c", Event: "SUSPEND_USER", Address: "https://offboarder.example.com/webhooks/google", TokenMark: googleMark(googleToken), ExpiresAt: t0.Add(-time.Minute)},
	}}
	raw, _ := json.Marshal(old)
	st := &conformance.StateMap{Values: map[string][]byte{googleStateKey: raw}}
	srv := conformance.FakeSender(t,
		googleTokenStep(),
		googleWatchStep("DELETE_USER", "offboarder-00000000000000000000000000000001", "ret-1", t0),
		googleWatchStep("SUSPEND_USER", "offboarder-00000000000000000000000000000002", "ret-2", t0),
		// The channel of the old token and the one of an unwatched name are
		// stopped; the expired one needs no stop.
		googleStopStep("offboarder-0000000000000000000000000000aaaa", "ret-a", http.StatusNoContent, ""),
		googleStopStep("offboarder-0000000000000000000000000000bbbb", "ret-b", http.StatusNoContent, ""),
		googleListStep("DELETE_USER", t0.Add(-90*time.Minute), "", ""),
		googleListStep("SUSPEND_USER", t0.Add(-90*time.Minute), "", ""),
	)
	g := newTestGoogle(t, googleSettings(t, srv.URL))
	g.now = func() time.Time { return t0 }
	if _, err := g.Maintain(t.Context(), st); err != nil {
		t.Fatal(err)
	}
	if s := googleStored(t, st); len(s.Channels) != 2 || len(s.Retired) != 0 {
		t.Fatalf("got %+v", s)
	}
}

func TestGoogleMaintainErrors(t *testing.T) {
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	live := func() *conformance.StateMap {
		s := googleState{PolledUntil: t0.Add(-time.Hour)}
		for i, ev := range []string{"DELETE_USER", "SUSPEND_USER"} {
			s.Channels = append(s.Channels, googleChannelState{ID: fmt.Sprintf("offboarder-%032x", 100+i), ResourceID: "ret", Event: ev,
				Address: "https://offboarder.example.com/webhooks/google", TokenMark: googleMark(googleToken), ExpiresAt: t0.Add(5 * time.Hour)})
		}
		b, _ := json.Marshal(s)
		return &conformance.StateMap{Values: map[string][]byte{googleStateKey: b}}
	}
	watchErr := func(status int, body string, header map[string]string) conformance.APIStep {
		return conformance.APIStep{Method: http.MethodPost, Path: googleReports + "/watch", Query: url.Values{"eventName": {"DELETE_USER"}},
			Auth: googleBearer, Status: status, Body: body, Header: header}
	}
	listErr := func(status int, body string, header map[string]string) conformance.APIStep {
		return conformance.APIStep{Method: http.MethodGet, Path: googleReports, Auth: googleBearer, Status: status, Body: body, Header: header,
			Query: url.Values{"eventName": {"DELETE_USER"}, "startTime": {t0.Add(-2 * time.Hour).Format(time.RFC3339)}, "maxResults": {"1000"}}}
	}
	tests := []struct {
		name     string
		st       *conformance.StateMap
		steps    []conformance.APIStep
		kind     vendorapi.Kind
		errText  string
		wait     time.Duration
		channels int // channels the state must hold after
	}{
		{name: "a watch and a poll refused for lack of delegation are a permanent auth error", st: &conformance.StateMap{},
			steps: []conformance.APIStep{googleTokenStep(),
				watchErr(http.StatusForbidden, googleError(403, "PERMISSION_DENIED", "forbidden", "Not Authorized to access this resource/api"), nil),
				{Method: http.MethodPost, Path: googleReports + "/watch", Query: url.Values{"eventName": {"SUSPEND_USER"}}, Auth: googleBearer,
					Status: http.StatusForbidden, Body: googleError(403, "PERMISSION_DENIED", "forbidden", "Not Authorized to access this resource/api")},
				{Method: http.MethodGet, Path: googleReports, Auth: googleBearer, Status: http.StatusForbidden,
					Query: url.Values{"eventName": {"DELETE_USER"}, "startTime": {t0.Add(-time.Hour).Format(time.RFC3339)}, "maxResults": {"1000"}},
					Body:  googleError(403, "PERMISSION_DENIED", "forbidden", "Not Authorized to access this resource/api")}},
			kind: vendorapi.Auth, errText: "Not Authorized"},
		{name: "a throttled poll is retryable and keeps the cursor and the channels", st: live(),
			steps: []conformance.APIStep{googleTokenStep(), listErr(http.StatusTooManyRequests, googleError(429, "RESOURCE_EXHAUSTED", "rateLimitExceeded", "Quota exceeded"), map[string]string{"Retry-After": "120"})},
			kind:  vendorapi.RateLimited, wait: 2 * time.Minute, channels: 2},
		{name: "a poll failing with 500 is retryable", st: live(),
			steps: []conformance.APIStep{googleTokenStep(), listErr(http.StatusInternalServerError, googleError(500, "INTERNAL", "backendError", "Internal error"), nil)},
			kind:  vendorapi.Transient, channels: 2},
		{name: "a poll with a 401 is a permanent auth error", st: live(),
			steps: []conformance.APIStep{googleTokenStep(), listErr(http.StatusUnauthorized, googleError(401, "UNAUTHENTICATED", "authError", "Invalid Credentials"), nil)},
			kind:  vendorapi.Auth, errText: "Invalid Credentials", channels: 2},
		{name: "a key without domain-wide delegation is a permanent auth error", st: live(),
			steps: []conformance.APIStep{{Method: http.MethodPost, Path: "/token", Status: http.StatusUnauthorized,
				Body: `{"error":"unauthorized_client","error_description":"Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested."}`}},
			kind: vendorapi.Auth, errText: "unauthorized_client", channels: 2},
		{name: "a revoked key is a permanent auth error", st: live(),
			steps: []conformance.APIStep{{Method: http.MethodPost, Path: "/token", Status: http.StatusBadRequest,
				Body: `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`}},
			kind: vendorapi.Auth, errText: "invalid_grant", channels: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := conformance.FakeSender(t, tt.steps...)
			g := newTestGoogle(t, googleSettings(t, srv.URL))
			g.now = func() time.Time { return t0 }
			events, err := g.Maintain(t.Context(), tt.st)
			var ce *vendorapi.Error
			if events != nil || !errors.As(err, &ce) || ce.Kind != tt.kind || !strings.Contains(err.Error(), tt.errText) || !strings.HasPrefix(err.Error(), "google: ") {
				t.Fatalf("want a google %s error with %q, got %v, %v", tt.kind, tt.errText, events, err)
			}
			if tt.wait != 0 && ce.RetryAfter != tt.wait {
				t.Fatalf("RetryAfter = %s, want %s", ce.RetryAfter, tt.wait)
			}
			if raw, ok, _ := tt.st.Get(t.Context(), googleStateKey); ok {
				var s googleState
				_ = json.Unmarshal(raw, &s)
				if len(s.Channels) != tt.channels || (tt.channels > 0 && !s.PolledUntil.Equal(t0.Add(-time.Hour))) {
					t.Fatalf("state after the error: %+v", s)
				}
			}
			_, key := googleTestKey(t)
			for _, secret := range []string{googleToken, googleAccessToken, key[:40], "PRIVATE KEY"} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("a secret is in the error: %v", err)
				}
			}
		})
	}
}

func TestGoogleStopsWithTheContext(t *testing.T) {
	srv := conformance.HangingSender(t)
	g := newTestGoogle(t, googleSettings(t, srv.URL))
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	// The token request hangs: the assertion must be sent under ctx.
	_, err := g.Maintain(ctx, &conformance.StateMap{})
	if err == nil || !vendorapi.Retryable(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want a retryable error wrapping the deadline, got %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("Maintain took %s after its context ended", d)
	}
}

func TestGoogleMaintainPollsEvenWhenAWatchFails(t *testing.T) {
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Hour)
	del := googleFile(t, "delete-user.json")
	srv := conformance.FakeSender(t,
		googleTokenStep(),
		// Google refuses the address for one event name (its channel id,
		// 1, is not used again).
		conformance.APIStep{Method: http.MethodPost, Path: googleReports + "/watch", Query: url.Values{"eventName": {"DELETE_USER"}}, Auth: googleBearer,
			Status: http.StatusBadRequest, Body: googleError(400, "INVALID_ARGUMENT", "push.webhookUrlUnauthorized", "Unauthorized WebHook callback channel: https://offboarder.example.com/webhooks/google")},
		googleWatchStep("SUSPEND_USER", "offboarder-00000000000000000000000000000002", "ret-sus-2", t0),
		googleListStep("DELETE_USER", t0.Add(-time.Hour), "", "", del),
		googleListStep("SUSPEND_USER", t0.Add(-time.Hour), "", ""),
		// The next run tries the missing channel again.
		googleWatchStep("DELETE_USER", "offboarder-00000000000000000000000000000003", "ret-del-3", t1),
		googleListStep("DELETE_USER", t0.Add(-time.Hour), "", ""),
		googleListStep("SUSPEND_USER", t0.Add(-time.Hour), "", ""),
	)
	g := newTestGoogle(t, googleSettings(t, srv.URL))
	st := &conformance.StateMap{}
	g.now = func() time.Time { return t0 }
	events, err := g.Maintain(t.Context(), st)
	if err != nil || len(events) != 1 || events[0].Email != "bob@example.com" {
		t.Fatalf("want the poll's event despite the refused channel, got %+v, %v", events, err)
	}
	if s := googleStored(t, st); len(s.Channels) != 1 || s.Channels[0].Event != "SUSPEND_USER" || !s.PolledUntil.Equal(t0) {
		t.Fatalf("after run 1: %+v", s)
	}
	g.now = func() time.Time { return t1 }
	if _, err := g.Maintain(t.Context(), st); err != nil {
		t.Fatal(err)
	}
	if s := googleStored(t, st); len(s.Channels) != 2 {
		t.Fatalf("after run 2: %+v", s)
	}
}
