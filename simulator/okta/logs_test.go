package okta

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// logPage lists the System Log at query and returns the events and the
// after cursor of the Link rel="next" ("" for none).
func logPage(t *testing.T, f *fixture, query url.Values) ([]oktaLogEvent, string) {
	t.Helper()
	resp, body := f.sim.Do(t, "GET", "/okta/api/v1/logs?"+query.Encode(), oktaAuth, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("logs: %d %s", resp.StatusCode, body)
	}
	var events []oktaLogEvent
	if err := json.Unmarshal(body, &events); err != nil {
		t.Fatalf("logs %s: %v", body, err)
	}
	next := ""
	for _, l := range resp.Header.Values("Link") {
		if target, ok := strings.CutSuffix(l, `>; rel="next"`); ok {
			u, err := url.Parse(strings.TrimPrefix(target, "<"))
			if err != nil || !strings.HasPrefix(target, "<"+f.srv.URL+"/okta/api/v1/logs?") {
				t.Fatalf("next link %q", l)
			}
			next = u.Query().Get("after")
		}
	}
	return events, next
}

func deactivateUser(t *testing.T, f *fixture, login string) {
	t.Helper()
	resp, body := f.sim.Do(t, "POST", "/okta/api/v1/users/"+login+"/lifecycle/deactivate", oktaAuth, "")
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "{}" {
		t.Fatalf("deactivate %s: %d %s", login, resp.StatusCode, body)
	}
}

func TestOktaSystemLog(t *testing.T) {
	f := demo(t, options{})
	before := time.Now().UTC().Add(-time.Second)
	deactivateUser(t, f, "alice@example.com")
	deactivateUser(t, f, "alice@example.com") // already deprovisioned: logged once
	deactivateUser(t, f, oktaID("00u", "bob@example.com"))
	until := time.Now().UTC().Add(time.Second)

	t.Run("a deactivation is logged as the event hook delivers it", func(t *testing.T) {
		events, _ := logPage(t, f, url.Values{"since": {before.Format(time.RFC3339Nano)}, "until": {until.Format(time.RFC3339Nano)}})
		if len(events) != 2 {
			t.Fatalf("%d events, want 2: %+v", len(events), events)
		}
		e := events[0]
		if e.EventType != "user.lifecycle.deactivate" || e.Outcome.Result != "SUCCESS" || len(e.Target) != 1 ||
			e.Target[0].Type != "User" || e.Target[0].AlternateID != "alice@example.com" || e.Target[0].ID != UserID("alice@example.com") || e.UUID == "" {
			t.Fatalf("event %+v", e)
		}
		if _, err := time.Parse(oktaTime, e.Published); err != nil {
			t.Fatalf("published %q: %v", e.Published, err)
		}
		_, body := f.sim.Do(t, "GET", "/okta/api/v1/users/alice@example.com", oktaAuth, "")
		if !strings.Contains(string(body), `"status":"DEPROVISIONED"`) {
			t.Fatalf("a deactivated user reads %s", body)
		}
	})
	t.Run("a bounded read pages by the Link header and ends without a next link", func(t *testing.T) {
		q := url.Values{"since": {before.Format(time.RFC3339Nano)}, "until": {until.Format(time.RFC3339Nano)},
			"filter": {`eventType eq "user.lifecycle.suspend" or eventType eq "user.lifecycle.deactivate"`}, "limit": {"1"}}
		first, next := logPage(t, f, q)
		if len(first) != 1 || next == "" {
			t.Fatalf("first page %d events, next %q", len(first), next)
		}
		q.Set("after", next)
		second, next := logPage(t, f, q)
		if len(second) != 1 || next != "" || second[0].UUID == first[0].UUID || second[0].Target[0].AlternateID != "bob@example.com" {
			t.Fatalf("second page %+v, next %q", second, next)
		}
	})
	t.Run("a polling read always has a next link", func(t *testing.T) {
		events, next := logPage(t, f, url.Values{"since": {until.Format(time.RFC3339Nano)}})
		if len(events) != 0 || next == "" {
			t.Fatalf("%d events, next %q; want none and a next link", len(events), next)
		}
	})
	t.Run("since, until and the filter leave events out", func(t *testing.T) {
		for _, q := range []url.Values{
			{"since": {until.Format(time.RFC3339Nano)}, "until": {until.Add(time.Hour).Format(time.RFC3339Nano)}},
			{"since": {before.Add(-time.Hour).Format(time.RFC3339Nano)}, "until": {before.Format(time.RFC3339Nano)}},
			{"filter": {`eventType eq "user.lifecycle.suspend"`}, "until": {until.Format(time.RFC3339Nano)}},
		} {
			if events, _ := logPage(t, f, q); len(events) != 0 {
				t.Errorf("%v: %d events, want none", q, len(events))
			}
		}
	})
	t.Run("a bad filter or date is 400 in Okta's error shape", func(t *testing.T) {
		for q, code := range map[string]string{"filter=" + url.QueryEscape(`actor.id eq "x"`): "E0000031", "since=yesterday": "E0000030", "limit=0": "E0000001"} {
			resp, body := f.sim.Do(t, "GET", "/okta/api/v1/logs?"+q, oktaAuth, "")
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("%s: %d", q, resp.StatusCode)
			}
			checkOktaError(t, body, code)
		}
	})
	t.Run("without the token the log is refused", func(t *testing.T) {
		if resp, _ := f.sim.Do(t, "GET", "/okta/api/v1/logs", "SSWS wrong", ""); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}
