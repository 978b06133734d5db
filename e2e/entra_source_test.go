package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
)

const entraClientState = "e2e-entra-client-STATE-0123456789"

// fakeGraph is the part of Microsoft Graph the entra source calls, as its
// docs describe it: the client-credentials token endpoint, reading a user
// with $select, and the subscription the source keeps alive.
// https://learn.microsoft.com/graph/api/user-get
// https://learn.microsoft.com/graph/api/subscription-post-subscriptions
func fakeGraph(t *testing.T, users map[string]map[string]any) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var subscriptions atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("POST /tenant/oauth2/v2.0/token", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("client_secret") != "graph-SECRET" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"token_type":"Bearer","expires_in":3599,"access_token":"graph-access-token"}`))
	})
	authed := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer graph-access-token" {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"error":{"code":"InvalidAuthenticationToken","message":"Access token is empty."}}`))
				return
			}
			w.Header().Set("Content-Type", "application/json")
			h(w, r)
		}
	}
	mux.HandleFunc("GET /v1.0/users/{id}", authed(func(w http.ResponseWriter, r *http.Request) {
		u, ok := users[r.PathValue("id")]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":{"code":"Request_ResourceNotFound","message":"Resource does not exist."}}`))
			return
		}
		_ = json.NewEncoder(w).Encode(u)
	}))
	mux.HandleFunc("POST /v1.0/subscriptions", authed(func(w http.ResponseWriter, r *http.Request) {
		subscriptions.Add(1)
		var sub map[string]any
		_ = json.NewDecoder(r.Body).Decode(&sub)
		sub["id"] = "7f105c7d-2dc5-4530-97cd-4e7ae6534c07"
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(sub)
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &subscriptions
}

func TestEntraNotificationIsResolvedAndRevoked(t *testing.T) {
	dialects(t, func(t *testing.T, dbURL func(*testing.T) string) {
		const disabled, enabled = "87d349ed-44d7-43e1-9a83-5f2406dee5bd", "5f2406de-44d7-43e1-9a83-87d349ed0000"
		graph, subscriptions := fakeGraph(t, map[string]map[string]any{
			disabled: {"id": disabled, "mail": "Alice@Example.com", "userPrincipalName": "alice@example.com", "accountEnabled": false},
			enabled:  {"id": enabled, "mail": "bob@example.com", "userPrincipalName": "bob@example.com", "accountEnabled": true},
		})
		e := start(t, dbURL(t), envOptions{extraSpecs: []sources.Spec{{Name: "entra", Type: "entra", Settings: map[string]any{
			"client_state": entraClientState, "tenant_id": "tenant", "client_id": "graph-client", "client_secret": "graph-SECRET",
			"notification_url": "https://offboarder.example.com/webhooks/entra",
			"base_url":         graph.URL, "token_url": graph.URL + "/tenant/oauth2/v2.0/token",
		}}}})

		// The validation handshake echoes the decoded token as text/plain.
		// https://learn.microsoft.com/graph/change-notifications-delivery-webhooks#notificationurl-validation
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.URL+"/webhooks/entra?validationToken="+url.QueryEscape("Validation: Testing client application reachability"), nil)
		code, res := e.do(req)
		if code != http.StatusOK || res["_raw"] != "Validation: Testing client application reachability" {
			t.Fatalf("validation: %d %v", code, res)
		}

		notify := func(user, state string, seq int) (int, map[string]any) {
			body := `{"value":[{"changeType":"updated","clientState":"` + state + `","resource":"Users/` + user + `",` +
				`"resourceData":{"@odata.type":"#Microsoft.Graph.User","@odata.id":"Users/` + user + `","id":"` + user + `","organizationId":"84bd8158-6d4d-4958-8b9f-9d6445542f95","sequenceNumber":` + strings.Repeat("1", seq) + `},` +
				`"subscriptionExpirationDateTime":"2026-03-29T11:00:00.0000000+00:00","subscriptionId":"7f105c7d-2dc5-4530-97cd-4e7ae6534c07","tenantId":"84bd8158-6d4d-4958-8b9f-9d6445542f95"}]}`
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.URL+"/webhooks/entra", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			return e.do(req)
		}
		if code, res := notify(disabled, "a-wrong-client-state-000000000", 3); code != http.StatusUnauthorized {
			t.Fatalf("wrong clientState: want 401, got %d %v", code, res)
		}
		if n := len(e.cases()); n != 0 {
			t.Fatalf("a refused notification stored %d cases", n)
		}

		code, res = notify(disabled, entraClientState, 3)
		if code != http.StatusAccepted {
			t.Fatalf("want 202, got %d %v", code, res)
		}
		c := e.waitCase(res["case_id"].(string))
		if c.State != offboard.StateCompleted || c.Email != "alice@example.com" || c.SubjectIDs["entra"] != disabled || c.Entries[0].Outcome != "acknowledged" {
			t.Fatalf("case: %+v", c)
		}
		if n := e.Sim.Sessions("okta", "alice@example.com"); n != 0 {
			t.Fatalf("sessions left: %d", n)
		}

		// An update to a user who is still enabled is not an offboarding.
		code, res = notify(enabled, entraClientState, 4)
		if code != http.StatusAccepted {
			t.Fatalf("want 202, got %d %v", code, res)
		}
		if c := e.waitClosed(res["case_id"].(string)); c.State != offboard.StateDismissed {
			t.Fatalf("case for an enabled user: %+v", c)
		}
		if n := e.Sim.Sessions("okta", "bob@example.com"); n != 1 {
			t.Fatalf("an enabled user's sessions were revoked: %d left", n)
		}
		// The worker's maintenance created the subscription.
		if subscriptions.Load() < 1 {
			t.Fatal("the source's maintenance never created its Graph subscription")
		}
	})
}
