package entra_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offboarder/offboarder/connectors/entra"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/connectors/conformance"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// The fake below is shaped from Microsoft's documentation: the client
// credentials token request and its error body
// (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow),
// user: revokeSignInSessions (200 {"value": true}, or 204 per the known
// issue: https://learn.microsoft.com/en-us/graph/api/user-revokesigninsessions),
// the user resource's signInSessionsValidFromDateTime
// (https://learn.microsoft.com/en-us/graph/api/resources/user), the error
// body (https://learn.microsoft.com/en-us/graph/errors) and 429 with
// Retry-After (https://learn.microsoft.com/en-us/graph/throttling).

const (
	entraTenant      = "contoso.onmicrosoft.com"
	entraClientID    = "535fb089-9ff3-47b6-9bfb-4f1264799865"
	entraSecret      = "qWgdYAmab0YSkuL1qKv5bPX-entra-test-secret"
	entraAccessToken = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.graph-access-token.sig"
	entraEmail       = "adele.vance@contoso.com"
	entraID          = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
	entraTokenPath   = "/" + entraTenant + "/oauth2/v2.0/token"
)

var entraHeaders = http.Header{
	"Authorization": {"Bearer " + entraAccessToken},
	"User-Agent":    {"offboarder"},
	"Accept":        {"application/json"},
}

// graphErr is Graph's error body.
func graphErr(code, message string) string {
	return fmt.Sprintf(`{"error":{"code":%q,"message":%q,"innerError":{"date":"2024-05-01T12:00:00",`+
		`"request-id":"94fb3b52-452a-4535-a601-69e0a90e3aa2","client-request-id":"94fb3b52-452a-4535-a601-69e0a90e3aa2"}}}`, code, message)
}

var (
	graphNotFound   = graphErr("Request_ResourceNotFound", "Resource '"+entraEmail+"' does not exist or one of its queried reference-property objects are not present.")
	graphBadToken   = graphErr("InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
	graphDenied     = graphErr("Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	graphThrottled  = graphErr("TooManyRequests", "Please retry again later.")
	graphDown       = graphErr("serviceNotAvailable", "The service is temporarily unavailable.")
	graphRevokedOK  = `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean","value":true}`
	graphSelectFrom = url.Values{"$select": {"signInSessionsValidFromDateTime"}}
)

// entraPath is a Graph user key as it goes on the wire.
func entraPath(key string) string { return "/v1.0/users/" + url.PathEscape(key) }

func revokeSessions(key string, status int, body string) step {
	return step{Method: "POST", Path: entraPath(key) + "/revokeSignInSessions", Status: status, Body: body}
}

// validFrom answers the read-back with the cutoff at t.
func validFrom(key string, t time.Time) step {
	return step{Method: "GET", Path: entraPath(key), Query: graphSelectFrom, Status: 200,
		Body: `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users(signInSessionsValidFromDateTime)/$entity",` +
			`"signInSessionsValidFromDateTime":"` + t.UTC().Format(time.RFC3339) + `"}`}
}

// revokedNow is a revoke the read-back shows at once.
func revokedNow(key string) []step {
	return []step{revokeSessions(key, 200, graphRevokedOK), validFrom(key, time.Now())}
}

func usersFilter(v string, status int, body string) step {
	return step{Method: "GET", Path: "/v1.0/users", Status: status, Body: body, Query: url.Values{
		"$filter": {"mail eq '" + v + "' or userPrincipalName eq '" + v + "'"},
		"$select": {"id,mail,userPrincipalName"},
	}}
}

func graphUsers(users ...[3]string) string {
	var vs []string
	for _, u := range users {
		vs = append(vs, fmt.Sprintf(`{"id":%q,"mail":%q,"userPrincipalName":%q}`, u[0], u[1], u[2]))
	}
	return `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users(id,mail,userPrincipalName)","value":[` + strings.Join(vs, ",") + "]}"
}

// entraTokenAnswer is what the fake token endpoint answers; a zero status
// issues entraAccessToken.
type entraTokenAnswer struct {
	status int
	body   string
}

// entraFake serves the token endpoint, checking the client credentials
// request, and the scripted Graph everywhere else.
func entraFake(t *testing.T, tok entraTokenAnswer, steps ...step) http.Handler {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+entraTokenPath, func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("token request: %v", err)
		}
		want := url.Values{
			"grant_type":    {"client_credentials"},
			"client_id":     {entraClientID},
			"client_secret": {entraSecret},
			"scope":         {"http://" + r.Host + "/.default"},
		}
		if got := r.PostForm.Encode(); got != want.Encode() || r.Header.Get("Authorization") != "" {
			t.Errorf("token request form = %q, want %q", strings.ReplaceAll(got, entraSecret, "<secret>"),
				strings.ReplaceAll(want.Encode(), entraSecret, "<secret>"))
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if tok.status != 0 {
			w.WriteHeader(tok.status)
			fmt.Fprint(w, tok.body)
			return
		}
		fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":%q}`, entraAccessToken)
	})
	mux.Handle("/", conformance.Script(t, entraHeaders, steps...))
	return mux
}

// openEntra opens an entra connector on baseURL through the registry.
func openEntra(baseURL string) (connectors.Connector, error) {
	cs, err := connectors.Build([]connectors.Spec{{Name: "entra", Type: "entra", Settings: map[string]any{
		"tenant_id": entraTenant, "client_id": entraClientID, "client_secret": entraSecret,
		"base_url": baseURL, "token_url": baseURL + entraTokenPath,
	}}}, types, connectors.Deps{})
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

func TestEntraRevoke(t *testing.T) {
	long := time.Now().Add(-72 * time.Hour)
	tests := []struct {
		name       string
		subject    offboard.Subject
		tok        entraTokenAnswer
		steps      []step
		want       offboard.Outcome
		kind       vendorapi.Kind // 0: no error
		retryAfter time.Duration  // vendorapi.RetryAfter expected
		text       []string       // in the error text
	}{{
		name:    "a user whose UPN is the email is revoked and verified by reading the cutoff back",
		subject: offboard.Subject{Email: entraEmail},
		steps:   revokedNow(entraEmail),
		want:    offboard.Verified,
	}, {
		name:    "an entra object id on the subject is used without a lookup",
		subject: offboard.Subject{Email: entraEmail, IDs: map[string]string{"entra": entraID}},
		steps:   revokedNow(entraID),
		want:    offboard.Verified,
	}, {
		name:    "an object id unknown to this tenant falls back to the email",
		subject: offboard.Subject{Email: entraEmail, IDs: map[string]string{"entra": "00000000-0000-0000-0000-000000000000"}},
		steps: append([]step{revokeSessions("00000000-0000-0000-0000-000000000000", 404, graphNotFound)},
			revokedNow(entraEmail)...),
		want: offboard.Verified,
	}, {
		name:    "a 204 answer to the revoke counts as success, as Graph's known issue says",
		subject: offboard.Subject{Email: entraEmail},
		steps:   []step{revokeSessions(entraEmail, 204, ""), validFrom(entraEmail, time.Now())},
		want:    offboard.Verified,
	}, {
		name:    "a user whose UPN is not the email is found by mail",
		subject: offboard.Subject{Email: entraEmail},
		steps: append([]step{
			revokeSessions(entraEmail, 404, graphNotFound),
			usersFilter(entraEmail, 200, graphUsers([3]string{entraID, entraEmail, "adelev@contoso.onmicrosoft.com"})),
		}, revokedNow(entraID)...),
		want: offboard.Verified,
	}, {
		name:    "every account that carries the email is revoked",
		subject: offboard.Subject{Email: entraEmail},
		steps: slices.Concat([]step{
			revokeSessions(entraEmail, 404, graphNotFound),
			usersFilter(entraEmail, 200, graphUsers([3]string{entraID, entraEmail, "adelev@contoso.onmicrosoft.com"},
				[3]string{"6e7b768e-07e2-4810-8459-485f84f8f204", "Adele.Vance@contoso.com", "adele-admin@contoso.onmicrosoft.com"})),
		}, revokedNow(entraID), revokedNow("6e7b768e-07e2-4810-8459-485f84f8f204")),
		want: offboard.Verified,
	}, {
		name:    "a filter hit that is not the email exactly is not revoked",
		subject: offboard.Subject{Email: entraEmail},
		steps: []step{
			revokeSessions(entraEmail, 404, graphNotFound),
			usersFilter(entraEmail, 200, graphUsers([3]string{entraID, "someone@contoso.com", "someone@contoso.com"})),
		},
		want: offboard.NotFound,
	}, {
		name:    "a user absent from the tenant is not_found",
		subject: offboard.Subject{Email: entraEmail},
		steps:   []step{revokeSessions(entraEmail, 404, graphNotFound), usersFilter(entraEmail, 200, graphUsers())},
		want:    offboard.NotFound,
	}, {
		name:    "a single quote in the email is doubled in the OData filter",
		subject: offboard.Subject{Email: "o'brien@contoso.com"},
		steps:   []step{revokeSessions("o'brien@contoso.com", 404, graphNotFound), usersFilter("o''brien@contoso.com", 200, graphUsers())},
		want:    offboard.NotFound,
	}, {
		name:    "an email that starts with $ goes straight to the filter",
		subject: offboard.Subject{Email: "$adele@contoso.com"},
		steps:   []step{usersFilter("$adele@contoso.com", 200, graphUsers())},
		want:    offboard.NotFound,
	}, {
		name:    "a user deleted between lookup and revoke is not_found",
		subject: offboard.Subject{Email: entraEmail},
		steps: []step{
			revokeSessions(entraEmail, 404, graphNotFound),
			usersFilter(entraEmail, 200, graphUsers([3]string{entraID, entraEmail, "adelev@contoso.onmicrosoft.com"})),
			revokeSessions(entraID, 404, graphNotFound),
		},
		want: offboard.NotFound,
	}, {
		name:    "a cutoff the directory shows late is read again until it shows",
		subject: offboard.Subject{Email: entraEmail},
		steps: []step{revokeSessions(entraEmail, 200, graphRevokedOK),
			validFrom(entraEmail, long), validFrom(entraEmail, long), validFrom(entraEmail, time.Now())},
		want: offboard.Verified,
	}, {
		name:    "a cutoff that never shows within the read-backs is acknowledged",
		subject: offboard.Subject{Email: entraEmail},
		steps: []step{revokeSessions(entraEmail, 200, graphRevokedOK),
			validFrom(entraEmail, long), validFrom(entraEmail, long), validFrom(entraEmail, long), validFrom(entraEmail, long)},
		want: offboard.Acknowledged,
	}, {
		name:    "a cutoff seconds before the revoke, within clock skew, is verified",
		subject: offboard.Subject{Email: entraEmail},
		steps:   []step{revokeSessions(entraEmail, 200, graphRevokedOK), validFrom(entraEmail, time.Now().Add(-10*time.Second))},
		want:    offboard.Verified,
	}, {
		name:    "a revoke that cannot be read back for want of User.Read.All is acknowledged",
		subject: offboard.Subject{Email: entraEmail},
		steps: []step{revokeSessions(entraEmail, 200, graphRevokedOK),
			{Method: "GET", Path: entraPath(entraEmail), Query: graphSelectFrom, Status: 403, Body: graphDenied}},
		want: offboard.Acknowledged,
	}, {
		name:    "a 429 with a short Retry-After is waited out inside the attempt",
		subject: offboard.Subject{Email: entraEmail},
		steps: append([]step{{Method: "POST", Path: entraPath(entraEmail) + "/revokeSignInSessions", Status: 429, Body: graphThrottled,
			Header: map[string]string{"Retry-After": "1"}}}, revokedNow(entraEmail)...),
		want: offboard.Verified,
	}, {
		name:    "a 429 with Graph's fractional Retry-After goes back to the queue with the wait rounded up",
		subject: offboard.Subject{Email: entraEmail},
		steps: []step{{Method: "POST", Path: entraPath(entraEmail) + "/revokeSignInSessions", Status: 429, Body: graphThrottled,
			Header: map[string]string{"Retry-After": "29.128"}}},
		kind:       vendorapi.RateLimited,
		retryAfter: 30 * time.Second,
		text:       []string{"TooManyRequests", "rate limited"},
	}, {
		name:    "a 503 with Retry-After is transient and keeps the wait",
		subject: offboard.Subject{Email: entraEmail},
		steps: []step{{Method: "POST", Path: entraPath(entraEmail) + "/revokeSignInSessions", Status: 503, Body: graphDown,
			Header: map[string]string{"Retry-After": "10"}}},
		kind:       vendorapi.Transient,
		retryAfter: 10 * time.Second,
		text:       []string{"serviceNotAvailable", "request-id 94fb3b52"},
	}, {
		name:    "a rejected access token is a permanent auth error",
		subject: offboard.Subject{Email: entraEmail},
		steps:   []step{revokeSessions(entraEmail, 401, graphBadToken)},
		kind:    vendorapi.Auth,
		text:    []string{"entra: ", "credentials rejected", "InvalidAuthenticationToken", "status 401"},
	}, {
		name:    "an app without User.RevokeSessions.All is a permanent auth error naming the permission",
		subject: offboard.Subject{Email: entraEmail},
		steps:   []step{revokeSessions(entraEmail, 403, graphDenied)},
		kind:    vendorapi.Auth,
		text:    []string{"missing scope or permission", "Authorization_RequestDenied"},
	}, {
		name:    "a wrong client secret is a permanent auth error and no graph call is made",
		subject: offboard.Subject{Email: entraEmail},
		tok: entraTokenAnswer{status: 401, body: `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.",` +
			`"error_codes":[7000215],"timestamp":"2024-05-01 12:00:00Z","trace_id":"255d1aef-8c98-452f-ac51-23d051240864",` +
			`"correlation_id":"fb3d2015-bc17-4bb9-bb85-30c5cf1aaaa7"}`},
		kind: vendorapi.Auth,
		text: []string{"fetching an access token", "invalid_client", "AADSTS7000215"},
	}, {
		name:    "an app unknown to the tenant is a permanent auth error",
		subject: offboard.Subject{Email: entraEmail},
		tok: entraTokenAnswer{status: 400, body: `{"error":"unauthorized_client","error_description":"AADSTS700016: Application with identifier '` +
			entraClientID + `' was not found in the directory 'Contoso'.","error_codes":[700016]}`},
		kind: vendorapi.Auth,
		text: []string{"unauthorized_client", "AADSTS700016"},
	}, {
		name:    "a subject with neither an email nor an entra id is invalid and sends nothing",
		subject: offboard.Subject{},
		kind:    vendorapi.Invalid,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(entraFake(t, tt.tok, tt.steps...))
			t.Cleanup(srv.Close)
			c, err := openEntra(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Revoke(t.Context(), tt.subject)
			if tt.kind == 0 {
				if err != nil {
					t.Fatalf("Revoke: unexpected error: %v", err)
				}
				if got != tt.want {
					t.Fatalf("outcome = %q, want %q", got, tt.want)
				}
				return
			}
			e, ok := errors.AsType[*vendorapi.Error](err)
			if !ok {
				t.Fatalf("error = %v, want a *Error of kind %v", err, tt.kind)
			}
			if e.Kind != tt.kind || e.RetryAfter != tt.retryAfter {
				t.Errorf("kind = %v, RetryAfter = %v; want %v, %v (%v)", e.Kind, e.RetryAfter, tt.kind, tt.retryAfter, err)
			}
			for _, s := range tt.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if strings.Contains(fmt.Sprintf("%#v %v", err, err), entraSecret) {
				t.Errorf("error holds the client secret: %q", err)
			}
		})
	}
}

// rerouter sends every request to srv and remembers where it was meant to go.
type rerouter struct {
	srv  *httptest.Server
	mu   sync.Mutex
	urls []string
}

func (r *rerouter) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.urls = append(r.urls, req.Method+" "+req.URL.Scheme+"://"+req.URL.Host+req.URL.Path)
	r.mu.Unlock()
	to, _ := url.Parse(r.srv.URL)
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host = to.Scheme, to.Host
	return http.DefaultTransport.RoundTrip(req)
}

func TestEntraDefaultsAreMicrosoftsGlobalEndpoints(t *testing.T) {
	var scope string
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+entraTokenPath, func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		scope = r.PostForm.Get("scope")
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3599,"access_token":%q}`, entraAccessToken)
	})
	mux.Handle("/", conformance.Script(t, entraHeaders, step{Method: "GET", Path: "/v1.0/users", Status: 200,
		Query: url.Values{"$top": {"1"}, "$select": {"id"}}, Body: graphUsers([3]string{entraID, entraEmail, entraEmail})}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	rr := &rerouter{srv: srv}
	cs, err := connectors.Build([]connectors.Spec{{Name: "entra", Type: "entra", Settings: map[string]any{
		"tenant_id": entraTenant, "client_id": entraClientID, "client_secret": entraSecret,
	}}}, types, connectors.Deps{HTTPClient: &http.Client{Transport: rr}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cs[0].(connectors.Checker).Check(t.Context()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	want := []string{
		"POST https://login.microsoftonline.com/" + entraTenant + "/oauth2/v2.0/token",
		"GET https://graph.microsoft.com/v1.0/users",
	}
	if strings.Join(rr.urls, "\n") != strings.Join(want, "\n") || scope != "https://graph.microsoft.com/.default" {
		t.Errorf("requests %q with scope %q, want %q with https://graph.microsoft.com/.default", rr.urls, scope, want)
	}
}

func TestEntraCheck(t *testing.T) {
	list := step{Method: "GET", Path: "/v1.0/users", Query: url.Values{"$top": {"1"}, "$select": {"id"}}}
	tests := []struct {
		name   string
		status int
		body   string
		kind   vendorapi.Kind
	}{
		{"an app that can read users passes", 200, graphUsers([3]string{entraID, entraEmail, entraEmail}), 0},
		{"a rejected token fails with an auth error", 401, graphBadToken, vendorapi.Auth},
		{"an app without permission fails with an auth error", 403, graphDenied, vendorapi.Auth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := list
			s.Status, s.Body = tt.status, tt.body
			srv := httptest.NewServer(entraFake(t, entraTokenAnswer{}, s))
			t.Cleanup(srv.Close)
			c, err := openEntra(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			err = c.(connectors.Checker).Check(t.Context())
			if tt.kind == 0 && err != nil {
				t.Fatalf("Check: %v", err)
			}
			if e, ok := errors.AsType[*vendorapi.Error](err); tt.kind != 0 && (!ok || e.Kind != tt.kind) {
				t.Fatalf("Check error = %v, want kind %v", err, tt.kind)
			}
		})
	}
}

func TestEntraConfig(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]any
		want     []string // every line of the error, after "connectors[0] (entra)."
	}{
		{"every required key is named", map[string]any{},
			[]string{"tenant_id: required", "client_id: required", "client_secret: required"}},
		{"a tenant id that cannot go in a url is refused",
			map[string]any{"tenant_id": "contoso/../x", "client_id": "c", "client_secret": "s"},
			[]string{"tenant_id: must be the directory (tenant) id, a GUID, or a domain such as contoso.onmicrosoft.com"}},
		{"a base_url with /v1.0 is refused",
			map[string]any{"tenant_id": entraTenant, "client_id": "c", "client_secret": "s", "base_url": "https://graph.microsoft.com/v1.0"},
			[]string{"base_url: give the graph root without /v1.0, e.g. https://graph.microsoft.com"}},
		{"a token_url with credentials is refused",
			map[string]any{"tenant_id": entraTenant, "client_id": "c", "client_secret": "s", "token_url": "https://u:p@login.example/t"},
			[]string{"token_url: must not hold credentials; put them in their own keys"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := connectors.Build([]connectors.Spec{{Name: "entra", Type: "entra", Settings: tt.settings}}, types, connectors.Deps{})
			var want []string
			for _, w := range tt.want {
				want = append(want, "connectors[0] (entra)."+w)
			}
			if err == nil || err.Error() != strings.Join(want, "\n") {
				t.Errorf("Build error:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
			}
		})
	}
}

func TestEntraConformance(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		New:     openEntra,
		Secret:  entraSecret,
		Subject: offboard.Subject{Email: entraEmail},
		Handler: func(t *testing.T, s conformance.Scenario) http.Handler {
			switch s {
			case conformance.Success:
				return entraFake(t, entraTokenAnswer{}, revokedNow(entraEmail)...)
			case conformance.NotFound:
				return entraFake(t, entraTokenAnswer{}, revokeSessions(entraEmail, 404, graphNotFound), usersFilter(entraEmail, 200, graphUsers()))
			case conformance.RateLimited:
				return entraFake(t, entraTokenAnswer{}, step{Method: "POST", Path: entraPath(entraEmail) + "/revokeSignInSessions",
					Status: 429, Body: graphThrottled, Header: map[string]string{"Retry-After": "30"}})
			case conformance.ServerError:
				return entraFake(t, entraTokenAnswer{}, revokeSessions(entraEmail, 503, graphDown))
			case conformance.Unauthorized:
				return entraFake(t, entraTokenAnswer{}, revokeSessions(entraEmail, 401, graphBadToken))
			}
			return conformance.Hanging()
		},
	})
}

// step is one scripted exchange of the Graph fake.
type step = conformance.Step

// types holds the entra type alone, for Build.
var types = map[string]func() connectors.Config{"entra": func() connectors.Config { return new(entra.Config) }}
