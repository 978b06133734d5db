package box_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/connectors/box"
	"github.com/offboarder/offboarder/connectors/conformance"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// The fake below is shaped from Box's documentation: the client
// credentials grant for the enterprise's service account
// (https://developer.box.com/guides/authentication/client-credentials/),
// GET /2.0/users (https://developer.box.com/reference/get-users/), POST
// /2.0/users/terminate_sessions with its 202 message
// (https://developer.box.com/reference/post-users-terminate-sessions/), the
// ClientError body (https://developer.box.com/reference/resources/client-error/)
// and the 429 with retry-after of
// https://developer.box.com/guides/api-calls/permissions-and-errors/rate-limits/.

const (
	bxClientID   = "ly1nj6n11vionaie65emwzk575hnnmrk"
	bxSecret     = "box-test-client-secret-7d3e1f09"
	bxEnterprise = "575619"
	bxToken      = "T9cE5asGnuyYCCqIZFoWjFHvNbvVqHjl"
	bxEmail      = "isaac.brock@example.com"
	bxID         = "11446498"
)

var bxHeaders = http.Header{"Authorization": {"Bearer " + bxToken}, "User-Agent": {"offboarder"}, "Accept": {"application/json"}}

var types = map[string]func() connectors.Config{"box": func() connectors.Config { return new(box.Config) }}

type step = conformance.Step

func openBox(baseURL string, extra map[string]any) (connectors.Connector, error) {
	settings := map[string]any{"base_url": baseURL, "client_id": bxClientID, "client_secret": bxSecret, "enterprise_id": bxEnterprise}
	for k, v := range extra {
		settings[k] = v
	}
	cs, err := connectors.Build([]connectors.Spec{{Name: "box", Type: "box", Settings: settings}}, types, connectors.Deps{})
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

// boxFake serves the token endpoint at /oauth2/token, checking the client
// credentials grant for the enterprise, and the scripted API everywhere
// else; terminate_sessions bodies must be wantBody.
func boxFake(t *testing.T, tokStatus int, tokBody, wantBody string, steps ...step) http.Handler {
	t.Helper()
	api := conformance.Script(t, bxHeaders, steps...)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/2.0/users/terminate_sessions" {
			b, _ := io.ReadAll(r.Body)
			if r.Header.Get("Content-Type") != "application/json" || !sameJSON(b, wantBody) {
				t.Errorf("terminate_sessions body %s (%s), want %s", b, r.Header.Get("Content-Type"), wantBody)
			}
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		if r.URL.Path != "/oauth2/token" {
			api.ServeHTTP(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		want := url.Values{"grant_type": {"client_credentials"}, "client_id": {bxClientID}, "client_secret": {bxSecret},
			"box_subject_type": {"enterprise"}, "box_subject_id": {bxEnterprise}}
		if r.PostForm.Encode() != want.Encode() {
			t.Errorf("token form = %q", strings.ReplaceAll(r.PostForm.Encode(), bxSecret, "<secret>"))
		}
		w.Header().Set("Content-Type", "application/json")
		if tokStatus != 0 {
			w.WriteHeader(tokStatus)
			fmt.Fprint(w, tokBody)
			return
		}
		fmt.Fprintf(w, `{"access_token":%q,"expires_in":3600,"restricted_to":[],"token_type":"bearer"}`, bxToken)
	})
}

func sameJSON(a []byte, b string) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

const (
	bxAccepted  = `{"message":"Request is successful, please check the admin\nevents for the status of the job"}`
	bxForbidden = `{"type":"error","status":403,"code":"access_denied_insufficient_permissions","help_url":"https://developer.box.com/guides/api-calls/permissions-and-errors/common-errors/","message":"Access denied - insufficient permission","request_id":"abcdef123456"}`
	bxLimited   = `{"type":"error","status":429,"code":"rate_limit_exceeded","help_url":"http://developers.box.com/docs/#errors","message":"Request rate limit exceeded, please try again later","request_id":"abcdef123456"}`
	bxDown      = `{"type":"error","status":503,"code":"unavailable","message":"Unavailable","request_id":"abcdef123456"}`
	bxBadReq    = `{"type":"error","status":400,"code":"bad_request","message":"Bad Request","context_info":{"message":"Users can not be NULL or EMPTY"},"request_id":"abcdef123456"}`
	bxTerminate = `{"user_ids":["` + bxID + `"],"user_logins":["` + bxEmail + `"]}`
)

func bxUsers(logins ...string) string {
	var es []string
	for i, l := range logins {
		es = append(es, fmt.Sprintf(`{"type":"user","id":"%d","login":%q}`, 11446498+i, l))
	}
	return fmt.Sprintf(`{"total_count":%d,"limit":1000,"offset":0,"entries":[%s]}`, len(es), strings.Join(es, ","))
}

func bxFind(offset, status int, body string) step {
	return step{Method: "GET", Path: "/2.0/users", Status: status, Body: body, Query: url.Values{"filter_term": {bxEmail}, "user_type": {"all"},
		"fields": {"id,login"}, "limit": {"1000"}, "offset": {fmt.Sprint(offset)}}}
}

func bxTerm(status int, body string) step {
	return step{Method: "POST", Path: "/2.0/users/terminate_sessions", Status: status, Body: body}
}

func TestBoxRevoke(t *testing.T) {
	limited := bxFind(0, 429, bxLimited)
	limited.Header = map[string]string{"Retry-After": "100"}
	unauth := bxFind(0, 401, "")
	unauth.Header = map[string]string{"WWW-Authenticate": `Bearer realm="Service", error="invalid_token", error_description="The access token provided is invalid."`}
	tests := []struct {
		name       string
		steps      []step
		want       offboard.Outcome
		kind       vendorapi.Kind
		retryAfter time.Duration
		text       []string
		body       string // the terminate_sessions body; "" means bxTerminate
	}{{
		name:  "the user with the login is asked to be logged out, which Box does in the background",
		steps: []step{bxFind(0, 200, bxUsers(bxEmail)), bxTerm(202, bxAccepted)},
		want:  offboard.Acknowledged,
	}, {
		name:  "users whose login only starts with the address are left alone",
		steps: []step{bxFind(0, 200, bxUsers(bxEmail+".au", bxEmail+"x"))},
		want:  offboard.NotFound,
	}, {
		name:  "a login in another case is the same login, and goes as Box spells it",
		steps: []step{bxFind(0, 200, bxUsers(strings.ToUpper(bxEmail))), bxTerm(202, bxAccepted)},
		want:  offboard.Acknowledged,
		body:  `{"user_ids":["` + bxID + `"],"user_logins":["` + strings.ToUpper(bxEmail) + `"]}`,
	}, {
		name:  "no user is not_found",
		steps: []step{bxFind(0, 200, `{"total_count":0,"limit":1000,"offset":0,"entries":[]}`)},
		want:  offboard.NotFound,
	}, {
		name:  "a service account that may not manage users is a permanent auth error with Box's code",
		steps: []step{bxFind(0, 200, bxUsers(bxEmail)), bxTerm(403, bxForbidden)},
		kind:  vendorapi.Auth,
		text:  []string{"box: POST /2.0/users/terminate_sessions", "access_denied_insufficient_permissions: Access denied - insufficient permission (request_id abcdef123456)"},
	}, {
		name:  "a refused request is permanent and says why",
		steps: []step{bxFind(0, 200, bxUsers(bxEmail)), bxTerm(400, bxBadReq)},
		kind:  vendorapi.Invalid,
		text:  []string{"bad_request: Bad Request: Users can not be NULL or EMPTY"},
	}, {
		name:       "a 429 waits what retry-after says",
		steps:      []step{limited},
		kind:       vendorapi.RateLimited,
		retryAfter: 100 * time.Second,
	}, {
		name:  "an invalid token (401, reason in the challenge) is a permanent auth error",
		steps: []step{unauth},
		kind:  vendorapi.Auth,
		text:  []string{"credentials rejected", "The access token provided is invalid."},
	}, {
		name:  "a server error is transient",
		steps: []step{bxFind(0, 503, bxDown)},
		kind:  vendorapi.Transient,
		text:  []string{"unavailable"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.body
			if body == "" {
				body = bxTerminate
			}
			srv := httptest.NewServer(boxFake(t, 0, "", body, tt.steps...))
			t.Cleanup(srv.Close)
			c, err := openBox(srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, detail := connectors.WithReport(t.Context())
			got, err := c.Revoke(ctx, offboard.Subject{Email: bxEmail})
			if tt.kind == 0 {
				if err != nil || got != tt.want {
					t.Fatalf("Revoke = %q, %v; want %q", got, err, tt.want)
				}
				if got == offboard.Acknowledged && !strings.Contains(detail(), "asynchronously") {
					t.Errorf("detail = %q, want it to say the job is asynchronous", detail())
				}
				return
			}
			e, ok := errors.AsType[*vendorapi.Error](err)
			if !ok || e.Kind != tt.kind || e.RetryAfter != tt.retryAfter {
				t.Fatalf("error = %v, want kind %v wait %v", err, tt.kind, tt.retryAfter)
			}
			for _, s := range tt.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if strings.Contains(err.Error(), bxSecret) || strings.Contains(err.Error(), bxToken) {
				t.Errorf("error holds a secret: %q", err)
			}
		})
	}
}

// A filter_term that matches more than a page of users is read to the end.
func TestBoxReadsEveryPage(t *testing.T) {
	var many []string
	for i := range 1000 {
		many = append(many, fmt.Sprintf("%s.%d", bxEmail, i))
	}
	first := strings.Replace(bxUsers(many...), `"total_count":1000`, `"total_count":1001`, 1)
	second := `{"total_count":1001,"limit":1000,"offset":1000,"entries":[{"type":"user","id":"` + bxID + `","login":"` + bxEmail + `"}]}`
	srv := httptest.NewServer(boxFake(t, 0, "", bxTerminate, bxFind(0, 200, first), bxFind(1000, 200, second), bxTerm(202, bxAccepted)))
	t.Cleanup(srv.Close)
	c, err := openBox(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := c.Revoke(t.Context(), offboard.Subject{Email: bxEmail}); err != nil || out != offboard.Acknowledged {
		t.Fatalf("Revoke = %q, %v", out, err)
	}
}

func TestBoxToken(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		body   string
		kind   vendorapi.Kind
		text   string
	}{
		{"a wrong client secret is a permanent auth error", 400, `{"error":"invalid_client","error_description":"The client credentials are invalid"}`, vendorapi.Auth, "The client credentials are invalid"},
		{"a wrong enterprise id is a permanent auth error", 400, `{"error":"invalid_grant","error_description":"Grant credentials are invalid"}`, vendorapi.Auth, "Grant credentials are invalid"},
		{"an app without enterprise access is permanent", 400, `{"error":"unauthorized_client","error_description":"The \"box_subject_type\" value is unauthorized for this client_id"}`, vendorapi.Auth, "box_subject_type"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(boxFake(t, tt.status, tt.body, ""))
			t.Cleanup(srv.Close)
			c, err := openBox(srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Revoke(t.Context(), offboard.Subject{Email: bxEmail})
			if !vendorapi.IsKind(err, tt.kind) || !strings.Contains(err.Error(), tt.text) || strings.Contains(err.Error(), bxSecret) {
				t.Fatalf("error = %v, want kind %v with %q", err, tt.kind, tt.text)
			}
		})
	}
}

func TestBoxCheck(t *testing.T) {
	probe := step{Method: "GET", Path: "/2.0/users", Query: url.Values{"limit": {"1"}, "fields": {"id"}}, Status: 200, Body: bxUsers(bxEmail)}
	srv := httptest.NewServer(boxFake(t, 0, "", "", probe))
	t.Cleanup(srv.Close)
	c, err := openBox(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.(connectors.Checker).Check(t.Context()); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

func TestBoxSettings(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]any
		want     []string
	}{{
		name:     "client_id, client_secret and enterprise_id are required",
		settings: map[string]any{},
		want:     []string{"(box).client_id: required", "(box).client_secret: required", "(box).enterprise_id: required"},
	}, {
		name: "an enterprise id that is not a number, a base_url with /2.0 and a bad token_url are each reported",
		settings: map[string]any{"client_id": bxClientID, "client_secret": bxSecret, "enterprise_id": "acme",
			"base_url": "https://api.box.com/2.0", "token_url": "ftp://api.box.com/oauth2/token"},
		want: []string{"(box).enterprise_id: required: the enterprise's numeric id", "(box).base_url: give the API root without /2.0", "(box).token_url:"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conformance.WantBuildErrors(t, types, "box", tt.settings, tt.want, bxSecret)
		})
	}
	t.Run("the defaults are Box's own hosts", func(t *testing.T) {
		if _, err := connectors.Build([]connectors.Spec{{Name: "box", Type: "box", Settings: map[string]any{
			"client_id": bxClientID, "client_secret": bxSecret, "enterprise_id": bxEnterprise}}}, types, connectors.Deps{}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestBoxConformance(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		New:     func(base string) (connectors.Connector, error) { return openBox(base, nil) },
		Secret:  bxSecret,
		Subject: offboard.Subject{Email: bxEmail},
		Handler: func(t *testing.T, s conformance.Scenario) http.Handler {
			switch s {
			case conformance.Success:
				return boxFake(t, 0, "", bxTerminate, bxFind(0, 200, bxUsers(bxEmail)), bxTerm(202, bxAccepted))
			case conformance.NotFound:
				return boxFake(t, 0, "", "", bxFind(0, 200, bxUsers()))
			case conformance.RateLimited:
				s := bxFind(0, 429, bxLimited)
				s.Header = map[string]string{"Retry-After": "100"}
				return boxFake(t, 0, "", "", s)
			case conformance.ServerError:
				return boxFake(t, 0, "", "", bxFind(0, 503, bxDown))
			case conformance.Unauthorized:
				s := bxFind(0, 401, "")
				s.Header = map[string]string{"WWW-Authenticate": `Bearer realm="Service", error="invalid_token", error_description="The access token provided is invalid."`}
				return boxFake(t, 0, "", "", s)
			}
			return conformance.Hanging()
		},
	})
}
