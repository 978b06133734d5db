package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/tasks"
)

// oktaReconcileEnv runs an okta source that receives the hook and, with
// base_url and token, reads the simulated org's System Log.
func oktaReconcileEnv(t *testing.T, dbURL string) *env {
	t.Helper()
	return start(t, dbURL, envOptions{simSpecs: func(simURL string) []sources.Spec {
		return []sources.Spec{{Name: "okta-hook", Type: "okta", Settings: map[string]any{
			"secret": oktaHookSecret, "base_url": simURL + "/okta", "token": oktaToken,
		}}}
	}})
}

// simOkta calls the simulated Okta org's API as its admin would.
func (e *env) simOkta(method, path string) []byte {
	e.t.Helper()
	req := httptest.NewRequestWithContext(e.t.Context(), method, "/okta"+path, nil)
	req.Header.Set("Authorization", "SSWS "+oktaToken)
	rec := httptest.NewRecorder()
	e.Sim.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		e.t.Fatalf("simulator: %s %s: %d %s", method, path, rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

// oktaDeactivate deactivates a user in the simulated org, which logs a
// user.lifecycle.deactivate event, and returns that LogEvent as the System
// Log lists it (and the hook would deliver it).
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserLifecycle/#tag/UserLifecycle/operation/deactivateUser
func (e *env) oktaDeactivate(login string) json.RawMessage {
	e.t.Helper()
	e.simOkta(http.MethodPost, "/api/v1/users/"+login+"/lifecycle/deactivate")
	var events []json.RawMessage
	q := url.Values{"filter": {`eventType eq "user.lifecycle.deactivate"`}, "until": {time.Now().Add(time.Second).UTC().Format(time.RFC3339Nano)}}
	if err := json.Unmarshal(e.simOkta(http.MethodGet, "/api/v1/logs?"+q.Encode()), &events); err != nil {
		e.t.Fatal(err)
	}
	for _, ev := range events {
		if strings.Contains(string(ev), `"alternateId":"`+login+`"`) {
			return ev
		}
	}
	e.t.Fatalf("the System Log has no deactivation of %s", login)
	return nil
}

// maintain runs one maintenance of source now, as the worker's schedule
// does for a new window, and waits until it has run.
func (e *env) maintain(source string, window time.Time) {
	e.t.Helper()
	e.maintainTolerating(source, window, "")
}

// maintainTolerating is maintain for a run that may end with an error
// containing tolerate ("" tolerates none).
func (e *env) maintainTolerating(source string, window time.Time, tolerate string) {
	e.t.Helper()
	client := asynq.NewClient(asynq.RedisClientOpt{Addr: e.Redis.Addr})
	defer client.Close()
	if _, err := tasks.NewQueue(client, tasks.Settings{}).Maintain(e.t.Context(), tasks.Maintain{Source: source}, window); err != nil {
		e.t.Fatal(err)
	}
	id := tasks.MaintainID(source, window)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		info, err := e.Insp.GetTaskInfo(tasks.QueueOffboard, id)
		if err == nil && info.State == asynq.TaskStateCompleted {
			return
		}
		if err == nil && info.LastErr != "" && tolerate != "" && strings.Contains(info.LastErr, tolerate) {
			return
		}
		if err == nil && info.LastErr != "" {
			e.t.Fatalf("maintenance failed: %s", info.LastErr)
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("maintenance %s did not run within 20s: %+v, %v", id, info, err)
		}
	}
}

// casesOf lists the cases of one email.
func (e *env) casesOf(email string) []store.Case {
	e.t.Helper()
	cs, err := e.Store.ListCases(e.t.Context(), store.CaseFilter{Email: email})
	if err != nil {
		e.t.Fatal(err)
	}
	return cs
}

// waitOnlyCase waits until email has a closed case and returns it, failing
// when there is more than one.
func (e *env) waitOnlyCase(email string) *store.Case {
	e.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		cs := e.casesOf(email)
		if len(cs) > 1 {
			e.t.Fatalf("%d cases for %s, want one: %+v", len(cs), email, cs)
		}
		if len(cs) == 1 && !store.IsOpen(cs[0].State) {
			c, err := e.Store.GetCase(e.t.Context(), cs[0].ID)
			if err != nil {
				e.t.Fatal(err)
			}
			return c
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no closed case for %s within 20s: %+v", email, cs)
		}
	}
}

// A deactivation whose hook delivery never arrived (Okta gives up after one
// retry) is found in the System Log by the next maintenance run, and one
// that did arrive is a duplicate there: one case, one event.
func TestOktaMissedPushIsFoundInTheSystemLog(t *testing.T) {
	dialects(t, func(t *testing.T, dbURL func(*testing.T) string) {
		e := oktaReconcileEnv(t, dbURL(t))
		// The worker's first maintenance runs at start: it sets the cursor.
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if _, ok, err := e.Store.SourceState(t.Context(), "okta-hook", "system_log"); err == nil && ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the okta source's first maintenance did not run")
			}
		}

		t.Run("a push that never arrived becomes a case after one maintenance run", func(t *testing.T) {
			logged := e.oktaDeactivate("alice@example.com")
			if n := len(e.casesOf("alice@example.com")); n != 0 {
				t.Fatalf("%d cases before any push or maintenance", n)
			}
			e.maintain("okta-hook", time.Unix(1, 0))
			c := e.waitOnlyCase("alice@example.com")
			var ev struct{ UUID string }
			_ = json.Unmarshal(logged, &ev)
			if c.State != offboard.StateCompleted || c.Reason != offboard.ReasonTerminated || len(c.Events) != 1 ||
				c.Events[0].Source != "okta-hook" || c.Events[0].EventID != ev.UUID {
				t.Fatalf("case %+v; want one completed case whose event is the System Log's %s", c, ev.UUID)
			}
			if n := e.Sim.Sessions("okta", "alice@example.com"); n != 0 {
				t.Fatalf("sessions left: %d", n)
			}
			if !strings.Contains(e.Log.String(), "maintenance found an event the sender had not pushed") {
				t.Fatal("the found event was not logged as missed")
			}
		})

		t.Run("a push that did arrive is a duplicate of the System Log's event", func(t *testing.T) {
			logged := e.oktaDeactivate("bob@example.com")
			delivery := fmt.Sprintf(`{"eventType":"com.okta.event_hook","eventTypeVersion":"1.0","cloudEventsVersion":"0.1",`+
				`"source":"https://example.okta.com/api/v1/eventHooks/who7hphp39JoHLni81d7","eventId":"e2e-bob","data":{"events":[%s]}}`, logged)
			if code, _, res := e.oktaHook(http.MethodPost, []byte(delivery), oktaHookSecret); code != http.StatusNoContent {
				t.Fatalf("push: %d %v", code, res)
			}
			first := e.waitOnlyCase("bob@example.com")
			e.maintain("okta-hook", time.Unix(2, 0))
			again := e.waitOnlyCase("bob@example.com")
			if again.ID != first.ID || len(again.Events) != 1 {
				t.Fatalf("after maintenance: case %s with %d events; want the pushed case %s with its one event", again.ID, len(again.Events), first.ID)
			}
		})
	})
}

// entraReconcileEnv runs an entra source whose Graph is the simulator's:
// its delta query reads the simulated tenant. The simulator keeps no
// subscriptions, so creating one fails on every run; the delta runs all
// the same.
func entraReconcileEnv(t *testing.T, dbURL string) *env {
	t.Helper()
	return start(t, dbURL, envOptions{simSpecs: func(simURL string) []sources.Spec {
		return []sources.Spec{{Name: "entra", Type: "entra", Settings: map[string]any{
			"client_state": entraClientState, "tenant_id": "sim-tenant", "client_id": "sim-entra-client", "client_secret": "sim-entra-secret",
			"notification_url": "https://offboarder.example.com/webhooks/entra",
			"base_url":         simURL + "/entra", "token_url": simURL + "/entra/sim-tenant/oauth2/v2.0/token",
		}}}
	}})
}

// entraDisable disables a user in the simulated tenant as an admin would,
// and returns its object id.
// https://learn.microsoft.com/graph/api/user-update
func (e *env) entraDisable(upn string) string {
	e.t.Helper()
	call := func(method, path, auth, body, contentType string) []byte {
		req := httptest.NewRequestWithContext(e.t.Context(), method, path, strings.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		e.Sim.Handler().ServeHTTP(rec, req)
		if rec.Code/100 != 2 {
			e.t.Fatalf("simulator: %s %s: %d %s", method, path, rec.Code, rec.Body)
		}
		return rec.Body.Bytes()
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"sim-entra-client"}, "client_secret": {"sim-entra-secret"},
		"scope": {"https://graph.microsoft.com/.default"}}
	if err := json.Unmarshal(call(http.MethodPost, "/entra/sim-tenant/oauth2/v2.0/token", "", form.Encode(), "application/x-www-form-urlencoded"), &tok); err != nil {
		e.t.Fatal(err)
	}
	call(http.MethodPatch, "/entra/v1.0/users/"+upn, "Bearer "+tok.AccessToken, `{"accountEnabled":false}`, "application/json")
	var u struct{ ID string }
	if err := json.Unmarshal(call(http.MethodGet, "/entra/v1.0/users/"+upn, "Bearer "+tok.AccessToken, "", "application/json"), &u); err != nil || u.ID == "" {
		e.t.Fatalf("user %s: %v", upn, err)
	}
	return u.ID
}

// A user disabled in Entra whose change notification Graph dropped is found
// by the next delta query, and one whose notification arrived is not a
// second case: the delta's event is a duplicate of the push about the same
// user.
func TestEntraMissedNotificationIsFoundByTheDeltaQuery(t *testing.T) {
	dialects(t, func(t *testing.T, dbURL func(*testing.T) string) {
		e := entraReconcileEnv(t, dbURL(t))
		// The worker's first maintenance at start reads the baseline.
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if _, ok, err := e.Store.SourceState(t.Context(), "entra", "delta"); err == nil && ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the entra source's first maintenance did not read the delta baseline")
			}
		}

		t.Run("a notification that never arrived becomes a case after one maintenance run", func(t *testing.T) {
			id := e.entraDisable("alice@example.com")
			if n := len(e.casesOf("alice@example.com")); n != 0 {
				t.Fatalf("%d cases before any notification or maintenance", n)
			}
			e.maintainTolerating("entra", time.Unix(1, 0), "subscriptions")
			c := e.waitOnlyCase("alice@example.com")
			if c.State != offboard.StateCompleted || c.SubjectIDs["entra"] != id || len(c.Events) != 1 ||
				c.Events[0].Source != "entra" || !strings.HasPrefix(c.Events[0].EventID, "delta/") {
				t.Fatalf("case %+v; want one completed case from the delta query", c)
			}
			if n := e.Sim.Sessions("okta", "alice@example.com"); n != 0 {
				t.Fatalf("sessions left: %d", n)
			}
		})

		t.Run("a notification that did arrive makes the delta's event a duplicate", func(t *testing.T) {
			id := e.entraDisable("bob@example.com")
			body := `{"value":[{"changeType":"updated","clientState":"` + entraClientState + `","resource":"Users/` + id + `",` +
				`"resourceData":{"@odata.type":"#Microsoft.Graph.User","@odata.id":"Users/` + id + `","id":"` + id + `","organizationId":"84bd8158-6d4d-4958-8b9f-9d6445542f95","sequenceNumber":7},` +
				`"subscriptionExpirationDateTime":"2026-03-29T11:00:00.0000000+00:00","subscriptionId":"7f105c7d-2dc5-4530-97cd-4e7ae6534c07","tenantId":"84bd8158-6d4d-4958-8b9f-9d6445542f95"}]}`
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.URL+"/webhooks/entra", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if code, res := e.do(req); code != http.StatusAccepted {
				t.Fatalf("notification: %d %v", code, res)
			}
			first := e.waitOnlyCase("bob@example.com")
			e.maintainTolerating("entra", time.Unix(2, 0), "subscriptions")
			again := e.waitOnlyCase("bob@example.com")
			if again.ID != first.ID || len(again.Events) != 1 {
				t.Fatalf("after maintenance: case %s with %d events; want the notified case %s with its one event", again.ID, len(again.Events), first.ID)
			}
		})
	})
}
