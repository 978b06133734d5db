package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/offboarder/offboarder/vendorapi"
)

// Salesforce's error answers [errors]: the REST API answers a JSON array
// of {"message","errorCode","fields"}, e.g. 401
// [{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]
// and 403 [{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}];
// the OAuth endpoints answer {"error","error_description"} [revoke].

// limitExceeded is the errorCode of the org's API request limit [errors].
const limitExceeded = "REQUEST_LIMIT_EXCEEDED"

// limitWait is the wait of a REQUEST_LIMIT_EXCEEDED answer, which carries
// no Retry-After. It means one of two limits [limits]: the org's total API
// requests, counted over a rolling 24 hours, so room comes back as the
// oldest requests age out, not at a known time; or 25 concurrent requests
// of 20 seconds or longer (5 in Developer Edition), which clears as they
// finish. The entry waits this long between attempts, and rate limits do
// not use up its retries.
const limitWait = 5 * time.Minute

// apiError is one element of the REST API's error array.
type apiError struct {
	Message   string `json:"message"`
	ErrorCode string `json:"errorCode"`
}

// readError reads Salesforce's error bodies into one short line: "CODE:
// message" of each element of the REST API's array (at most three), or
// "error: description" of the OAuth endpoints' object; "" for anything
// else.
func readError(body []byte) string { return vendorapi.AsRead(decodeError(body)) }

// decodeError is readError before invalid UTF-8 is put back as read.
func decodeError(body []byte) string {
	var list []apiError
	if json.Unmarshal(body, &list) == nil {
		var out []string
		for _, e := range list[:min(len(list), 3)] {
			if s := joinNonEmpty(e.ErrorCode, e.Message); s != "" {
				out = append(out, s)
			}
		}
		return strings.Join(out, "; ")
	}
	var o struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &o) == nil {
		return joinNonEmpty(o.Error, o.Description)
	}
	return ""
}

// joinNonEmpty is "a: b", or whichever is not empty.
func joinNonEmpty(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + ": " + b
}

// rateLimited reports whether an answer is the org's API request limit:
// 403 with errorCode REQUEST_LIMIT_EXCEEDED [errors]. The shared client
// then classifies it as a 429.
func rateLimited(status int, body []byte) bool {
	if status != http.StatusForbidden {
		return false
	}
	var list []apiError
	if json.Unmarshal(body, &list) != nil {
		return false
	}
	for _, e := range list {
		if e.ErrorCode == limitExceeded {
			return true
		}
	}
	return false
}

// do sends r through the shared client and gives a rate limit without a
// wait of its own (REQUEST_LIMIT_EXCEEDED) the wait of limitWait.
func (s *Connector) do(ctx context.Context, r vendorapi.Request, out any) error {
	_, err := s.api.Do(ctx, r, out)
	if e, ok := errors.AsType[*vendorapi.Error](err); ok && e.Kind == vendorapi.RateLimited && e.RetryAfter == 0 {
		e.RetryAfter = limitWait
		e.Msg += "; the org's API request limit is counted over 24 hours: retry after " + limitWait.String()
	}
	return err
}
