package google_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offboarder/offboarder/connectors/google"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/connectors/conformance"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// The fake below is shaped from Google's documentation: the Directory API's
// users.signOut, tokens.list and tokens.delete
// (https://developers.google.com/workspace/admin/directory/reference/rest/v1/),
// its error body and rate-limit answers
// (https://developers.google.com/workspace/admin/directory/v1/limits), and the
// service-account token exchange
// (https://developers.google.com/identity/protocols/oauth2/service-account).

const (
	googleSA          = "offboarder@offboarder-test.iam.gserviceaccount.com"
	googleKeyID       = "4f1c0c7e2b8a4d6f9e3a1b2c3d4e5f6a7b8c9d0e"
	googleAdmin       = "admin@example.com"
	googleEmail       = "isaac.brock@example.com"
	googleID          = "118234567890123456789"
	googleAccessToken = "ya29.a0-test-access-token"
	googleJWTBearer   = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	googleUserScope   = "https://www.googleapis.com/auth/admin.directory.user.security"
)

var googleHeaders = http.Header{
	"Authorization": {"Bearer " + googleAccessToken},
	"User-Agent":    {"offboarder"},
	"Accept":        {"application/json"},
}

// googleKey is a throwaway service-account key, made once per test binary.
var googleKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func googlePEM() string {
	der, err := x509.MarshalPKCS8PrivateKey(googleKey())
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// googleCredentials is a service-account JSON key as Google's console
// downloads it.
func googleCredentials(tokenURI string) string {
	b, _ := json.Marshal(map[string]string{
		"type":                        "service_account",
		"project_id":                  "offboarder-test",
		"private_key_id":              googleKeyID,
		"private_key":                 googlePEM(),
		"client_email":                googleSA,
		"client_id":                   "104857600000000000001",
		"auth_uri":                    "https://accounts.google.com/o/oauth2/auth",
		"token_uri":                   tokenURI,
		"auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
		"client_x509_cert_url":        "https://www.googleapis.com/robot/v1/metadata/x509/offboarder%40offboarder-test.iam.gserviceaccount.com",
		"universe_domain":             "googleapis.com",
	})
	return string(b)
}

// openGoogle opens a google connector through the registry; extra settings
// replace the defaults (base_url, token_url = base + /token, credentials).
func openGoogle(baseURL string, extra map[string]any) (connectors.Connector, error) {
	settings := map[string]any{
		"base_url":    baseURL,
		"token_url":   baseURL + "/token",
		"admin_email": googleAdmin,
		"credentials": googleCredentials("https://oauth2.googleapis.com/token"),
	}
	for k, v := range extra {
		if v == nil {
			delete(settings, k)
		} else {
			settings[k] = v
		}
	}
	cs, err := connectors.Build([]connectors.Spec{{Name: "google", Type: "google", Settings: settings}}, types, connectors.Deps{})
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

// googleTokenAnswer is what the fake token endpoint answers; the zero value
// issues googleAccessToken.
type googleTokenAnswer struct {
	status int
	body   string
}

// googleFake serves the token endpoint at POST /token, checking the JWT
// bearer grant, and the scripted Directory API everywhere else.
func googleFake(t *testing.T, tok googleTokenAnswer, steps ...step) http.Handler {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		checkGoogleAssertion(t, r)
		w.Header().Set("Content-Type", "application/json")
		if tok.status != 0 {
			w.WriteHeader(tok.status)
			fmt.Fprint(w, tok.body)
			return
		}
		fmt.Fprintf(w, `{"access_token":%q,"expires_in":3599,"token_type":"Bearer"}`, googleAccessToken)
	})
	mux.Handle("/", conformance.Script(t, googleHeaders, steps...))
	return mux
}

// checkGoogleAssertion checks a token request as Google's token endpoint
// would: the jwt-bearer grant, an RS256 assertion signed by the service
// account's key, iss = the service account, sub = the admin, the scope, aud
// = this endpoint, and a live exp.
func checkGoogleAssertion(t *testing.T, r *http.Request) {
	t.Helper()
	if err := r.ParseForm(); err != nil {
		t.Errorf("token request: %v", err)
		return
	}
	if g := r.PostForm.Get("grant_type"); g != googleJWTBearer {
		t.Errorf("grant_type = %q, want %q", g, googleJWTBearer)
	}
	parts := strings.Split(r.PostForm.Get("assertion"), ".")
	if len(parts) != 3 {
		t.Errorf("assertion is not a JWS compact serialization")
		return
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err != nil || rsa.VerifyPKCS1v15(&googleKey().PublicKey, crypto.SHA256, digest[:], sig) != nil {
		t.Errorf("assertion signature does not verify with the service account's key")
	}
	var head struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	var claims struct {
		Iss   string `json:"iss"`
		Sub   string `json:"sub"`
		Scope string `json:"scope"`
		Aud   string `json:"aud"`
		Exp   int64  `json:"exp"`
	}
	for i, v := range []any{&head, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(b, v) != nil {
			t.Errorf("assertion part %d is not base64url JSON", i)
		}
	}
	if head.Alg != "RS256" || head.Kid != googleKeyID {
		t.Errorf("assertion header = %+v, want RS256 with kid %s", head, googleKeyID)
	}
	if aud := "http://" + r.Host + "/token"; claims.Iss != googleSA || claims.Sub != googleAdmin || claims.Scope != googleUserScope || claims.Aud != aud {
		t.Errorf("claims = %+v, want iss %s, sub %s, scope %s, aud %s", claims, googleSA, googleAdmin, googleUserScope, aud)
	}
	if time.Unix(claims.Exp, 0).Before(time.Now()) {
		t.Errorf("assertion expired at %d", claims.Exp)
	}
}

func googleErr(code int, status, reason, message string) string {
	return fmt.Sprintf(`{"error":{"code":%d,"message":%q,"errors":[{"message":%q,"domain":"global","reason":%q}],"status":%q}}`,
		code, message, message, reason, status)
}

func googleTokenList(clientIDs ...string) string {
	var items []string
	for _, id := range clientIDs {
		items = append(items, `{"kind":"admin#directory#token","etag":"\"e1\"","clientId":"`+id+
			`","displayText":"App `+id+`","anonymous":false,"nativeApp":false,"userKey":"`+googleID+
			`","scopes":["https://www.googleapis.com/auth/drive"]}`)
	}
	list := `{"kind":"admin#directory#tokenList","etag":"\"e0\""`
	if len(items) > 0 { // Google leaves an empty items out
		list += `,"items":[` + strings.Join(items, ",") + `]`
	}
	return list + "}"
}

var (
	googleNotFound     = googleErr(404, "NOT_FOUND", "notFound", "Resource Not Found: userKey")
	googleInvalidCreds = googleErr(401, "UNAUTHENTICATED", "authError", "Invalid Credentials")
	googleForbidden    = googleErr(403, "PERMISSION_DENIED", "forbidden", "Not Authorized to access this resource/api")
	googleUserRate     = `{"error":{"code":403,"message":"User Rate Limit Exceeded","errors":[{"message":"User Rate Limit Exceeded","domain":"usageLimits","reason":"userRateLimitExceeded"}],"status":"PERMISSION_DENIED"}}`
	googleDailyLimit   = `{"error":{"code":403,"message":"Daily Limit Exceeded","errors":[{"message":"Daily Limit Exceeded","domain":"usageLimits","reason":"dailyLimitExceeded"}],"status":"PERMISSION_DENIED"}}`
	googleRate         = `{"error":{"code":429,"message":"Quota exceeded for quota metric 'Queries'","errors":[{"message":"Quota exceeded for quota metric 'Queries'","domain":"usageLimits","reason":"rateLimitExceeded"}],"status":"RESOURCE_EXHAUSTED"}}`
	googleBackend      = googleErr(503, "UNAVAILABLE", "backendError", "The service is currently unavailable.")
)

func signOut(key string, status int, body string) step {
	return step{Method: "POST", Path: "/admin/directory/v1/users/" + key + "/signOut", Status: status, Body: body}
}

func listTokens(key string, status int, body string) step {
	return step{Method: "GET", Path: "/admin/directory/v1/users/" + key + "/tokens", Status: status, Body: body}
}

// signedOutNoTokens is the whole exchange for a user without tokens: the
// sign-out together with the first listing, then the listing read once the
// sign-out has answered.
func signedOutNoTokens(key string) []step {
	return []step{signOut(key, 204, ""), listTokens(key, 200, googleTokenList()).With(), listTokens(key, 200, googleTokenList())}
}

func deleteToken(key, clientID string, status int, body string) step {
	return step{Method: "DELETE", Path: "/admin/directory/v1/users/" + key + "/tokens/" + clientID, Status: status, Body: body}
}

func withHeader(s step, k, v string) step {
	s.Header = map[string]string{k: v}
	return s
}

func TestGoogleRevoke(t *testing.T) {
	const appA, appB = "1234567890-a.apps.googleusercontent.com", "anonymous-b"
	tests := []struct {
		name       string
		subject    offboard.Subject
		steps      []step
		want       offboard.Outcome
		kind       vendorapi.Kind // 0: no error
		status     int            // the error's status, when kind != 0
		retryAfter time.Duration  // minimum vendorapi.RetryAfter expected
		text       []string       // in the error text
	}{{
		name:    "a user is signed out, every token is deleted and a second listing shows none",
		subject: offboard.Subject{Email: googleEmail},
		steps: []step{
			signOut(googleEmail, 204, ""), listTokens(googleEmail, 200, googleTokenList(appA, appB)).With(),
			deleteToken(googleEmail, appA, 204, ""), deleteToken(googleEmail, appB, 204, "").With(),
			listTokens(googleEmail, 200, googleTokenList()),
		},
		want: offboard.Verified,
	}, {
		name:    "a user without tokens is signed out, listed again after the sign-out and verified",
		subject: offboard.Subject{Email: googleEmail},
		steps:   signedOutNoTokens(googleEmail),
		want:    offboard.Verified,
	}, {
		name:    "a google id on the subject is the user key",
		subject: offboard.Subject{Email: googleEmail, IDs: map[string]string{"google": googleID}},
		steps:   signedOutNoTokens(googleID),
		want:    offboard.Verified,
	}, {
		name:    "a google id unknown to this workspace falls back to the email",
		subject: offboard.Subject{Email: googleEmail, IDs: map[string]string{"google": "999"}},
		steps: []step{
			signOut("999", 404, googleNotFound).Maybe(), listTokens("999", 404, googleNotFound).Maybe(),
			signOut(googleEmail, 204, ""), listTokens(googleEmail, 200, googleTokenList()).With(),
			listTokens(googleEmail, 200, googleTokenList()),
		},
		want: offboard.Verified,
	}, {
		name:    "a user absent from google is not_found",
		subject: offboard.Subject{Email: googleEmail},
		steps:   []step{signOut(googleEmail, 404, googleNotFound).Maybe(), listTokens(googleEmail, 404, googleNotFound).Maybe()},
		want:    offboard.NotFound,
	}, {
		name:    "a user deleted while being signed out is not_found",
		subject: offboard.Subject{Email: googleEmail},
		steps:   []step{signOut(googleEmail, 204, "").Maybe(), listTokens(googleEmail, 404, googleNotFound).With()},
		want:    offboard.NotFound,
	}, {
		name:    "a token already gone when deleted counts as deleted",
		subject: offboard.Subject{Email: googleEmail},
		steps: []step{
			signOut(googleEmail, 204, ""), listTokens(googleEmail, 200, googleTokenList(appA)).With(),
			deleteToken(googleEmail, appA, 404, googleErr(404, "NOT_FOUND", "notFound", "Resource Not Found: clientId")),
			listTokens(googleEmail, 200, googleTokenList()),
		},
		want: offboard.Verified,
	}, {
		name:    "a token that shows up in the second listing is deleted once more",
		subject: offboard.Subject{Email: googleEmail},
		steps: []step{
			signOut(googleEmail, 204, ""), listTokens(googleEmail, 200, googleTokenList(appA)).With(),
			deleteToken(googleEmail, appA, 204, ""), listTokens(googleEmail, 200, googleTokenList(appB)),
			deleteToken(googleEmail, appB, 204, ""), listTokens(googleEmail, 200, googleTokenList()),
		},
		want: offboard.Verified,
	}, {
		name:    "tokens that keep appearing leave the revoke acknowledged after two rounds",
		subject: offboard.Subject{Email: googleEmail},
		steps: []step{
			signOut(googleEmail, 204, ""), listTokens(googleEmail, 200, googleTokenList(appA)).With(),
			deleteToken(googleEmail, appA, 204, ""), listTokens(googleEmail, 200, googleTokenList(appA)),
			deleteToken(googleEmail, appA, 204, ""), listTokens(googleEmail, 200, googleTokenList(appA)),
		},
		want: offboard.Acknowledged,
	}, {
		name:       "a 403 userRateLimitExceeded is a retryable rate limit, not an auth error",
		subject:    offboard.Subject{Email: googleEmail},
		steps:      []step{withHeader(signOut(googleEmail, 403, googleUserRate), "Retry-After", "30"), listTokens(googleEmail, 200, googleTokenList()).With()},
		kind:       vendorapi.RateLimited,
		status:     403,
		retryAfter: 30 * time.Second,
		text:       []string{"rate limited", "userRateLimitExceeded"},
	}, {
		name:    "a 403 userRateLimitExceeded with a short Retry-After is waited out inside the attempt",
		subject: offboard.Subject{Email: googleEmail},
		steps: []step{
			withHeader(signOut(googleEmail, 403, googleUserRate), "Retry-After", "1"),
			signOut(googleEmail, 204, "").With(), listTokens(googleEmail, 200, googleTokenList()).With(),
			listTokens(googleEmail, 200, googleTokenList()),
		},
		want: offboard.Verified,
	}, {
		name:       "a 429 rateLimitExceeded goes back to the queue with its Retry-After",
		subject:    offboard.Subject{Email: googleEmail},
		steps:      []step{signOut(googleEmail, 204, ""), withHeader(listTokens(googleEmail, 429, googleRate), "Retry-After", "45").With()},
		kind:       vendorapi.RateLimited,
		status:     429,
		retryAfter: 45 * time.Second,
		text:       []string{"RESOURCE_EXHAUSTED", "rateLimitExceeded"},
	}, {
		name:    "a 403 without a rate-limit reason is a permanent auth error",
		subject: offboard.Subject{Email: googleEmail},
		steps:   []step{signOut(googleEmail, 403, googleForbidden), listTokens(googleEmail, 200, googleTokenList()).Maybe()},
		kind:    vendorapi.Auth,
		status:  403,
		text:    []string{"missing scope or permission", "Not Authorized to access this resource/api"},
	}, {
		name:    "a 403 dailyLimitExceeded stays permanent, as google says not to retry it",
		subject: offboard.Subject{Email: googleEmail},
		steps:   []step{signOut(googleEmail, 403, googleDailyLimit), listTokens(googleEmail, 200, googleTokenList()).Maybe()},
		kind:    vendorapi.Auth,
		status:  403,
		text:    []string{"dailyLimitExceeded"},
	}, {
		name:    "a rejected access token is a permanent auth error that names the credentials",
		subject: offboard.Subject{Email: googleEmail},
		steps:   []step{signOut(googleEmail, 401, googleInvalidCreds), listTokens(googleEmail, 200, googleTokenList()).Maybe()},
		kind:    vendorapi.Auth,
		status:  401,
		text:    []string{"google: ", "credentials rejected", "UNAUTHENTICATED: Invalid Credentials (reason authError)"},
	}, {
		name:    "a google backend error while deleting a token is transient",
		subject: offboard.Subject{Email: googleEmail},
		steps: []step{
			signOut(googleEmail, 204, ""), listTokens(googleEmail, 200, googleTokenList(appA)).With(),
			deleteToken(googleEmail, appA, 503, googleBackend),
		},
		kind:   vendorapi.Transient,
		status: 503,
		text:   []string{"backendError"},
	}, {
		name:    "a subject with neither an email nor a google id is invalid and sends nothing",
		subject: offboard.Subject{},
		kind:    vendorapi.Invalid,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(googleFake(t, googleTokenAnswer{}, tt.steps...))
			t.Cleanup(srv.Close)
			c, err := openGoogle(srv.URL, nil)
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
			if e.Kind != tt.kind || e.Status != tt.status {
				t.Errorf("kind, status = %v, %d, want %v, %d (%v)", e.Kind, e.Status, tt.kind, tt.status, err)
			}
			if e.RetryAfter < tt.retryAfter || e.RetryAfter > tt.retryAfter+time.Second {
				t.Errorf("RetryAfter = %v, want %v", e.RetryAfter, tt.retryAfter)
			}
			for _, s := range tt.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

func TestGoogleToken(t *testing.T) {
	tests := []struct {
		name  string
		tok   googleTokenAnswer
		extra func(base string) map[string]any
		kind  vendorapi.Kind // 0: the revoke succeeds
		text  []string
	}{{
		name: "token_url wins over the key's token_uri",
		extra: func(base string) map[string]any {
			return map[string]any{"credentials": googleCredentials(base + "/elsewhere")}
		},
	}, {
		name: "without token_url the key's token_uri is used",
		extra: func(base string) map[string]any {
			return map[string]any{"token_url": nil, "credentials": googleCredentials(base + "/token")}
		},
	}, {
		name: "a rejected assertion (400 invalid_grant) is a permanent auth error",
		tok:  googleTokenAnswer{400, `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`},
		kind: vendorapi.Auth,
		text: []string{"fetching an access token", "credentials rejected", "invalid_grant: Invalid JWT Signature."},
	}, {
		name: "delegation not granted (401 unauthorized_client) is a permanent auth error",
		tok: googleTokenAnswer{401, `{"error":"unauthorized_client","error_description":"Client is unauthorized to retrieve ` +
			`access tokens using this method, or client not authorized for any of the scopes requested."}`},
		kind: vendorapi.Auth,
		text: []string{"credentials rejected", "unauthorized_client"},
	}, {
		name: "a failing token endpoint is transient",
		tok:  googleTokenAnswer{503, `{"error":"temporarily_unavailable"}`},
		kind: vendorapi.Transient,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var steps []step
			if tt.kind == 0 {
				steps = signedOutNoTokens(googleEmail)
			}
			srv := httptest.NewServer(googleFake(t, tt.tok, steps...))
			t.Cleanup(srv.Close)
			var extra map[string]any
			if tt.extra != nil {
				extra = tt.extra(srv.URL)
			}
			c, err := openGoogle(srv.URL, extra)
			if err != nil {
				t.Fatal(err)
			}
			out, err := c.Revoke(t.Context(), offboard.Subject{Email: googleEmail})
			if tt.kind == 0 {
				if err != nil || out != offboard.Verified {
					t.Fatalf("Revoke = %q, %v; want verified", out, err)
				}
				return
			}
			if e, ok := errors.AsType[*vendorapi.Error](err); !ok || e.Kind != tt.kind {
				t.Fatalf("error = %v, want kind %v", err, tt.kind)
			}
			for _, s := range append(tt.text, "google: ") {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") {
				t.Errorf("error holds the key: %q", err)
			}
		})
	}
}

func TestGoogleCheck(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		kind   vendorapi.Kind
	}{
		{"credentials that can list the admin's tokens pass", 200, googleTokenList(), 0},
		{"an admin without the privilege fails with an auth error", 403, googleForbidden, vendorapi.Auth},
		{"a rejected access token fails with an auth error", 401, googleInvalidCreds, vendorapi.Auth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(googleFake(t, googleTokenAnswer{}, listTokens(googleAdmin, tt.status, tt.body)))
			t.Cleanup(srv.Close)
			c, err := openGoogle(srv.URL, nil)
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

func TestGoogleSettings(t *testing.T) {
	keyOnly := func(mut func(map[string]string)) string {
		var m map[string]string
		_ = json.Unmarshal([]byte(googleCredentials("https://oauth2.googleapis.com/token")), &m)
		mut(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	tests := []struct {
		name     string
		settings map[string]any
		want     []string
	}{{
		name:     "credentials and admin_email are required",
		settings: map[string]any{},
		want:     []string{"(google).admin_email: required", "(google).credentials: required"},
	}, {
		name:     "credentials that are not json say so",
		settings: map[string]any{"credentials": "-----BEGIN PRIVATE KEY-----", "admin_email": googleAdmin},
		want:     []string{"(google).credentials: not a service account json key"},
	}, {
		name: "an oauth client's json is not a service account key",
		settings: map[string]any{"admin_email": googleAdmin,
			"credentials": keyOnly(func(m map[string]string) { m["type"] = "authorized_user" })},
		want: []string{`(google).credentials: not a service account json key (its "type" must be "service_account")`},
	}, {
		name: "a private key that does not parse is named",
		settings: map[string]any{"admin_email": googleAdmin,
			"credentials": keyOnly(func(m map[string]string) {
				m["private_key"] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
			})},
		want: []string{"(google).credentials: the json key's private_key: cannot be parsed as an RSA private key"},
	}, {
		name: "the api path in base_url, a bad token_url and a bad admin_email are each reported",
		settings: map[string]any{"credentials": googleCredentials("https://oauth2.googleapis.com/token"),
			"admin_email": "Admin <admin@example.com>", "base_url": "https://admin.googleapis.com/admin/directory/v1",
			"token_url": "oauth2.googleapis.com/token"},
		want: []string{
			"(google).base_url: give the root without /admin/directory/v1, e.g. https://admin.googleapis.com",
			"(google).token_url: must be an http or https url",
			"(google).admin_email: must be a bare address like admin@example.com",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conformance.WantBuildErrors(t, types, "google", tt.settings, tt.want, "PRIVATE KEY", googleSA)
		})
	}
	t.Run("a good config prints no key", func(t *testing.T) {
		c := google.Config{Credentials: vendorapi.Secret(googleCredentials("")), AdminEmail: googleAdmin}
		if s := fmt.Sprintf("%+v %#v", c, c); strings.Contains(s, "PRIVATE KEY") {
			t.Errorf("config prints its key: %s", s)
		}
	})
}

func TestGoogleConformance(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		New:     func(base string) (connectors.Connector, error) { return openGoogle(base, nil) },
		Secret:  googlePEM(),
		Subject: offboard.Subject{Email: googleEmail},
		Handler: func(t *testing.T, s conformance.Scenario) http.Handler {
			switch s {
			case conformance.Success:
				return googleFake(t, googleTokenAnswer{}, signedOutNoTokens(googleEmail)...)
			case conformance.NotFound:
				return googleFake(t, googleTokenAnswer{}, signOut(googleEmail, 404, googleNotFound).Maybe(), listTokens(googleEmail, 404, googleNotFound).Maybe())
			case conformance.RateLimited:
				return googleFake(t, googleTokenAnswer{}, withHeader(signOut(googleEmail, 429, googleRate), "Retry-After", "30"), listTokens(googleEmail, 200, googleTokenList()).With())
			case conformance.ServerError:
				return googleFake(t, googleTokenAnswer{}, signOut(googleEmail, 503, googleBackend), listTokens(googleEmail, 200, googleTokenList()).With())
			case conformance.Unauthorized:
				return googleFake(t, googleTokenAnswer{}, signOut(googleEmail, 401, googleInvalidCreds), listTokens(googleEmail, 200, googleTokenList()).Maybe())
			}
			return conformance.Hanging()
		},
	})
}

// step is one scripted exchange of the Google fake.
type step = conformance.Step

// types holds the google type alone, for Build.
var types = map[string]func() connectors.Config{"google": func() connectors.Config { return new(google.Config) }}
