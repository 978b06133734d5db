package okta_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/connectors/okta"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/connectors/conformance"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// The fake below is shaped from Okta's documentation:
// the User object and "Get User with Login" from
// https://developer.okta.com/docs/reference/api/users/, the error object
// from https://developer.okta.com/docs/reference/error-codes/ and the
// rate-limit headers from https://developer.okta.com/docs/reference/rl-best-practices/.

const (
	oktaToken = "00QCjAl4MlV-WPXM-test-token-0HmjFx-vbGua"
	oktaEmail = "isaac.brock@example.com"
	oktaID    = "00ub0oNGTSWTBKOLGLNR"
)

var oktaHeaders = http.Header{
	"Authorization": {"SSWS " + oktaToken},
	"User-Agent":    {"offboarder"},
	"Accept":        {"application/json"},
}

func oktaUser(id, status, login, email string) string {
	return `{"id":"` + id + `","status":"` + status + `","created":"2013-06-24T16:39:18.000Z",` +
		`"activated":"2013-06-24T16:39:19.000Z","statusChanged":"2013-06-24T16:39:19.000Z",` +
		`"lastLogin":"2013-06-24T17:39:19.000Z","lastUpdated":"2013-07-02T21:36:25.344Z",` +
		`"profile":{"firstName":"Isaac","lastName":"Brock","email":"` + email + `","login":"` + login + `"},` +
		`"credentials":{"provider":{"type":"OKTA","name":"OKTA"}},` +
		`"_links":{"self":{"href":"https://example.okta.com/api/v1/users/` + id + `"}}}`
}

func oktaErr(code, summary string) string {
	return `{"errorCode":"` + code + `","errorSummary":"` + summary + `","errorLink":"` + code +
		`","errorId":"oaeHfmOAx1iRLa0H10DeMz5fQ","errorCauses":[]}`
}

var (
	activeUser    = oktaUser(oktaID, "ACTIVE", oktaEmail, oktaEmail)
	userNotFound  = oktaErr("E0000007", "Not found: Resource not found: "+oktaEmail+" (User)")
	invalidToken  = oktaErr("E0000011", "Invalid token provided")
	noPermission  = oktaErr("E0000006", "You do not have permission to perform the requested action")
	rateLimitBody = oktaErr("E0000047", "API call exceeded rate limit due to too many requests.")
	internalError = oktaErr("E0000009", "Internal Server Error")
	clearQuery    = url.Values{"oauthTokens": {"true"}, "forgetDevices": {"false"}}
)

func getLogin(login string, status int, body string) step {
	return step{Method: "GET", Path: "/api/v1/users/" + login, Status: status, Body: body}
}

func search(email string, status int, body string) step {
	return step{Method: "GET", Path: "/api/v1/users", Status: status, Body: body, Query: url.Values{
		"search": {`profile.login eq "` + email + `" or profile.email eq "` + email + `"`},
		"limit":  {"200"},
	}}
}

func clearSessions(id string, status int, body string) step {
	return step{Method: "DELETE", Path: "/api/v1/users/" + id + "/sessions", Query: clearQuery, Status: status, Body: body}
}

func rateLimited(resetIn time.Duration) step {
	return step{Method: "GET", Path: "/api/v1/users/" + oktaEmail, Status: http.StatusTooManyRequests, Body: rateLimitBody,
		Header: map[string]string{
			"X-Rate-Limit-Limit":     "600",
			"X-Rate-Limit-Remaining": "0",
			"X-Rate-Limit-Reset":     strconv.FormatInt(time.Now().Add(resetIn).Unix(), 10),
		}}
}

// openOkta opens an okta connector on baseURL through the registry.
func openOkta(baseURL string) (connectors.Connector, error) {
	cs, err := connectors.Build([]connectors.Spec{{Name: "okta", Type: "okta", Settings: map[string]any{
		"base_url": baseURL, "token": oktaToken,
	}}}, types, connectors.Deps{})
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

func TestOktaRevoke(t *testing.T) {
	tests := []struct {
		name       string
		subject    offboard.Subject
		steps      []step
		want       offboard.Outcome
		kind       vendorapi.Kind // 0: no error
		retryAfter time.Duration  // minimum vendorapi.RetryAfter expected
		text       []string       // in the error text
	}{{
		name:    "a user whose login is the email has sessions and oauth tokens cleared",
		subject: offboard.Subject{Email: oktaEmail},
		steps:   []step{getLogin(oktaEmail, 200, activeUser), clearSessions(oktaID, 204, "")},
		want:    offboard.Acknowledged,
	}, {
		name:    "an okta id on the subject is used without a lookup",
		subject: offboard.Subject{Email: oktaEmail, IDs: map[string]string{"okta": oktaID}},
		steps:   []step{clearSessions(oktaID, 204, "")},
		want:    offboard.Acknowledged,
	}, {
		name:    "an okta id unknown to this org falls back to the email",
		subject: offboard.Subject{Email: oktaEmail, IDs: map[string]string{"okta": "00uOTHERORG"}},
		steps: []step{
			clearSessions("00uOTHERORG", 404, oktaErr("E0000007", "Not found: Resource not found: 00uOTHERORG (User)")),
			getLogin(oktaEmail, 200, activeUser), clearSessions(oktaID, 204, ""),
		},
		want: offboard.Acknowledged,
	}, {
		name:    "a user whose login is not the email is found by search",
		subject: offboard.Subject{Email: oktaEmail},
		steps: []step{
			getLogin(oktaEmail, 404, userNotFound),
			search(oktaEmail, 200, "["+oktaUser(oktaID, "ACTIVE", "ibrock@corp.example", oktaEmail)+"]"),
			clearSessions(oktaID, 204, ""),
		},
		want: offboard.Acknowledged,
	}, {
		name:    "every account that carries the email is cleared",
		subject: offboard.Subject{Email: oktaEmail},
		steps: []step{
			getLogin(oktaEmail, 404, userNotFound),
			search(oktaEmail, 200, "["+oktaUser(oktaID, "ACTIVE", "ibrock", oktaEmail)+","+
				oktaUser("00uADMINTWIN", "ACTIVE", "ibrock-admin", oktaEmail)+"]"),
			clearSessions(oktaID, 204, ""), clearSessions("00uADMINTWIN", 204, ""),
		},
		want: offboard.Acknowledged,
	}, {
		name:    "a user absent from okta is not_found",
		subject: offboard.Subject{Email: oktaEmail},
		steps:   []step{getLogin(oktaEmail, 404, userNotFound), search(oktaEmail, 200, "[]")},
		want:    offboard.NotFound,
	}, {
		name:    "a search hit that is not the email exactly is not cleared",
		subject: offboard.Subject{Email: oktaEmail},
		steps: []step{
			getLogin(oktaEmail, 404, userNotFound),
			search(oktaEmail, 200, "["+oktaUser("00uSOMEONEELSE", "ACTIVE", "x@example.org", "x@example.org")+"]"),
		},
		want: offboard.NotFound,
	}, {
		name:    "a deactivated user still has sessions and tokens cleared",
		subject: offboard.Subject{Email: oktaEmail},
		steps:   []step{getLogin(oktaEmail, 200, oktaUser(oktaID, "DEPROVISIONED", oktaEmail, oktaEmail)), clearSessions(oktaID, 204, "")},
		want:    offboard.Acknowledged,
	}, {
		name:    "a user deleted between lookup and revoke is not_found",
		subject: offboard.Subject{Email: oktaEmail},
		steps:   []step{getLogin(oktaEmail, 200, activeUser), clearSessions(oktaID, 404, userNotFound)},
		want:    offboard.NotFound,
	}, {
		name:    "a plus sign in the email is escaped in the path",
		subject: offboard.Subject{Email: "isaac+ops@example.com"},
		steps: []step{
			getLogin("isaac%2Bops@example.com", 200, oktaUser(oktaID, "ACTIVE", "isaac+ops@example.com", "isaac+ops@example.com")),
			clearSessions(oktaID, 204, ""),
		},
		want: offboard.Acknowledged,
	}, {
		name:    "an email with a slash goes straight to search, as a login with a slash cannot be fetched",
		subject: offboard.Subject{Email: "a/b@example.com"},
		steps:   []step{search("a/b@example.com", 200, "[]")},
		want:    offboard.NotFound,
	}, {
		name:    "quotes and backslashes in the email are escaped in the search expression",
		subject: offboard.Subject{Email: `"i\b"@example.com`},
		steps: []step{
			getLogin("%22i%5Cb%22@example.com", 404, userNotFound),
			search(`\"i\\b\"@example.com`, 200, "[]"),
		},
		want: offboard.NotFound,
	}, {
		name:    "a 429 whose reset is a second away is waited out inside the attempt",
		subject: offboard.Subject{Email: oktaEmail},
		steps:   []step{rateLimited(time.Second), getLogin(oktaEmail, 200, activeUser), clearSessions(oktaID, 204, "")},
		want:    offboard.Acknowledged,
	}, {
		name:       "a 429 whose reset is far away goes back to the queue with the wait",
		subject:    offboard.Subject{Email: oktaEmail},
		steps:      []step{rateLimited(30 * time.Second)},
		kind:       vendorapi.RateLimited,
		retryAfter: 28 * time.Second,
		text:       []string{"E0000047", "rate limited"},
	}, {
		name:    "a rejected token is a permanent auth error that names the credentials",
		subject: offboard.Subject{Email: oktaEmail},
		steps:   []step{getLogin(oktaEmail, 401, invalidToken)},
		kind:    vendorapi.Auth,
		text:    []string{"okta: ", "credentials rejected", "E0000011: Invalid token provided", "status 401"},
	}, {
		name:    "a token without permission is a permanent auth error that names the permission",
		subject: offboard.Subject{Email: oktaEmail},
		steps:   []step{getLogin(oktaEmail, 200, activeUser), clearSessions(oktaID, 403, noPermission)},
		kind:    vendorapi.Auth,
		text:    []string{"missing scope or permission", "E0000006"},
	}, {
		name:    "an okta server error is transient",
		subject: offboard.Subject{Email: oktaEmail},
		steps:   []step{getLogin(oktaEmail, 500, internalError)},
		kind:    vendorapi.Transient,
		text:    []string{"E0000009"},
	}, {
		name:    "a subject with neither an email nor an okta id is invalid and sends nothing",
		subject: offboard.Subject{},
		kind:    vendorapi.Invalid,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(conformance.Script(t, oktaHeaders, tt.steps...))
			t.Cleanup(srv.Close)
			c, err := openOkta(srv.URL)
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
			if e.Kind != tt.kind {
				t.Errorf("kind = %v, want %v (%v)", e.Kind, tt.kind, err)
			}
			// Reset headers carry whole epoch seconds: allow a second below.
			if e.RetryAfter < tt.retryAfter-time.Second || e.RetryAfter > tt.retryAfter+5*time.Second {
				t.Errorf("RetryAfter = %v, want about %v", e.RetryAfter, tt.retryAfter)
			}
			for _, s := range tt.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if strings.Contains(err.Error(), oktaToken) {
				t.Errorf("error holds the token: %q", err)
			}
		})
	}
}

func TestOktaCheck(t *testing.T) {
	list := step{Method: "GET", Path: "/api/v1/users", Query: url.Values{"limit": {"1"}}}
	tests := []struct {
		name   string
		status int
		body   string
		kind   vendorapi.Kind
	}{
		{"a token that can read users passes", 200, "[" + activeUser + "]", 0},
		{"a rejected token fails with an auth error", 401, invalidToken, vendorapi.Auth},
		{"a token without permission fails with an auth error", 403, noPermission, vendorapi.Auth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := list
			s.Status, s.Body = tt.status, tt.body
			srv := httptest.NewServer(conformance.Script(t, oktaHeaders, s))
			t.Cleanup(srv.Close)
			c, err := openOkta(srv.URL)
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

func TestOktaConformance(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		New:     openOkta,
		Secret:  oktaToken,
		Subject: offboard.Subject{Email: oktaEmail},
		Handler: func(t *testing.T, s conformance.Scenario) http.Handler {
			switch s {
			case conformance.Success:
				return conformance.Script(t, oktaHeaders, getLogin(oktaEmail, 200, activeUser), clearSessions(oktaID, 204, ""))
			case conformance.NotFound:
				return conformance.Script(t, oktaHeaders, getLogin(oktaEmail, 404, userNotFound), search(oktaEmail, 200, "[]"))
			case conformance.RateLimited:
				return conformance.Script(t, oktaHeaders, rateLimited(30*time.Second))
			case conformance.ServerError:
				return conformance.Script(t, oktaHeaders, getLogin(oktaEmail, 500, internalError))
			case conformance.Unauthorized:
				return conformance.Script(t, oktaHeaders, getLogin(oktaEmail, 401, invalidToken))
			}
			return conformance.Hanging()
		},
	})
}

func TestSecretNeverPrints(t *testing.T) {
	c := okta.Config{BaseURL: "https://example.okta.com", Token: "tok-value"}
	b, _ := json.Marshal(c)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), string(b)} {
		if strings.Contains(s, "tok-value") {
			t.Errorf("config prints its token: %s", s)
		}
	}
}

// step is one scripted exchange of the Okta fake.
type step = conformance.Step

// types holds the okta type alone, for Build.
var types = map[string]func() connectors.Config{"okta": func() connectors.Config { return new(okta.Config) }}
