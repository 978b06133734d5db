package aws

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/offboarder/offboarder/vendorapi"
)

// The error codes IAM answers in its Query API error bodies
// [query-errors], by what a person or the worker does about them
// [common-errors] and each action's own Errors section.
var (
	// notFound: the entity named does not exist (HTTP 404).
	notFound = map[string]bool{"NoSuchEntity": true}
	// denied: the credentials are valid but may not do this.
	denied = map[string]bool{"AccessDenied": true, "AccessDeniedException": true, "NotAuthorized": true, "UnauthorizedOperation": true}
	// rejected: the credentials themselves are refused.
	rejected = map[string]bool{
		"InvalidClientTokenId": true, "SignatureDoesNotMatch": true, "IncompleteSignature": true,
		"MissingAuthenticationToken": true, "ExpiredToken": true, "ExpiredTokenException": true,
		"InvalidAccessKeyId": true, "RequestExpired": true,
	}
	// throttled: over IAM's request rate.
	throttled = map[string]bool{"Throttling": true, "ThrottlingException": true, "RequestLimitExceeded": true, "TooManyRequestsException": true}
	// failed: IAM could not complete the request; another attempt may.
	failed = map[string]bool{"ServiceFailure": true, "InternalFailure": true, "ServiceUnavailable": true, "ConcurrentModification": true}
)

// maxThrottleWait is the longest wait asked for after a Throttling answer
// without Retry-After: the standard retryer's cap on its backoff
// [sdk-retries]; the wait is drawn between a second and it (full jitter),
// so that many revokes throttled at once do not come back together.
const maxThrottleWait = 20 * time.Second

// maxSummary caps IAM's message in an error, in runes.
const maxSummary = 200

// classify turns an error of the SDK's call op into a *vendorapi.Error:
//
//	ctx ended, network error, 5xx, ServiceFailure → Transient
//	Throttling (HTTP 400), 429                    → RateLimited, Retry-After or a jittered wait up to 20 s
//	InvalidClientTokenId, SignatureDoesNotMatch,
//	  no credentials in the default chain        → Auth: the credentials
//	AccessDenied                                  → Auth: the permission
//	NoSuchEntity                                  → NotFound (each step says what it means)
//	any other code                                → Invalid
//
// nil stays nil.
func (k *Connector) classify(op string, err error) error {
	if err == nil {
		return nil
	}
	e := &vendorapi.Error{System: k.name, Err: err}
	var re *awshttp.ResponseError
	var h http.Header
	if errors.As(err, &re) && re.Response != nil {
		e.Status = re.HTTPStatusCode()
		h = re.Response.Header
	}
	var api smithy.APIError
	code := ""
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		e.Kind, e.Msg, e.Err = vendorapi.Transient, op+": call not completed", contextErr(err)
		return e
	case errors.As(err, new(*vendorapi.TurnError)):
		// The connector's rate_limit gave no turn before the deadline:
		// nothing was sent; the work waits, like a throttled call.
		te, _ := vendorapi.Turn(err)
		e.Kind, e.RetryAfter, e.Msg, e.Err = vendorapi.RateLimited, te.After, op+": waiting for a turn (rate_limit)", te
		return e
	case errors.As(err, &api):
		code = api.ErrorCode()
		e.Err = nil // the SDK's text repeats the message, quoted below
	}
	var why string
	switch {
	case notFound[code]:
		e.Kind, why = vendorapi.NotFound, "not found"
	case throttled[code] || e.Status == http.StatusTooManyRequests:
		e.Kind = vendorapi.RateLimited
		e.RetryAfter = retryAfter(h)
		why = "rate limited by IAM; retry after " + e.RetryAfter.Round(time.Second).String()
	case rejected[code]:
		e.Kind, why = vendorapi.Auth, "credentials rejected: check the AWS credentials the SDK's default chain finds (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, the role) and region"
	case denied[code]:
		e.Kind, why = vendorapi.Auth, "missing permission: the credentials are valid but not allowed to do this; grant the IAM actions this connector needs"
	case failed[code] || e.Status >= 500 || (code == "" && e.Status == 0):
		e.Kind, why = vendorapi.Transient, "IAM failed to complete the request"
	case e.Status >= 300 && e.Status < 400:
		e.Kind, why = vendorapi.Invalid, "unexpected redirect, which is refused: check base_url"
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		e.Kind, why = vendorapi.Auth, "credentials rejected: check the AWS credentials the SDK's default chain finds"
	default:
		e.Kind, why = vendorapi.Invalid, "request rejected as invalid; a person must look"
	}
	e.Msg = op + ": " + why
	if api != nil {
		if said := summary(code, api.ErrorMessage()); said != "" {
			e.Msg += "; aws said " + strconv.Quote(said)
		}
	}
	return e
}

// contextErr is context.Canceled or context.DeadlineExceeded, whichever
// err wraps.
func contextErr(err error) error {
	if errors.Is(err, context.Canceled) {
		return context.Canceled
	}
	return context.DeadlineExceeded
}

// retryAfter is the wait a Retry-After header asks for (a proxy's 429), or
// a jittered wait of one second to maxThrottleWait: IAM's Throttling
// answer carries none.
func retryAfter(h http.Header) time.Duration {
	if n, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After"))); err == nil && n > 0 {
		return min(time.Duration(n)*time.Second, vendorapi.MaxRetryAfter)
	}
	return time.Second + rand.N(maxThrottleWait-time.Second)
}

// summary is "Code: Message" made fit for an error: one line of printable
// text, cut to maxSummary runes.
func summary(code, msg string) string {
	s := strings.TrimPrefix(code+": "+msg, ": ")
	s = strings.TrimSuffix(s, ": ")
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r) || unicode.IsSpace(r):
			return ' '
		case !unicode.IsPrint(r):
			return -1
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxSummary {
		s = string(r[:maxSummary]) + "…"
	}
	return s
}

// credentials fetches the default chain's credentials (the SDK caches
// them until they expire) before a call, so that a chain that finds none
// is told apart from IAM's answers: it fails for good, naming where the
// chain looks [sdk-config]. An answer of STS behind the chain (a web
// identity, an assumed role) is classified like IAM's.
func (k *Connector) credentials(ctx context.Context) error {
	if k.creds == nil {
		return nil // no chain: the SDK signs nothing, and IAM answers
	}
	_, err := k.creds.Retrieve(ctx)
	if err == nil {
		return nil
	}
	var api smithy.APIError
	if errors.As(err, &api) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return k.classify("credentials", err)
	}
	return &vendorapi.Error{System: k.name, Kind: vendorapi.Auth, Err: err,
		Msg: "no usable credentials: the SDK's default chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, a web identity, the ECS or EC2 role) gave none"}
}
