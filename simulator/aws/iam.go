package aws

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/offboarder/offboarder/simulator/fake"
)

// IAM's documentation, as the fake follows it:
//
//	https://docs.aws.amazon.com/IAM/latest/APIReference/welcome.html (Query API, Version 2010-05-08)
//	https://docs.aws.amazon.com/IAM/latest/APIReference/API_{Action}.html (each action, its errors, examples)
//	https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html (Throttling, ServiceUnavailable…)
//	https://smithy.io/2.0/aws/protocols/aws-query-protocol.html (the error body)
//	https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_disable-perms.html
//	(a Deny on aws:TokenIssueTime covers temporary credentials issued before the time, never long-term keys)

const (
	xmlns   = "https://iam.amazonaws.com/doc/2010-05-08/"
	version = "2010-05-08"
	account = "123456789012"
)

type iam struct {
	config func() Config

	mu    sync.Mutex
	users *fake.Directory[string, iamUser] // by user name
	next  int
}

type iamUser struct {
	name, id, email string
	created         time.Time
	keys            []accessKey
	password        bool
	policies        map[string]string // inline policy name → document
	issued          []time.Time       // temporary credentials' issue times
}

type accessKey struct {
	id     string
	active bool
}

func newIAM(config func() Config) *iam {
	v := &iam{config: config, next: 1}
	v.users = fake.NewDirectory[string](&v.mu, func(u *iamUser) int { return u.sessions() })
	return v
}

// sessions are what the user can still sign in or sign requests with.
func (u *iamUser) sessions() int {
	n := 0
	for _, k := range u.keys {
		if k.active {
			n++
		}
	}
	if u.password {
		n++
	}
	for _, at := range u.issued {
		if !u.denied(at) {
			n++
		}
	}
	return n
}

func (v *iam) Name() string { return "aws" }

func (v *iam) Register(route func(string, http.HandlerFunc)) {
	// The SDK posts to the endpoint as given: /aws with the simulator's
	// prefix, / at a real endpoint.
	route("POST ", v.serve)
	route("POST /{$}", v.serve)
	route("/", func(w http.ResponseWriter, r *http.Request) {
		fail(w, http.StatusNotFound, "Sender", "InvalidAction", "the Query API is POST / with Action and Version")
	})
}

// AddUser makes the user's IAM user (named by the local part, or the whole
// address when another user has it), tagged email=<email>, with a
// password and min(sessions, 2) active keys (IAM allows two) and as many
// temporary credentials as sessions, issued an hour ago; 0 sessions leaves
// none of them.
func (v *iam) AddUser(email string, sessions int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := time.Now().UTC().Truncate(time.Second)
	u := v.users.Ensure(email, func() (string, *iamUser) {
		name, _, _ := strings.Cut(email, "@")
		if v.users.ByID(name) != nil {
			name = email
		}
		u := &iamUser{name: name, id: fmt.Sprintf("AIDASIM%013d", v.next), email: email, created: now, policies: map[string]string{}}
		v.next++
		return name, u
	})
	u.keys, u.issued, u.password, u.policies = nil, nil, sessions > 0, map[string]string{}
	for i := range min(sessions, 2) {
		u.keys = append(u.keys, accessKey{id: fmt.Sprintf("AKIASIM%s%02d", strings.ToUpper(u.id[len(u.id)-6:]), i+1), active: true})
	}
	for range sessions {
		u.issued = append(u.issued, now.Add(-time.Hour))
	}
}

func (v *iam) Sessions(email string) int { return v.users.Sessions(email) }

func (v *iam) Users() map[string]int { return v.users.Users() }

// Subject reads the UserName of the form (ParseForm keeps it for the
// handler).
func (v *iam) Subject(r *http.Request) string {
	if err := r.ParseForm(); err != nil {
		return ""
	}
	return v.users.Subject(r.PostForm.Get("UserName"), "")
}

// Authorized wants a SigV4 Authorization header for the configured access
// key id: "AWS4-HMAC-SHA256 Credential=<id>/<date>/<region>/iam/aws4_request, …".
func (v *iam) Authorized(r *http.Request) bool {
	cred, ok := strings.CutPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=")
	id, scope, _ := strings.Cut(cred, "/")
	return ok && fake.SameSecret(id, v.config().keyID()) && strings.Contains(scope, "/iam/aws4_request")
}

func (v *iam) Fail(w http.ResponseWriter, f fake.Failure) {
	switch f {
	case fake.Unauthorized:
		fail(w, http.StatusForbidden, "Sender", "InvalidClientTokenId", "The security token included in the request is invalid.")
	case fake.RateLimited:
		fail(w, http.StatusBadRequest, "Sender", "Throttling", "Rate exceeded")
	default:
		fail(w, http.StatusServiceUnavailable, "Receiver", "ServiceUnavailable", "The request has failed due to a temporary failure of the server.")
	}
}

// Quota sets nothing: IAM sends no rate-limit headers.
func (v *iam) Quota(http.Header, fake.Quota) {}

// errorResponse is IAM's error body.
type errorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Error   struct {
		Type, Code, Message string
	}
	RequestID string `xml:"RequestId"`
}

func fail(w http.ResponseWriter, status int, typ, code, msg string) {
	e := errorResponse{Xmlns: xmlns, RequestID: fake.RandomHex(16)}
	e.Error.Type, e.Error.Code, e.Error.Message = typ, code, msg
	writeXML(w, status, e)
}

func writeXML(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(v)
}
