// Package aws is the aws connector: it ends a person's access to one AWS
// account through their IAM user, with the AWS SDK for Go v2 and the
// credentials of the SDK's default chain. It finds the IAM user by a tag
// holding the person's email (or by a user-name pattern), deactivates
// every access key, deletes the console password, and attaches AWS's
// documented deny-all inline policy conditioned on aws:TokenIssueTime, so
// that temporary credentials issued before now stop working; then it reads
// keys, password and policy back.
//
// Deactivating keys and deleting the password disable credentials: they
// run only for the reasons in disable_for (default terminated,
// deactivated). The deny policy only ends sessions and runs for every
// reason.
//
// The SDK, not the shared vendorapi HTTP client, talks to IAM; its own
// retryer is switched off (aws.NopRetryer), so that asynq stays the one
// retry layer, and its errors are classified in errors.go.
package aws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"text/template"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/vendorapi"
)

// AWS's documentation, cited below by these names:
//
//	[iam-api]        https://docs.aws.amazon.com/IAM/latest/APIReference/welcome.html (the Query API:
//	                 POST https://iam.amazonaws.com/ with Action=…&Version=2010-05-08, SigV4; IAM is global)
//	[list-users]     https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListUsers.html (Marker, MaxItems
//	                 default 100; IsTruncated; "does not return … Tags")
//	[list-tags]      https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListUserTags.html
//	[get-user]       https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetUser.html (without UserName:
//	                 the caller; NoSuchEntity)
//	[list-keys]      https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListAccessKeys.html
//	[update-key]     https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateAccessKey.html (Status=Inactive)
//	[del-profile]    https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteLoginProfile.html ("Deleting a
//	                 user's password does not prevent a user from accessing AWS through the command line
//	                 interface or the API"; NoSuchEntity)
//	[get-profile]    https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetLoginProfile.html (NoSuchEntity
//	                 when the user has no password)
//	[put-policy]     https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutUserPolicy.html (adds or
//	                 updates an inline policy)
//	[get-policy]     https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetUserPolicy.html (the document
//	                 comes back URL-encoded, RFC 3986)
//	[revoke-role]    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_revoke-sessions.html (the
//	                 console's "Revoke active sessions" attaches the inline policy AWSRevokeOlderSessions)
//	[disable-perms]  https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_disable-perms.html
//	                 ("Denying access to temporary security credentials issued before a specific time": the
//	                 policy is attached "to the IAM user that created the temporary security credentials";
//	                 aws:TokenIssueTime is only present for temporary credentials, so the Deny "will not
//	                 affect requests that are signed with the long-term credentials of the IAM user"; "it may
//	                 take a few minutes for policy updates to take effect")
//	[common-errors]  https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html
//	[query-errors]   https://smithy.io/2.0/aws/protocols/aws-query-protocol.html (error bodies:
//	                 <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>)
//	[sdk-config]     https://docs.aws.amazon.com/sdk-for-go/v2/developer-guide/configure-gosdk.html (the
//	                 default credential chain: environment, shared files, web identity, ECS, EC2 IMDS)
//	[sdk-retries]    https://docs.aws.amazon.com/sdk-for-go/v2/developer-guide/configure-retries-timeouts.html
//	                 (aws.NopRetryer; the standard retryer's backoff is capped at 20 s)
//
// No request rate for the IAM API was found in AWS's documentation (its
// IAM quotas are counts of entities); IAM answers a call over its limit
// with the error code Throttling [common-errors], which the connector
// waits out as a rate limit, with a jittered wait (errors.go).
//
// AWS documents no call that ends an IAM user's open console session:
// deleting the password stops new sign-ins, and the detail says that
// whether an open session ends is not documented.

const (
	// DefaultRegion signs requests when region is not set: IAM is a global
	// service whose endpoint lives in us-east-1 [iam-api].
	DefaultRegion = "us-east-1"
	// DefaultEmailTag is the tag key holding a user's email when neither
	// email_tag nor user_name is set.
	DefaultEmailTag = "email"
	// PolicyName is the inline policy's name, the one IAM's console gives
	// its "Revoke active sessions" policy [revoke-role].
	PolicyName = "AWSRevokeOlderSessions"
)

// userNameRE is IAM's user-name pattern, 1 to 64 characters [get-user].
var userNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

// regionRE is the form of a region name.
var regionRE = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)

// Config is the settings of an aws connector. Credentials come from the
// SDK's default chain [sdk-config] (AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, AWS_PROFILE, a web identity, the ECS or EC2 role);
// they need iam:ListUsers and iam:ListUserTags (or iam:GetUser with
// user_name), iam:ListAccessKeys, iam:UpdateAccessKey,
// iam:GetLoginProfile, iam:DeleteLoginProfile, iam:PutUserPolicy and
// iam:GetUserPolicy.
type Config struct {
	// Region signs the requests; empty means us-east-1, where IAM, a
	// global service, answers [iam-api]. Set it for another partition
	// (cn-north-1, us-gov-west-1).
	Region string `json:"region"`
	// EmailTag is the tag key whose value is the person's email; empty
	// means "email" unless user_name is set. The tag's value is compared
	// without regard to case.
	EmailTag string `json:"email_tag"`
	// UserName finds the user by name instead: a Go template of the user
	// name with .Email (the address), .LocalPart (before the @) and
	// .Domain (after it), e.g. "{{.LocalPart}}" or
	// "{{.LocalPart}}@{{.Domain}}". Set email_tag or user_name, not both.
	UserName string `json:"user_name"`
	// DisableFor are the reasons access keys are deactivated and the
	// console password deleted for; empty means terminated and
	// deactivated. The deny policy is attached for every reason.
	DisableFor connectors.DisableFor `json:"disable_for"`
	// BaseURL overrides the IAM endpoint (the SDK's BaseEndpoint), for
	// tests and the simulator; empty means the SDK's own endpoint.
	BaseURL string `json:"base_url"`
}

// Validate reports every problem with the settings, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	if c.BaseURL != "" {
		if err := vendorapi.CheckURL(c.BaseURL); err != nil {
			errs = append(errs, vendorapi.KeyErr("base_url", err))
		}
	}
	if c.Region != "" && !regionRE.MatchString(c.Region) {
		errs = append(errs, vendorapi.FieldErr("region", "want an AWS region, e.g. us-east-1"))
	}
	switch {
	case c.EmailTag != "" && c.UserName != "":
		errs = append(errs, vendorapi.FieldErr("user_name", "set email_tag or user_name, not both"))
	case c.UserName != "":
		if _, err := parseUserName(c.UserName); err != nil {
			errs = append(errs, vendorapi.KeyErr("user_name", err))
		}
	case len(c.EmailTag) > 128 || strings.HasPrefix(c.EmailTag, "aws:"):
		// Tag keys are 1 to 128 characters; aws: is reserved [list-tags].
		errs = append(errs, vendorapi.FieldErr("email_tag", "want a tag key of at most 128 characters, not starting with aws:"))
	}
	if err := c.DisableFor.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// names is what a user_name template sees.
type names struct{ Email, LocalPart, Domain string }

func namesOf(email string) names {
	local, domain, _ := strings.Cut(email, "@")
	return names{Email: email, LocalPart: local, Domain: domain}
}

// parseUserName parses a user_name template and tries it on an example
// address, so that a template naming an unknown field fails at start.
func parseUserName(s string) (*template.Template, error) {
	t, err := template.New("user_name").Option("missingkey=error").Parse(s)
	if err != nil {
		return nil, fmt.Errorf("not a template: %w", err)
	}
	if _, err := render(t, "jane.doe@example.com"); err != nil {
		return nil, err
	}
	return t, nil
}

// render is the user name t gives for email; it must be a valid IAM user
// name.
func render(t *template.Template, email string) (string, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, namesOf(email)); err != nil {
		return "", fmt.Errorf("template failed: %w", err)
	}
	if !userNameRE.MatchString(b.String()) {
		return "", errors.New("the template does not give an IAM user name (1 to 64 of letters, digits and _+=,.@-)")
	}
	return b.String(), nil
}

// Open returns the *Connector named name. It reads the SDK's shared
// configuration (environment, ~/.aws files) now; credentials are fetched,
// and cached by the SDK, on the first call.
func (c *Config) Open(name string, d connectors.Deps) (connectors.Connector, error) {
	region := c.Region
	if region == "" {
		region = DefaultRegion
	}
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(region))
	if err != nil {
		return nil, fmt.Errorf("%s: aws configuration: %w", name, err)
	}
	client := iam.NewFromConfig(cfg, func(o *iam.Options) {
		// One retry layer: asynq retries the task; the SDK sends each
		// call once [sdk-retries].
		o.Retryer = awssdk.NopRetryer{}
		if d.HTTPClient != nil {
			// A redirect is answered as it is, never followed: IAM sends
			// none, and a wrong base_url should say so.
			hc := *d.HTTPClient
			hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			o.HTTPClient = &hc
		}
		if c.BaseURL != "" {
			o.BaseEndpoint = awssdk.String(c.BaseURL)
		}
	})
	k := &Connector{name: name, api: client, creds: cfg.Credentials, disableFor: c.DisableFor, tag: c.EmailTag, now: time.Now, log: d.Logger}
	if c.UserName != "" {
		if k.userName, err = parseUserName(c.UserName); err != nil {
			return nil, fmt.Errorf("%s: user_name: %w", name, err)
		}
	} else if k.tag == "" {
		k.tag = DefaultEmailTag
	}
	return k, nil
}

// Connector ends a person's IAM user's credentials and sessions in one AWS
// account.
type Connector struct {
	name       string
	api        *iam.Client
	creds      awssdk.CredentialsProvider
	disableFor connectors.DisableFor
	tag        string             // the email tag's key, when userName is nil
	userName   *template.Template // the user-name pattern, or nil
	now        func() time.Time
	log        zerolog.Logger
}

// logger is the logger of ctx or, without one, the process's.
func (k *Connector) logger(ctx context.Context) *zerolog.Logger {
	if l := zerolog.Ctx(ctx); l.GetLevel() != zerolog.Disabled {
		return l
	}
	return &k.log
}

var (
	_ connectors.Connector = (*Connector)(nil)
	_ connectors.Checker   = (*Connector)(nil)
)

// Name returns the configured connector name.
func (k *Connector) Name() string { return k.name }

// Check is the cheapest authenticated read, ListUsers with MaxItems=1
// [list-users], rather than GetUser without a name (the caller
// [get-user]): it also proves iam:ListUsers, which the tag lookup needs.
// It is an Auth error when the default chain finds no credentials, IAM
// rejects them, or they may not list users.
func (k *Connector) Check(ctx context.Context) error {
	if err := k.credentials(ctx); err != nil {
		return err
	}
	_, err := k.api.ListUsers(ctx, &iam.ListUsersInput{MaxItems: awssdk.Int32(1)})
	return k.classify("ListUsers", err)
}

// policyDocument is the deny-all policy of [disable-perms] and
// [revoke-role] for credentials issued before t, as the console writes it.
func policyDocument(t time.Time) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],` +
		`"Condition":{"DateLessThan":{"aws:TokenIssueTime":"` + t.UTC().Format(time.RFC3339) + `"}}}]}`
}

// decodePolicy is a GetUserPolicy document as IAM returns it, URL-encoded
// [get-policy]; a document that is not encoded is returned as it is.
func decodePolicy(s string) string {
	if d, err := url.PathUnescape(s); err == nil {
		return d
	}
	return s
}

// subjectEmail is the subject's email, or an Invalid error.
func (k *Connector) subjectEmail(s offboard.Subject) (string, error) {
	email := strings.TrimSpace(s.Email)
	if email == "" || !strings.Contains(email, "@") {
		return "", &vendorapi.Error{System: k.name, Kind: vendorapi.Invalid, Msg: "subject has no email"}
	}
	return email, nil
}
