package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/tasks"
)

// oktaHookSecret is the Authorization value configured on the Okta event
// hook and on the okta source.
// https://developer.okta.com/docs/concepts/event-hooks/#http-headers
const oktaHookSecret = "Basic ZTJlLWhvb2s6ZTJlLWhvb2stc2VjcmV0"

func oktaHookEnv(t *testing.T, dbURL string, o envOptions) *env {
	t.Helper()
	o.extraSpecs = []sources.Spec{{Name: "okta-hook", Type: "okta", Settings: map[string]any{"secret": oktaHookSecret}}}
	return start(t, dbURL, o)
}

// oktaHook sends one request to the okta source as Okta would: auth "" sends
// no Authorization header.
func (e *env) oktaHook(method string, body []byte, auth string, header ...string) (int, http.Header, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequestWithContext(e.t.Context(), method, e.URL+"/webhooks/okta-hook", bytes.NewReader(body))
	// https://developer.okta.com/docs/concepts/event-hooks/#http-headers
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw := new(bytes.Buffer)
	_, _ = raw.ReadFrom(resp.Body)
	_ = json.Unmarshal(raw.Bytes(), &out)
	if out == nil {
		out = map[string]any{"_raw": raw.String()}
	}
	return resp.StatusCode, resp.Header, out
}

// oktaUserID asks the simulated Okta org for a user's id, as the org that
// sends the hook knows it.
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/#tag/User/operation/getUser
func (e *env) oktaUserID(login string) string {
	e.t.Helper()
	req := httptest.NewRequestWithContext(e.t.Context(), http.MethodGet, "/okta/api/v1/users/"+login, nil)
	req.Header.Set("Authorization", "SSWS "+oktaToken)
	rec := httptest.NewRecorder()
	e.Sim.Handler().ServeHTTP(rec, req)
	var u struct{ ID string }
	if err := json.Unmarshal(rec.Body.Bytes(), &u); rec.Code != http.StatusOK || err != nil || u.ID == "" {
		e.t.Fatalf("simulator: user %s: %d %s", login, rec.Code, rec.Body)
	}
	return u.ID
}

// oktaDelivery is the documented deactivation delivery (sources/okta/testdata)
// with its event's uuid and target set, and bob@example.com as the admin who
// acted.
func oktaDelivery(t *testing.T, uuid, targetID, targetLogin string) []byte {
	t.Helper()
	raw, err := os.ReadFile("../sources/okta/testdata/deactivate.json")
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	ev := d["data"].(map[string]any)["events"].([]any)[0].(map[string]any)
	ev["uuid"] = uuid
	ev["actor"].(map[string]any)["alternateId"] = "bob@example.com"
	target := ev["target"].([]any)[0].(map[string]any)
	target["id"], target["alternateId"], target["displayName"] = targetID, targetLogin, "Alice"
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOktaEventHookRevokesTheTargetsSessions(t *testing.T) {
	dialects(t, func(t *testing.T, dbURL func(*testing.T) string) {
		e := oktaHookEnv(t, dbURL(t), envOptions{})

		// The one-time verification GET carries the hook's secret too.
		// https://developer.okta.com/docs/concepts/event-hooks/#one-time-verification-request
		const challenge = "Me_rShK8JHsTnbyYrWXCEoMGbM_zsZ6k0hLPZ_Pg"
		code, h, res := e.oktaHook(http.MethodGet, nil, oktaHookSecret, "X-Okta-Verification-Challenge", challenge)
		if code != http.StatusOK || res["verification"] != challenge || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Fatalf("verification: %d %q %v", code, h.Get("Content-Type"), res)
		}
		for _, auth := range []string{"", "Basic d3Jvbmc6c2VjcmV0"} {
			code, _, res := e.oktaHook(http.MethodGet, nil, auth, "X-Okta-Verification-Challenge", challenge)
			if code != http.StatusUnauthorized || res["verification"] != nil {
				t.Fatalf("verification with auth %q: %d %v", auth, code, res)
			}
		}

		aliceID := e.oktaUserID("alice@example.com")
		delivery := oktaDelivery(t, "9f1c2d3e-2837-11eb-9823-9fb8f750c5a9", aliceID, "Alice@Example.com")

		// Without the right secret nothing is stored or queued.
		for _, auth := range []string{"", "Basic d3Jvbmc6c2VjcmV0", oktaHookSecret[:len(oktaHookSecret)-1]} {
			code, _, res := e.oktaHook(http.MethodPost, delivery, auth)
			if code != http.StatusUnauthorized {
				t.Fatalf("delivery with auth %q: want 401, got %d %v", auth, code, res)
			}
		}
		if n := len(e.cases()); n != 0 {
			t.Fatalf("%d cases stored from refused deliveries", n)
		}
		if n := e.queued(tasks.QueueOffboard); n != 0 {
			t.Fatalf("%d tasks enqueued from refused deliveries", n)
		}

		// Okta wants an empty 200 or 204.
		// https://developer.okta.com/docs/concepts/event-hooks/#your-service-s-responses-to-event-delivery-requests
		code, _, res = e.oktaHook(http.MethodPost, delivery, oktaHookSecret)
		if code != http.StatusNoContent || res["_raw"] != "" {
			t.Fatalf("delivery: want an empty 204, got %d %v", code, res)
		}
		cs, err := e.Store.ListCases(t.Context(), store.CaseFilter{Email: "alice@example.com"})
		if err != nil || len(cs) != 1 {
			t.Fatalf("want one case for alice, got %+v, %v", cs, err)
		}
		c := e.waitCase(cs[0].ID)
		if c.State != offboard.StateCompleted || c.Reason != "terminated" || c.SubjectIDs["okta"] != aliceID {
			t.Fatalf("case: %+v", c)
		}
		if len(c.Entries) != 1 || c.Entries[0].Connector != "okta" || c.Entries[0].Outcome != "acknowledged" {
			t.Fatalf("entries: %+v", c.Entries)
		}
		if n := e.Sim.Sessions("okta", "alice@example.com"); n != 0 {
			t.Fatalf("simulator still holds %d sessions for alice", n)
		}
		if n := e.Sim.Sessions("okta", "bob@example.com"); n != 1 {
			t.Fatalf("the admin who acted lost sessions: %d left", n)
		}

		// Okta delivers at least once: the same event uuid again, alone or
		// in another batch, is the same case and queues nothing new.
		// https://developer.okta.com/docs/concepts/event-hooks/#ongoing-event-delivery
		var again map[string]any
		_ = json.Unmarshal(delivery, &again)
		session, _ := os.ReadFile("../sources/okta/testdata/session-start.json")
		var other map[string]any
		_ = json.Unmarshal(session, &other)
		evs := again["data"].(map[string]any)["events"].([]any)
		again["data"].(map[string]any)["events"] = append(other["data"].(map[string]any)["events"].([]any), evs...)
		again["eventId"] = "0d7c6b5a-4263-4e13-993b-818e26201052"
		rebatched, _ := json.Marshal(again)
		for _, body := range [][]byte{delivery, rebatched} {
			code, _, res := e.oktaHook(http.MethodPost, body, oktaHookSecret)
			if code != http.StatusNoContent {
				t.Fatalf("repeat delivery: %d %v", code, res)
			}
		}
		if all := e.cases(); len(all) != 1 || all[0].ID != c.ID {
			t.Fatalf("want only case %s, got %+v", c.ID, all)
		}
		if got, err := e.Store.GetCase(t.Context(), c.ID); err != nil || len(got.Events) != 1 || got.Events[0].EventID != "9f1c2d3e-2837-11eb-9823-9fb8f750c5a9" || got.Events[0].Source != "okta-hook" {
			t.Fatalf("want the one event on the case, got %+v, %v", got, err)
		}
		if n := e.queued(tasks.QueueOffboard); n != 1 {
			t.Fatalf("want one offboard task, got %d", n)
		}
		var revokes int
		for _, call := range e.Sim.Calls() {
			if call.Method == http.MethodDelete {
				revokes++
				if call.Path != "/api/v1/users/"+aliceID+"/sessions" {
					t.Errorf("revoked by another path than the target's id: %+v", call)
				}
			}
		}
		if revokes != 1 {
			t.Fatalf("want one session revocation at the vendor, got %d", revokes)
		}

		// A batch of sign-ins offboards nobody.
		code, _, res = e.oktaHook(http.MethodPost, session, oktaHookSecret)
		if code != http.StatusOK || res["status"] != "ignored" || !strings.Contains(res["reason"].(string), "user.session.start") {
			t.Fatalf("sign-in batch: %d %v", code, res)
		}
		if strings.Contains(e.Log.String(), oktaHookSecret) || strings.Contains(e.Log.String(), "ZTJlLWhvb2s6ZTJlLWhvb2stc2VjcmV0") {
			t.Fatal("the hook secret appears in the log")
		}
	})
}
