package aws_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// The fake below is shaped from IAM's API reference: every action is a
// form-encoded POST to / with Action=…&Version=2010-05-08, signed with
// SigV4 (https://docs.aws.amazon.com/IAM/latest/APIReference/welcome.html);
// answers are <{Action}Response><{Action}Result>…</…><ResponseMetadata>
// (each action's "Examples" section), errors
// <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>
// (https://smithy.io/2.0/aws/protocols/aws-query-protocol.html) with IAM's
// codes and statuses: NoSuchEntity 404, AccessDenied 403,
// InvalidClientTokenId 403, Throttling 400, ServiceFailure 500
// (https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html).

const iamNS = "https://iam.amazonaws.com/doc/2010-05-08/"

// step is one scripted IAM call: the action and the parameters it must
// carry (others may be there too), and the answer.
type step struct {
	Action string
	Params url.Values
	Status int // 0: 200
	Body   string
	// Echo answers a GetUserPolicy with the last PolicyDocument put,
	// URL-encoded as IAM returns it.
	Echo bool
	// Optional steps may never be called.
	Optional bool
}

// iamFake serves steps in any order, each once (the first unused step
// that matches), and fails t on a request that matches none, a request
// without the Query API's form or a SigV4 Authorization header, and at
// cleanup on an unused step that is not optional.
func iamFake(t *testing.T, steps ...step) http.Handler {
	t.Helper()
	var (
		mu     sync.Mutex
		used   = make([]bool, len(steps))
		policy string
	)
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for i, s := range steps {
			if !used[i] && !s.Optional {
				t.Errorf("fake: step %d unused: %s %v", i+1, s.Action, s.Params)
			}
		}
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, err := url.ParseQuery(string(body))
		switch {
		case r.Method != http.MethodPost || r.URL.Path != "/":
			t.Errorf("fake: %s %s, want POST /", r.Method, r.URL.Path)
		case err != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
			t.Errorf("fake: the body is not a form: %v, %q", err, r.Header.Get("Content-Type"))
		case form.Get("Version") != "2010-05-08":
			t.Errorf("fake: Version = %q", form.Get("Version"))
		case !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential="+awsKeyID+"/"):
			t.Errorf("fake: Authorization = %q, want SigV4 with the configured access key", r.Header.Get("Authorization"))
		}
		mu.Lock()
		defer mu.Unlock()
		action := form.Get("Action")
		if action == "PutUserPolicy" {
			policy = form.Get("PolicyDocument")
		}
		for i, s := range steps {
			if used[i] || s.Action != action || !carries(form, s.Params) {
				continue
			}
			used[i] = true
			status, answer := s.Status, s.Body
			if s.Echo {
				answer = result("GetUserPolicy", `<UserName>`+form.Get("UserName")+`</UserName><PolicyName>`+form.Get("PolicyName")+
					`</PolicyName><PolicyDocument>`+url.PathEscape(policy)+`</PolicyDocument>`)
			}
			if status == 0 {
				status = http.StatusOK
			}
			w.Header().Set("Content-Type", "text/xml")
			w.Header().Set("X-Amzn-RequestId", "4a1b2c3d-0000-4000-8000-00000000cafe")
			w.WriteHeader(status)
			fmt.Fprint(w, answer)
			return
		}
		t.Errorf("fake: unexpected call %s %v", action, form)
		w.WriteHeader(http.StatusInternalServerError)
	})
}

// carries reports whether form holds every value of want.
func carries(form, want url.Values) bool {
	for k, vs := range want {
		if form.Get(k) != vs[0] {
			return false
		}
	}
	return true
}

// result is a successful answer of action with the Result's inner XML; ""
// gives an answer with no Result, as the actions that change something
// return.
func result(action, inner string) string {
	meta := `<ResponseMetadata><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ResponseMetadata>`
	if inner == "" {
		return `<` + action + `Response xmlns="` + iamNS + `">` + meta + `</` + action + `Response>`
	}
	return `<` + action + `Response xmlns="` + iamNS + `"><` + action + `Result>` + inner + `</` + action + `Result>` + meta + `</` + action + `Response>`
}

// iamError is IAM's error body.
func iamError(typ, code, msg string) string {
	return `<ErrorResponse xmlns="` + iamNS + `"><Error><Type>` + typ + `</Type><Code>` + code + `</Code><Message>` + msg +
		`</Message></Error><RequestId>8c7d6e5f-0000-4000-8000-00000000beef</RequestId></ErrorResponse>`
}

// userXML is one User element's inner XML.
func userXML(name string) string {
	return `<Path>/</Path><UserName>` + name + `</UserName><UserId>AIDA` + strings.ToUpper(name) + `EXAMPLE</UserId>` +
		`<Arn>arn:aws:iam::123456789012:user/` + name + `</Arn><CreateDate>2024-05-01T09:00:00Z</CreateDate>`
}

// users is a ListUsers Result with these users; a marker makes it
// truncated.
func users(marker string, names ...string) string {
	var b strings.Builder
	b.WriteString("<Users>")
	for _, n := range names {
		b.WriteString("<member>" + userXML(n) + "</member>")
	}
	b.WriteString("</Users>")
	if marker != "" {
		b.WriteString("<IsTruncated>true</IsTruncated><Marker>" + marker + "</Marker>")
	} else {
		b.WriteString("<IsTruncated>false</IsTruncated>")
	}
	return result("ListUsers", b.String())
}

// tags is a ListUserTags Result with key=value pairs.
func tags(kv ...string) string {
	var b strings.Builder
	b.WriteString("<Tags>")
	for i := 0; i+1 < len(kv); i += 2 {
		b.WriteString("<member><Key>" + kv[i] + "</Key><Value>" + kv[i+1] + "</Value></member>")
	}
	b.WriteString("</Tags><IsTruncated>false</IsTruncated>")
	return result("ListUserTags", b.String())
}

// keys is a ListAccessKeys Result; each key is "id:Status".
func keys(user string, ks ...string) string {
	var b strings.Builder
	b.WriteString("<AccessKeyMetadata>")
	for _, k := range ks {
		id, status, _ := strings.Cut(k, ":")
		b.WriteString("<member><UserName>" + user + "</UserName><AccessKeyId>" + id + "</AccessKeyId><Status>" + status +
			"</Status><CreateDate>2024-05-01T09:00:00Z</CreateDate></member>")
	}
	b.WriteString("</AccessKeyMetadata><IsTruncated>false</IsTruncated>")
	return result("ListAccessKeys", b.String())
}

func user(name string) url.Values { return url.Values{"UserName": {name}} }

func noEntity(what string) string {
	return iamError("Sender", "NoSuchEntity", what)
}
