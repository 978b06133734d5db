package aws_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/connectors/aws"
	"github.com/offboarder/offboarder/connectors/conformance"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

const (
	awsKeyID  = "AKIAOFFBOARDERTEST01"
	awsSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYtestSECRET"
	email     = "isaac.brock@example.com"
	keyA      = "AKIAISAACKEYAAAA1111"
	keyB      = "AKIAISAACKEYBBBB2222"
)

// types holds the aws type alone, for Build.
var types = map[string]func() connectors.Config{"aws": func() connectors.Config { return new(aws.Config) }}

// credentials gives the SDK's default chain the test's static keys through
// the environment, and nothing else to find.
func credentials(t testing.TB) {
	t.Helper()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": awsKeyID, "AWS_SECRET_ACCESS_KEY": awsSecret, "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": "/nonexistent/aws-config", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_IAM": "",
	} {
		t.Setenv(k, v)
	}
}

// open builds an aws connector against base with the extra settings.
func open(t testing.TB, base string, extra map[string]any) connectors.Connector {
	t.Helper()
	settings := map[string]any{"base_url": base}
	for k, v := range extra {
		settings[k] = v
	}
	cs, err := connectors.Build([]connectors.Spec{{Name: "aws", Type: "aws", Settings: settings}}, types, connectors.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return cs[0]
}

// The exchanges of one revoke.
var (
	listIsaac   = step{Action: "ListUsers", Body: users("", "isaac", "bob")}
	tagsIsaac   = step{Action: "ListUserTags", Params: user("isaac"), Body: tags("team", "ops", "email", "Isaac.Brock@example.com")}
	tagsBob     = step{Action: "ListUserTags", Params: user("bob"), Body: tags("email", "bob@example.com")}
	keysBefore  = step{Action: "ListAccessKeys", Params: user("isaac"), Body: keys("isaac", keyA+":Active", keyB+":Inactive")}
	deactivateA = step{Action: "UpdateAccessKey", Params: url.Values{"UserName": {"isaac"}, "AccessKeyId": {keyA}, "Status": {"Inactive"}}, Body: result("UpdateAccessKey", "")}
	delProfile  = step{Action: "DeleteLoginProfile", Params: user("isaac"), Body: result("DeleteLoginProfile", "")}
	putPolicy   = step{Action: "PutUserPolicy", Params: url.Values{"UserName": {"isaac"}, "PolicyName": {"AWSRevokeOlderSessions"}}, Body: result("PutUserPolicy", "")}
	keysAfter   = step{Action: "ListAccessKeys", Params: user("isaac"), Body: keys("isaac", keyA+":Inactive", keyB+":Inactive")}
	noProfile   = step{Action: "GetLoginProfile", Params: user("isaac"), Status: 404, Body: noEntity("Login Profile for User isaac cannot be found.")}
	policyBack  = step{Action: "GetUserPolicy", Params: url.Values{"UserName": {"isaac"}, "PolicyName": {"AWSRevokeOlderSessions"}}, Echo: true}
)

// revoked is the whole exchange of a leaver found by tag whose one active
// key is deactivated, password deleted and policy put, all read back.
func revoked() []step {
	return []step{listIsaac, tagsIsaac, tagsBob, keysBefore, deactivateA, delProfile, putPolicy, keysAfter, noProfile, policyBack}
}

func TestAWSRevoke(t *testing.T) {
	credentials(t)
	throttled := iamError("Sender", "Throttling", "Rate exceeded")
	denied := iamError("Sender", "AccessDenied", "User: arn:aws:iam::123456789012:user/offboarder is not authorized to perform: iam:UpdateAccessKey")
	tests := []struct {
		name     string
		subject  offboard.Subject
		settings map[string]any
		steps    []step
		want     offboard.Outcome
		kind     vendorapi.Kind // 0: no error
		detail   []string       // in the detail
		text     []string       // in the error text
	}{{
		name:    "a leaver's active key is deactivated, password deleted and older sessions denied, all read back",
		subject: offboard.Subject{Email: email, Reason: offboard.ReasonTerminated},
		steps:   revoked(),
		want:    offboard.Verified,
		detail: []string{"iam user isaac: access key …1111 deactivated", "access key …2222 already inactive", "console password deleted",
			"temporary credentials issued before", "denied by the inline policy AWSRevokeOlderSessions"},
	}, {
		name:    "a security reset leaves keys and password and still denies older sessions",
		subject: offboard.Subject{Email: email, Reason: offboard.ReasonSecurity},
		steps:   []step{listIsaac, tagsIsaac, tagsBob, keysBefore, putPolicy, policyBack},
		want:    offboard.Verified,
		detail: []string{`access keys …1111 left active (requests they sign are not denied) and console password not deleted: the reason is "security", and disable_for is terminated, deactivated`,
			"denied by the inline policy AWSRevokeOlderSessions"},
	}, {
		name:     "disable_for lets a security reset end the credentials too",
		subject:  offboard.Subject{Email: email, Reason: offboard.ReasonSecurity},
		settings: map[string]any{"disable_for": []any{"security"}},
		steps:    revoked(),
		want:     offboard.Verified,
		detail:   []string{"access key …1111 deactivated"},
	}, {
		name:    "a user without keys or password gets the policy alone",
		subject: offboard.Subject{Email: email, Reason: offboard.ReasonDeactivated},
		steps: []step{listIsaac, tagsIsaac, tagsBob, {Action: "ListAccessKeys", Params: user("isaac"), Body: keys("isaac")},
			{Action: "DeleteLoginProfile", Params: user("isaac"), Status: 404, Body: noEntity("Login Profile for User isaac cannot be found.")},
			putPolicy, {Action: "ListAccessKeys", Params: user("isaac"), Body: keys("isaac")}, noProfile, policyBack},
		want:   offboard.Verified,
		detail: []string{"iam user isaac: no access keys; no console password; temporary credentials issued before"},
	}, {
		name:    "users are found across ListUsers pages",
		subject: offboard.Subject{Email: email, Reason: offboard.ReasonTerminated},
		steps: append([]step{{Action: "ListUsers", Body: users("page-2", "bob")}, tagsBob,
			{Action: "ListUsers", Params: url.Values{"Marker": {"page-2"}}, Body: users("", "isaac")}, tagsIsaac},
			keysBefore, deactivateA, delProfile, putPolicy, keysAfter, noProfile, policyBack),
		want: offboard.Verified,
	}, {
		name:     "user_name finds the user by its name instead of a tag",
		subject:  offboard.Subject{Email: "isaac@example.com", Reason: offboard.ReasonTerminated},
		settings: map[string]any{"user_name": "{{.LocalPart}}"},
		steps: []step{{Action: "GetUser", Params: user("isaac"), Body: result("GetUser", "<User>"+userXML("isaac")+"</User>")},
			keysBefore, deactivateA, delProfile, putPolicy, keysAfter, noProfile, policyBack},
		want: offboard.Verified,
	}, {
		name:     "user_name naming no user is not_found",
		subject:  offboard.Subject{Email: "isaac@example.com", Reason: offboard.ReasonTerminated},
		settings: map[string]any{"user_name": "{{.LocalPart}}"},
		steps:    []step{{Action: "GetUser", Params: user("isaac"), Status: 404, Body: noEntity("The user with name isaac cannot be found.")}},
		want:     offboard.NotFound,
	}, {
		name:    "no user tagged with the email is not_found",
		subject: offboard.Subject{Email: "dana@example.com", Reason: offboard.ReasonTerminated},
		steps:   []step{listIsaac, tagsIsaac, tagsBob},
		want:    offboard.NotFound,
	}, {
		name:    "a user deleted after the listing is passed over",
		subject: offboard.Subject{Email: email, Reason: offboard.ReasonTerminated},
		steps: []step{listIsaac, tagsIsaac, {Action: "ListUserTags", Params: user("bob"), Status: 404, Body: noEntity("The user with name bob cannot be found.")},
			{Action: "ListAccessKeys", Params: user("isaac"), Status: 404, Body: noEntity("The user with name isaac cannot be found.")}},
		want: offboard.NotFound,
	}, {
		name:    "a key still reading active is acknowledged, not verified",
		subject: offboard.Subject{Email: email, Reason: offboard.ReasonTerminated},
		steps: []step{listIsaac, tagsIsaac, tagsBob, keysBefore, deactivateA, delProfile, putPolicy,
			keysBefore, noProfile, policyBack},
		want:   offboard.Acknowledged,
		detail: []string{"still reading active: access keys …1111"},
	}, {
		name:    "credentials that may act but not read back give acknowledged",
		subject: offboard.Subject{Email: email, Reason: offboard.ReasonTerminated},
		steps: []step{listIsaac, tagsIsaac, tagsBob, keysBefore, deactivateA, delProfile, putPolicy,
			{Action: "ListAccessKeys", Params: user("isaac"), Status: 403, Body: denied, Optional: true},
			{Action: "GetLoginProfile", Params: user("isaac"), Status: 403, Body: denied, Optional: true},
			{Action: "GetUserPolicy", Params: user("isaac"), Status: 403, Body: denied, Optional: true}},
		want:   offboard.Acknowledged,
		detail: []string{"not read back"},
	}, {
		name:    "credentials without iam:UpdateAccessKey are a permanent auth error",
		subject: offboard.Subject{Email: email, Reason: offboard.ReasonTerminated},
		steps: []step{listIsaac, tagsIsaac, tagsBob, keysBefore, {Action: "UpdateAccessKey", Status: 403, Body: denied},
			{Action: "DeleteLoginProfile", Body: result("DeleteLoginProfile", ""), Optional: true},
			{Action: "PutUserPolicy", Body: result("PutUserPolicy", ""), Optional: true}},
		kind: vendorapi.Auth,
		text: []string{"aws: UpdateAccessKey: missing permission", `aws said "AccessDenied: User: arn:aws:iam::123456789012:user/offboarder is not authorized`},
	}, {
		name:    "Throttling (400) is a rate limit with a wait",
		subject: offboard.Subject{Email: email, Reason: offboard.ReasonTerminated},
		steps:   []step{{Action: "ListUsers", Status: 400, Body: throttled}},
		kind:    vendorapi.RateLimited,
		text:    []string{"aws: ListUsers: rate limited by IAM; retry after", `aws said "Throttling: Rate exceeded"`},
	}, {
		name:    "ServiceFailure (500) is transient",
		subject: offboard.Subject{Email: email, Reason: offboard.ReasonTerminated},
		steps:   []step{{Action: "ListUsers", Status: 500, Body: iamError("Receiver", "ServiceFailure", "The request processing has failed because of an unknown error, exception or failure.")}},
		kind:    vendorapi.Transient,
	}, {
		name:    "an unknown access key is a credentials error",
		subject: offboard.Subject{Email: email, Reason: offboard.ReasonTerminated},
		steps:   []step{{Action: "ListUsers", Status: 403, Body: iamError("Sender", "InvalidClientTokenId", "The security token included in the request is invalid.")}},
		kind:    vendorapi.Auth,
		text:    []string{"credentials rejected", "InvalidClientTokenId"},
	}, {
		name:    "a malformed policy is invalid, for a person to look at",
		subject: offboard.Subject{Email: email, Reason: offboard.ReasonSecurity},
		steps: []step{listIsaac, tagsIsaac, tagsBob, keysBefore,
			{Action: "PutUserPolicy", Status: 400, Body: iamError("Sender", "MalformedPolicyDocument", "Syntax errors in policy.")}},
		kind: vendorapi.Invalid,
		text: []string{"aws: PutUserPolicy: request rejected as invalid", "MalformedPolicyDocument"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(iamFake(t, tt.steps...))
			t.Cleanup(srv.Close)
			ctx, detail := connectors.WithReport(t.Context())
			out, err := open(t, srv.URL, tt.settings).Revoke(ctx, tt.subject)
			if tt.kind != 0 {
				e, ok := err.(*vendorapi.Error)
				if !ok || e.Kind != tt.kind {
					t.Fatalf("Revoke = %q, %v; want a %v error", out, err, tt.kind)
				}
				if tt.kind == vendorapi.RateLimited && (e.RetryAfter < time.Second || e.RetryAfter > 20*time.Second) {
					t.Errorf("RetryAfter = %v, want 1s to 20s", e.RetryAfter)
				}
				for _, s := range tt.text {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not hold %q", err, s)
					}
				}
				return
			}
			if err != nil || out != tt.want {
				t.Fatalf("Revoke = %q, %v; want %q", out, err, tt.want)
			}
			for _, s := range tt.detail {
				if !strings.Contains(detail(), s) {
					t.Errorf("detail %q does not hold %q", detail(), s)
				}
			}
			if strings.Contains(detail(), keyA) || strings.Contains(detail(), keyB) {
				t.Errorf("detail spells out a whole access key id: %q", detail())
			}
		})
	}
}

// The policy put is AWS's documented deny-all for temporary credentials
// issued before now, the console's AWSRevokeOlderSessions.
func TestAWSPolicyDocument(t *testing.T) {
	credentials(t)
	var got string
	fake := iamFake(t, revoked()...)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err == nil && r.PostForm.Get("Action") == "PutUserPolicy" {
			got = r.PostForm.Get("PolicyDocument")
		}
		r.Body = http.NoBody
		if r.PostForm != nil {
			r.Body = readCloser(r.PostForm.Encode())
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	before := time.Now().UTC().Truncate(time.Second)
	if out, err := open(t, srv.URL, nil).Revoke(t.Context(), offboard.Subject{Email: email, Reason: offboard.ReasonTerminated}); err != nil || out != offboard.Verified {
		t.Fatalf("Revoke = %q, %v", out, err)
	}
	var doc struct {
		Version   string
		Statement []struct {
			Effect    string
			Action    []string
			Resource  []string
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(got), &doc); err != nil || doc.Version != "2012-10-17" || len(doc.Statement) != 1 {
		t.Fatalf("policy %q: %v", got, err)
	}
	s := doc.Statement[0]
	if s.Effect != "Deny" || len(s.Action) != 1 || s.Action[0] != "*" || len(s.Resource) != 1 || s.Resource[0] != "*" {
		t.Errorf("statement = %+v, want Deny * on *", s)
	}
	at, err := time.Parse(time.RFC3339, s.Condition["DateLessThan"]["aws:TokenIssueTime"])
	if err != nil || at.Before(before) || at.After(time.Now().Add(time.Second)) || !strings.HasSuffix(s.Condition["DateLessThan"]["aws:TokenIssueTime"], "Z") {
		t.Errorf("aws:TokenIssueTime = %q, want now in UTC", s.Condition["DateLessThan"]["aws:TokenIssueTime"])
	}
}

func readCloser(s string) *strReader { return &strReader{strings.NewReader(s)} }

type strReader struct{ *strings.Reader }

func (strReader) Close() error { return nil }

func TestAWSConformance(t *testing.T) {
	credentials(t)
	conformance.Run(t, conformance.Harness{
		New:     func(base string) (connectors.Connector, error) { return open(t, base, nil), nil },
		Secret:  awsSecret,
		Subject: offboard.Subject{Email: email, Reason: offboard.ReasonTerminated},
		Handler: func(t *testing.T, s conformance.Scenario) http.Handler {
			switch s {
			case conformance.Success:
				return iamFake(t, revoked()...)
			case conformance.NotFound:
				return iamFake(t, step{Action: "ListUsers", Body: users("", "bob")}, tagsBob)
			case conformance.RateLimited:
				return iamFake(t, step{Action: "ListUsers", Status: 400, Body: iamError("Sender", "Throttling", "Rate exceeded")})
			case conformance.ServerError:
				return iamFake(t, step{Action: "ListUsers", Status: 500, Body: iamError("Receiver", "ServiceFailure", "The request processing has failed because of an unknown error, exception or failure.")})
			case conformance.Unauthorized:
				return iamFake(t, step{Action: "ListUsers", Status: 403, Body: iamError("Sender", "InvalidClientTokenId", "The security token included in the request is invalid.")})
			}
			return conformance.Hanging()
		},
	})
}

func TestAWSCheck(t *testing.T) {
	credentials(t)
	srv := httptest.NewServer(iamFake(t, step{Action: "ListUsers", Params: url.Values{"MaxItems": {"1"}}, Body: users("more", "bob")},
		step{Action: "ListUsers", Params: url.Values{"MaxItems": {"1"}}, Status: 403, Body: iamError("Sender", "AccessDenied", "not authorized to perform: iam:ListUsers")}))
	t.Cleanup(srv.Close)
	c := open(t, srv.URL, nil).(connectors.Checker)
	if err := c.Check(t.Context()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if err := c.Check(t.Context()); !vendorapi.IsKind(err, vendorapi.Auth) || vendorapi.Retryable(err) {
		t.Fatalf("Check without iam:ListUsers = %v, want a permanent auth error", err)
	}
}

// With no credentials anywhere in the default chain, a revoke fails for
// good and says where credentials are looked for.
func TestAWSWithoutCredentials(t *testing.T) {
	credentials(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")
	t.Setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "")
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a request was sent without credentials: %s", r.Header.Get("Authorization"))
	}))
	t.Cleanup(srv.Close)
	_, err := open(t, srv.URL, nil).Revoke(t.Context(), offboard.Subject{Email: email, Reason: offboard.ReasonTerminated})
	if !vendorapi.IsKind(err, vendorapi.Auth) || vendorapi.Retryable(err) || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") {
		t.Fatalf("Revoke = %v, want a permanent auth error naming the default chain", err)
	}
}

func TestAWSConfig(t *testing.T) {
	credentials(t)
	tests := []struct {
		name     string
		settings map[string]any
		want     []string
	}{
		{"email_tag and user_name together", map[string]any{"email_tag": "mail", "user_name": "{{.LocalPart}}"}, []string{"user_name: set email_tag or user_name, not both"}},
		{"a user_name that is no template", map[string]any{"user_name": "{{.LocalPart"}, []string{"user_name: not a template"}},
		{"a user_name naming an unknown field", map[string]any{"user_name": "{{.Login}}"}, []string{"user_name: template failed"}},
		{"a user_name giving no IAM name", map[string]any{"user_name": "{{.LocalPart}} {{.Domain}}"}, []string{"user_name: the template does not give an IAM user name"}},
		{"a reserved tag key", map[string]any{"email_tag": "aws:email"}, []string{"email_tag: want a tag key"}},
		{"a bad region and base_url and reason", map[string]any{"region": "US East", "base_url": "ftp://iam", "disable_for": []any{"fired"}},
			[]string{"region: want an AWS region", "base_url:", "disable_for[0]:"}},
		{"an unknown key", map[string]any{"access_key": "x"}, []string{"access_key: unknown key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conformance.WantBuildErrors(t, types, "aws", tt.settings, tt.want)
		})
	}
}
