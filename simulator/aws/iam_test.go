package aws

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
	"github.com/offboarder/offboarder/simulator/fake/faketest"
)

const sigv4 = "AWS4-HMAC-SHA256 Credential=" + DefaultAccessKeyID + "/20261205/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=0f0f"

func start(t *testing.T, k fake.Knobs) *faketest.Server[Config] {
	t.Helper()
	sim := faketest.Start(t, k, Config{}, func(c func() Config, _ func() time.Time) fake.Vendor { return newIAM(c) })
	sim.Seed(0)
	return sim
}

// call posts the Query API form and returns the status and the body.
func call(t *testing.T, sim *faketest.Server[Config], auth string, params ...string) (int, string) {
	t.Helper()
	form := url.Values{"Version": {version}}
	for i := 0; i+1 < len(params); i += 2 {
		form.Set(params[i], params[i+1])
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, sim.HTTP.URL+"/aws", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := sim.HTTP.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "text/xml" {
		t.Errorf("Content-Type = %q", ct)
	}
	return resp.StatusCode, string(b)
}

// code reads an error body's Code, failing t unless it has IAM's shape.
func code(t *testing.T, body string) string {
	t.Helper()
	var e struct {
		XMLName xml.Name `xml:"ErrorResponse"`
		Error   struct{ Type, Code, Message string }
		ID      string `xml:"RequestId"`
	}
	if err := xml.Unmarshal([]byte(body), &e); err != nil || e.Error.Type == "" || e.Error.Message == "" || e.ID == "" {
		t.Fatalf("error body %q is not IAM's: %v", body, err)
	}
	return e.Error.Code
}

func TestIAMListUsersPages(t *testing.T) {
	sim := start(t, fake.Knobs{})
	var names []string
	marker := ""
	for range 5 {
		status, body := call(t, sim, sigv4, "Action", "ListUsers", "MaxItems", "2", "Marker", marker)
		var page struct {
			Result struct {
				Users       []string `xml:"Users>member>UserName"`
				IsTruncated bool
				Marker      string
			} `xml:"ListUsersResult"`
		}
		if status != 200 || xml.Unmarshal([]byte(body), &page) != nil {
			t.Fatalf("ListUsers = %d %s", status, body)
		}
		names = append(names, page.Result.Users...)
		if !page.Result.IsTruncated {
			break
		}
		marker = page.Result.Marker
	}
	if strings.Join(names, ",") != "alice,bob,carol" {
		t.Errorf("users = %v, want alice, bob, carol over two pages", names)
	}
	if status, body := call(t, sim, sigv4, "Action", "ListUsers", "MaxItems", "0"); status != 400 || code(t, body) != "ValidationError" {
		t.Errorf("MaxItems=0 = %d %s", status, body)
	}
}

func TestIAMErrors(t *testing.T) {
	sim := start(t, fake.Knobs{})
	for _, tt := range []struct {
		name, auth string
		params     []string
		status     int
		code       string
	}{
		{"no Authorization header", "", []string{"Action", "ListUsers"}, 403, "InvalidClientTokenId"},
		{"another access key", strings.Replace(sigv4, DefaultAccessKeyID, "AKIAOTHER", 1), []string{"Action", "ListUsers"}, 403, "InvalidClientTokenId"},
		{"an unknown user", sigv4, []string{"Action", "ListAccessKeys", "UserName", "dana"}, 404, "NoSuchEntity"},
		{"an unknown user's password", sigv4, []string{"Action", "GetLoginProfile", "UserName", "nobody"}, 404, "NoSuchEntity"},
		{"an unknown action", sigv4, []string{"Action", "DeleteEverything"}, 400, "InvalidAction"},
		{"a malformed policy", sigv4, []string{"Action", "PutUserPolicy", "UserName", "bob", "PolicyName", "p", "PolicyDocument", "{"}, 400, "MalformedPolicyDocument"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body := call(t, sim, tt.auth, tt.params...)
			if status != tt.status || code(t, body) != tt.code {
				t.Errorf("= %d %s, want %d %s", status, body, tt.status, tt.code)
			}
		})
	}
	limited := start(t, fake.Knobs{RateLimit: 1})
	call(t, limited, sigv4, "Action", "ListUsers")
	if status, body := call(t, limited, sigv4, "Action", "ListUsers"); status != 400 || code(t, body) != "Throttling" {
		t.Errorf("over the rate limit = %d %s, want 400 Throttling", status, body)
	}
}

// The deny policy ends the temporary credentials issued before its time,
// and only those: keys and the password count until they are ended.
func TestIAMDenyPolicy(t *testing.T) {
	sim := start(t, fake.Knobs{})
	if n := sim.Sessions("aws", "bob@example.com"); n != 5 {
		t.Fatalf("bob has %d, want 2 keys, a password and 2 temporary credentials", n)
	}
	past := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"2001-01-01T00:00:00Z"}}}]}`
	call(t, sim, sigv4, "Action", "PutUserPolicy", "UserName", "bob", "PolicyName", "AWSRevokeOlderSessions", "PolicyDocument", past)
	if n := sim.Sessions("aws", "bob@example.com"); n != 5 {
		t.Errorf("a policy for credentials issued before 2001 left bob %d", n)
	}
	now := strings.Replace(past, "2001-01-01T00:00:00Z", time.Now().UTC().Format(time.RFC3339), 1)
	call(t, sim, sigv4, "Action", "PutUserPolicy", "UserName", "bob", "PolicyName", "AWSRevokeOlderSessions", "PolicyDocument", now)
	if n := sim.Sessions("aws", "bob@example.com"); n != 3 {
		t.Errorf("after the policy bob has %d, want 3 (keys and password)", n)
	}
	status, body := call(t, sim, sigv4, "Action", "GetUserPolicy", "UserName", "bob", "PolicyName", "AWSRevokeOlderSessions")
	if status != 200 || !strings.Contains(body, "<PolicyDocument>"+url.PathEscape(now)+"</PolicyDocument>") {
		t.Errorf("GetUserPolicy = %d %s, want the document URL-encoded", status, body)
	}
}
