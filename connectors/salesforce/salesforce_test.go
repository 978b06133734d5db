package salesforce_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/connectors/conformance"
	"github.com/offboarder/offboarder/connectors/salesforce"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// The fake below is shaped from Salesforce's documentation: the client
// credentials flow at the org's token endpoint
// (https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_client_credentials_flow.htm),
// the REST query resource with its totalSize/done/records answer
// (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm),
// the AuthSession and OauthToken objects, the revoke endpoint, and the
// error array [{"message","errorCode"}] of
// https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm.

const (
	sfClientID    = "3MVG9offboarder.consumer.key"
	sfSecret      = "sf-test-consumer-secret-8A4BE698BCA2"
	sfAccessToken = "00DS7000000oxzo!AR8AQPXAhJNveaXDdPzbrtXq"
	sfEmail       = "isaac.brock@example.com"
	sfUserID      = "005D0000001AbCdIAK"
	sfTwinID      = "005D0000001ZyXwIAK"
	sfData        = "/services/data/v66.0"
	sfDelete1     = "sf-delete-token-1-AbC"
	sfDelete2     = "sf-delete-token-2-DeF"
)

var sfHeaders = http.Header{
	"Authorization": {"Bearer " + sfAccessToken},
	"User-Agent":    {"offboarder"},
	"Accept":        {"application/json"},
}

// types holds the salesforce type alone, for Build.
var types = map[string]func() connectors.Config{"salesforce": func() connectors.Config { return new(salesforce.Config) }}

// step is one scripted exchange of the Salesforce fake.
type step = conformance.Step

// openSalesforce opens a salesforce connector through the registry with
// the client credentials flow; extra settings are added.
func openSalesforce(baseURL string, extra map[string]any) (connectors.Connector, error) {
	settings := map[string]any{"base_url": baseURL, "client_id": sfClientID, "client_secret": sfSecret}
	for k, v := range extra {
		if v == nil {
			delete(settings, k)
			continue
		}
		settings[k] = v
	}
	cs, err := connectors.Build([]connectors.Spec{{Name: "salesforce", Type: "salesforce", Settings: settings}}, types, connectors.Deps{})
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

// sfToken is the token endpoint's answer: a zero status issues
// sfAccessToken as Salesforce does, without expires_in.
type sfToken struct {
	status int
	body   string
}

// salesforceFake serves the token endpoint at /services/oauth2/token,
// checking the client credentials grant, and the scripted REST API
// everywhere else. Its token answer names another instance_url: every
// test that reaches the script shows that base_url, not instance_url, is
// where API calls go. A listing queries sessions and tokens at once, at the
// same path: the OauthToken queries are scripted apart, in their own
// order, so that the two can be told apart.
func salesforceFake(t *testing.T, tok sfToken, steps ...step) http.Handler {
	t.Helper()
	var main, tokens []step
	for _, s := range steps {
		if isTokenQuery(s.Query.Get("q")) {
			s.Together = false
			tokens = append(tokens, s)
		} else {
			main = append(main, s)
		}
	}
	api, tokenAPI := conformance.Script(t, sfHeaders, main...), conformance.Script(t, sfHeaders, tokens...)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case isTokenQuery(r.URL.Query().Get("q")):
			tokenAPI.ServeHTTP(w, r)
			return
		case r.Method != http.MethodPost || r.URL.Path != "/services/oauth2/token":
			api.ServeHTTP(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			t.Errorf("token request: %v", err)
		}
		want := url.Values{"grant_type": {"client_credentials"}, "client_id": {sfClientID}, "client_secret": {sfSecret}}
		if r.PostForm.Encode() != want.Encode() {
			t.Errorf("token request form = %q, want the client credentials grant", strings.ReplaceAll(r.PostForm.Encode(), sfSecret, "<secret>"))
		}
		w.Header().Set("Content-Type", "application/json")
		if tok.status != 0 {
			w.WriteHeader(tok.status)
			fmt.Fprint(w, tok.body)
			return
		}
		fmt.Fprintf(w, `{"access_token":%q,"signature":"nUFHwtfIGLKDTHcLWmDBG8frv0t+HQGl/iCZFIQUarE=","token_format":"opaque","instance_url":"https://elsewhere.my.salesforce.com","id":"https://login.salesforce.com/id/00Dd000000XXXXXXX/005d000000XXXXX","token_type":"Bearer","issued_at":"1733400000000"}`, sfAccessToken)
	})
}

func isTokenQuery(q string) bool { return strings.Contains(q, " FROM OauthToken ") }

const (
	sfBadSession = `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`
	sfNoAccess   = `[{"message":"Insufficient Privileges","errorCode":"INSUFFICIENT_ACCESS"}]`
	sfLimit      = `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`
	sfDown       = `[{"message":"An unexpected error occurred. Please include this ErrorId if you contact support: 1877-4242 (-1537263720)","errorCode":"UNKNOWN_EXCEPTION"}]`
	sfNoRecord   = `[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]`
	sfNoType     = `[{"message":"\nSELECT AppName, DeleteToken FROM OauthToken\n                                ^\nERROR at Row:1:Column:34\nsObject type 'OauthToken' is not supported.","errorCode":"INVALID_TYPE"}]`
)

// sfRecords is a query answer holding records, all in one batch.
func sfRecords(records ...string) string {
	return fmt.Sprintf(`{"totalSize":%d,"done":true,"records":[%s]}`, len(records), strings.Join(records, ","))
}

func sfUser(id string) string {
	return `{"attributes":{"type":"User","url":"` + sfData + `/sobjects/User/` + id + `"},"Id":"` + id + `","Username":"isaac@acme.example","Email":"` + sfEmail + `"}`
}

func sfSession(id string) string {
	return `{"attributes":{"type":"AuthSession","url":"` + sfData + `/sobjects/AuthSession/` + id + `"},"Id":"` + id + `"}`
}

func sfOAuth(app, del string) string {
	return `{"attributes":{"type":"OauthToken"},"AppName":"` + app + `","DeleteToken":"` + del + `"}`
}

func sfQuery(soql string, status int, body string) step {
	return step{Method: "GET", Path: sfData + "/query", Query: url.Values{"q": {soql}}, Status: status, Body: body}
}

func sfFind(status int, body string) step {
	return sfQuery("SELECT Id, Username, Email FROM User WHERE Username = '"+sfEmail+"' OR Email = '"+sfEmail+"'", status, body)
}

func sfSessions(user string, status int, body string) step {
	return sfQuery("SELECT Id FROM AuthSession WHERE UsersId = '"+user+"'", status, body)
}

func sfTokens(user string, status int, body string) step {
	return sfQuery("SELECT AppName, DeleteToken FROM OauthToken WHERE UserId = '"+user+"'", status, body)
}

func sfDeleteSession(id string, status int, body string) step {
	return step{Method: "DELETE", Path: sfData + "/sobjects/AuthSession/" + id, Status: status, Body: body}
}

func sfRevoke(token string, status int, body string) step {
	return step{Method: "GET", Path: "/services/oauth2/revoke", Query: url.Values{"token": {token}}, Status: status, Body: body}
}

// sfListing is the two queries of one listing, sent together.
func sfListing(user, sessions, tokens string) []step {
	return []step{sfSessions(user, 200, sessions), sfTokens(user, 200, tokens).With()}
}

// sfEnded is the exchange for a user with two sessions and one token, all
// of which read back gone.
func sfEnded(user string) []step {
	return slices.Concat(
		sfListing(user, sfRecords(sfSession("0AkD01"), sfSession("0AkD02")), sfRecords(sfOAuth("Salesforce Mobile", sfDelete1))),
		[]step{sfDeleteSession("0AkD01", 204, ""), sfDeleteSession("0AkD02", 204, "").With(), sfRevoke(sfDelete1, 200, "").With()},
		sfListing(user, sfRecords(), sfRecords()),
	)
}

func TestSalesforceRevoke(t *testing.T) {
	limited := sfFind(403, sfLimit)
	proxy := sfFind(429, "")
	proxy.Header = map[string]string{"Retry-After": "30"}
	tests := []struct {
		name       string
		subject    offboard.Subject
		steps      []step
		want       offboard.Outcome
		detail     string
		kind       vendorapi.Kind // 0: no error
		retryAfter time.Duration
		text       []string
	}{{
		name:    "a user's sessions are deleted and tokens revoked, and nothing is left",
		subject: offboard.Subject{Email: sfEmail},
		steps:   append([]step{sfFind(200, sfRecords(sfUser(sfUserID)))}, sfEnded(sfUserID)...),
		want:    offboard.Verified,
		detail:  "user " + sfUserID + ": 2 sessions ended; 1 connected-app OAuth token revoked; none left",
	}, {
		name:    "every user with the email is offboarded",
		subject: offboard.Subject{Email: sfEmail},
		steps:   slices.Concat([]step{sfFind(200, sfRecords(sfUser(sfUserID), sfUser(sfTwinID)))}, sfEnded(sfUserID), sfEnded(sfTwinID)),
		want:    offboard.Verified,
	}, {
		name:    "a user without sessions or tokens is verified at once",
		subject: offboard.Subject{Email: sfEmail},
		steps:   slices.Concat([]step{sfFind(200, sfRecords(sfUser(sfUserID)))}, sfListing(sfUserID, sfRecords(), sfRecords()), sfListing(sfUserID, sfRecords(), sfRecords())),
		want:    offboard.Verified,
		detail:  "user " + sfUserID + ": 0 sessions ended; 0 connected-app OAuth tokens revoked; none left",
	}, {
		name:    "a session gone before its delete (404) counts as ended",
		subject: offboard.Subject{Email: sfEmail},
		steps: slices.Concat([]step{sfFind(200, sfRecords(sfUser(sfUserID)))},
			sfListing(sfUserID, sfRecords(sfSession("0AkD01")), sfRecords()),
			[]step{sfDeleteSession("0AkD01", 404, sfNoRecord)},
			sfListing(sfUserID, sfRecords(), sfRecords())),
		want: offboard.Verified,
	}, {
		name:    "a token the revoke endpoint calls invalid and that is still listed gives acknowledged",
		subject: offboard.Subject{Email: sfEmail},
		steps: slices.Concat([]step{sfFind(200, sfRecords(sfUser(sfUserID)))},
			sfListing(sfUserID, sfRecords(), sfRecords(sfOAuth("Slack", sfDelete2))),
			[]step{sfRevoke(sfDelete2, 400, `{"error":"invalid_token","error_description":"invalid token"}`)},
			sfListing(sfUserID, sfRecords(), sfRecords(sfOAuth("Slack", sfDelete2)))),
		want:   offboard.Acknowledged,
		detail: "user " + sfUserID + ": 0 sessions ended; 1 connected-app OAuth token revoked; still listed: 0 sessions and 1 OAuth token",
	}, {
		name:    "credentials that may not read OauthToken end the sessions and say the tokens were not revoked",
		subject: offboard.Subject{Email: sfEmail},
		steps: slices.Concat([]step{sfFind(200, sfRecords(sfUser(sfUserID)))},
			[]step{sfSessions(sfUserID, 200, sfRecords(sfSession("0AkD01"))), sfTokens(sfUserID, 400, sfNoType).With()},
			[]step{sfDeleteSession("0AkD01", 204, "")},
			[]step{sfSessions(sfUserID, 200, sfRecords()), sfTokens(sfUserID, 400, sfNoType).With()}),
		want:   offboard.Acknowledged,
		detail: "user " + sfUserID + ": 1 session ended; OAuth tokens not revoked: the connector's user may not query OauthToken (it needs Customize Application); no session left",
	}, {
		name:    "a username or email that only contains the address matches nobody",
		subject: offboard.Subject{Email: sfEmail},
		steps:   []step{sfFind(200, `{"totalSize":1,"done":true,"records":[{"Id":"`+sfTwinID+`","Username":"x`+sfEmail+`","Email":"x`+sfEmail+`"}]}`)},
		want:    offboard.NotFound,
	}, {
		name:    "no user with the email is not_found",
		subject: offboard.Subject{Email: sfEmail},
		steps:   []step{sfFind(200, sfRecords())},
		want:    offboard.NotFound,
	}, {
		name:    "a user that may not delete sessions is a permanent auth error",
		subject: offboard.Subject{Email: sfEmail},
		steps: slices.Concat([]step{sfFind(200, sfRecords(sfUser(sfUserID)))},
			sfListing(sfUserID, sfRecords(sfSession("0AkD01")), sfRecords()),
			[]step{sfDeleteSession("0AkD01", 403, sfNoAccess)}),
		kind: vendorapi.Auth,
		text: []string{"salesforce: DELETE " + sfData + "/sobjects/AuthSession/0AkD01", "INSUFFICIENT_ACCESS: Insufficient Privileges"},
	}, {
		name:    "an expired or foreign session id (401) is a permanent auth error naming the credentials",
		subject: offboard.Subject{Email: sfEmail},
		steps:   []step{sfFind(401, sfBadSession)},
		kind:    vendorapi.Auth,
		text:    []string{"credentials rejected", "INVALID_SESSION_ID: Session expired or invalid"},
	}, {
		name:       "the org's API request limit (403 REQUEST_LIMIT_EXCEEDED) waits five minutes",
		subject:    offboard.Subject{Email: sfEmail},
		steps:      []step{limited},
		kind:       vendorapi.RateLimited,
		retryAfter: 5 * time.Minute,
		text:       []string{"REQUEST_LIMIT_EXCEEDED", "retry after 5m0s", "status 403"},
	}, {
		name:       "a 429 with Retry-After waits what it says",
		subject:    offboard.Subject{Email: sfEmail},
		steps:      []step{proxy},
		kind:       vendorapi.RateLimited,
		retryAfter: 30 * time.Second,
	}, {
		name:    "a server error is transient",
		subject: offboard.Subject{Email: sfEmail},
		steps:   []step{sfFind(500, sfDown)},
		kind:    vendorapi.Transient,
		text:    []string{"UNKNOWN_EXCEPTION"},
	}, {
		name:    "a subject without an email is invalid and sends nothing",
		subject: offboard.Subject{IDs: map[string]string{"okta": "00u1"}},
		kind:    vendorapi.Invalid,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(salesforceFake(t, sfToken{}, tt.steps...))
			t.Cleanup(srv.Close)
			c, err := openSalesforce(srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, detail := connectors.WithReport(t.Context())
			got, err := c.Revoke(ctx, tt.subject)
			if tt.kind == 0 {
				if err != nil || got != tt.want {
					t.Fatalf("Revoke = %q, %v; want %q", got, err, tt.want)
				}
				if tt.detail != "" && detail() != tt.detail {
					t.Errorf("detail = %q, want %q", detail(), tt.detail)
				}
				return
			}
			e, ok := errors.AsType[*vendorapi.Error](err)
			if !ok || e.Kind != tt.kind || e.RetryAfter != tt.retryAfter {
				t.Fatalf("error = %v (%#v), want kind %v with wait %v", err, err, tt.kind, tt.retryAfter)
			}
			for _, s := range tt.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			for _, secret := range []string{sfSecret, sfAccessToken, sfDelete1, sfDelete2} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error holds a secret: %q", err)
				}
			}
		})
	}
}

// An address with the characters SOQL reserves is escaped in the query,
// so it cannot end the literal.
func TestSalesforceEscapesTheAddress(t *testing.T) {
	who := `o'brien\x@example.com`
	lit := `'o\'brien\\x@example.com'`
	srv := httptest.NewServer(salesforceFake(t, sfToken{}, sfQuery("SELECT Id, Username, Email FROM User WHERE Username = "+lit+" OR Email = "+lit, 200, sfRecords())))
	t.Cleanup(srv.Close)
	c, err := openSalesforce(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := c.Revoke(t.Context(), offboard.Subject{Email: who}); err != nil || out != offboard.NotFound {
		t.Fatalf("Revoke = %q, %v", out, err)
	}
}

// Sessions listed over two batches are all deleted: the second batch is
// read at nextRecordsUrl.
func TestSalesforceReadsEveryBatch(t *testing.T) {
	first := `{"totalSize":2,"done":false,"nextRecordsUrl":"` + sfData + `/query/01gD0000002HU6KIAW-2000","records":[` + sfSession("0AkD01") + `]}`
	steps := slices.Concat([]step{sfFind(200, sfRecords(sfUser(sfUserID)))},
		[]step{sfSessions(sfUserID, 200, first), sfTokens(sfUserID, 200, sfRecords()).With(),
			{Method: "GET", Path: sfData + "/query/01gD0000002HU6KIAW-2000", Status: 200, Body: sfRecords(sfSession("0AkD02"))}},
		[]step{sfDeleteSession("0AkD01", 204, ""), sfDeleteSession("0AkD02", 204, "").With()},
		sfListing(sfUserID, sfRecords(), sfRecords()))
	srv := httptest.NewServer(salesforceFake(t, sfToken{}, steps...))
	t.Cleanup(srv.Close)
	c, err := openSalesforce(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := c.Revoke(t.Context(), offboard.Subject{Email: sfEmail}); err != nil || out != offboard.Verified {
		t.Fatalf("Revoke = %q, %v", out, err)
	}
}

func TestSalesforceToken(t *testing.T) {
	tests := []struct {
		name string
		tok  sfToken
		kind vendorapi.Kind
		text []string
	}{{
		name: "a wrong consumer secret (400 invalid_client) is a permanent auth error",
		tok:  sfToken{status: 400, body: `{"error":"invalid_client","error_description":"invalid client credentials"}`},
		kind: vendorapi.Auth,
		text: []string{"fetching an access token", "credentials rejected", "invalid client credentials"},
	}, {
		name: "an app without a run-as user (400 invalid_grant) is a permanent auth error",
		tok:  sfToken{status: 400, body: `{"error":"invalid_grant","error_description":"no client credentials user enabled"}`},
		kind: vendorapi.Auth,
		text: []string{"no client credentials user enabled"},
	}, {
		name: "a token endpoint that is down is transient",
		tok:  sfToken{status: 503, body: `{"error":"server_error"}`},
		kind: vendorapi.Transient,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(salesforceFake(t, tt.tok))
			t.Cleanup(srv.Close)
			c, err := openSalesforce(srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Revoke(t.Context(), offboard.Subject{Email: sfEmail})
			if e, ok := errors.AsType[*vendorapi.Error](err); !ok || e.Kind != tt.kind {
				t.Fatalf("error = %v, want kind %v", err, tt.kind)
			}
			for _, s := range tt.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if strings.Contains(err.Error(), sfSecret) {
				t.Errorf("error holds the secret: %q", err)
			}
		})
	}
}

func TestSalesforceCheck(t *testing.T) {
	probe := sfQuery("SELECT Id FROM User LIMIT 1", 200, sfRecords(sfUser(sfUserID)))
	srv := httptest.NewServer(salesforceFake(t, sfToken{}, probe))
	t.Cleanup(srv.Close)
	c, err := openSalesforce(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.(connectors.Checker).Check(t.Context()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	denied := sfQuery("SELECT Id FROM User LIMIT 1", 403, `[{"message":"The REST API is not enabled for this Organization.","errorCode":"API_DISABLED_FOR_ORG"}]`)
	srv2 := httptest.NewServer(salesforceFake(t, sfToken{}, denied))
	t.Cleanup(srv2.Close)
	c, err = openSalesforce(srv2.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.(connectors.Checker).Check(t.Context()); !vendorapi.IsKind(err, vendorapi.Auth) || !strings.Contains(err.Error(), "API_DISABLED_FOR_ORG") {
		t.Fatalf("Check = %v, want an auth error with Salesforce's code", err)
	}
}

func TestSalesforceSettings(t *testing.T) {
	key := string(rsaPEM(t, 2048))
	tests := []struct {
		name     string
		settings map[string]any
		want     []string
	}{{
		name:     "base_url, client_id and a flow are required",
		settings: map[string]any{},
		want:     []string{"(salesforce).base_url: required", "(salesforce).client_id: required", "(salesforce).client_secret: required, or username and private_key"},
	}, {
		name: "both flows at once are refused",
		settings: map[string]any{"base_url": "https://acme.my.salesforce.com", "client_id": sfClientID, "client_secret": sfSecret,
			"username": "ops@acme.example", "private_key": key},
		want: []string{"(salesforce).client_secret: give client_secret (client credentials flow) or username and private_key (JWT bearer flow), not both"},
	}, {
		name:     "a JWT bearer flow needs both its keys, and a real RSA key",
		settings: map[string]any{"base_url": "https://acme.my.salesforce.com", "client_id": sfClientID, "private_key": "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n"},
		want:     []string{"(salesforce).username: required with private_key", "(salesforce).private_key: must be an RSA private key"},
	}, {
		name:     "a username without a key is reported",
		settings: map[string]any{"base_url": "https://acme.my.salesforce.com", "client_id": sfClientID, "username": "ops@acme.example"},
		want:     []string{"(salesforce).private_key: required with username"},
	}, {
		name:     "a short RSA key is refused",
		settings: map[string]any{"base_url": "https://acme.my.salesforce.com", "client_id": sfClientID, "username": "ops@acme.example", "private_key": string(rsaPEM(t, 1024))},
		want:     []string{"(salesforce).private_key: an RSA key must have at least 2048 bits"},
	}, {
		name: "a base_url with the api path and a bad token_url are each reported",
		settings: map[string]any{"base_url": "https://acme.my.salesforce.com/services/data/v66.0", "client_id": sfClientID, "client_secret": sfSecret,
			"token_url": "https://user:" + sfSecret + "@login.salesforce.com/services/oauth2/token"},
		want: []string{"(salesforce).base_url: give the instance without /services", "(salesforce).token_url: must not hold credentials"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conformance.WantBuildErrors(t, types, "salesforce", tt.settings, tt.want, sfSecret, "not a key")
		})
	}
}

func TestSalesforceConformance(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		New:     func(base string) (connectors.Connector, error) { return openSalesforce(base, nil) },
		Secret:  sfSecret,
		Subject: offboard.Subject{Email: sfEmail},
		Handler: func(t *testing.T, s conformance.Scenario) http.Handler {
			switch s {
			case conformance.Success:
				return salesforceFake(t, sfToken{}, append([]step{sfFind(200, sfRecords(sfUser(sfUserID)))}, sfEnded(sfUserID)...)...)
			case conformance.NotFound:
				return salesforceFake(t, sfToken{}, sfFind(200, sfRecords()))
			case conformance.RateLimited:
				return salesforceFake(t, sfToken{}, sfFind(403, sfLimit))
			case conformance.ServerError:
				return salesforceFake(t, sfToken{}, sfFind(503, sfDown))
			case conformance.Unauthorized:
				return salesforceFake(t, sfToken{}, sfFind(401, sfBadSession))
			}
			return conformance.Hanging()
		},
	})
}
