package hibob

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/vendorapi"
)

// hibobResolveFields are the field ids Resolve reads: the work email and the
// termination date. Field ids are dot notation in requests; the answer nests
// them by category (root fields at the top: "email"; "internal" →
// "terminationDate").
// https://apidocs.hibob.com/docs/people-read-api-contract
var hibobResolveFields = []string{"root.id", "root.email", "internal.terminationDate"}

// hibobPerson is the People API's answer for hibobResolveFields. A field the
// service user may not see is left out silently.
type hibobPerson struct {
	ID       string  `json:"id"`
	Email    *string `json:"email"`
	Internal *struct {
		TerminationDate *string `json:"terminationDate"`
	} `json:"internal"`
}

// Resolve implements sources.Resolver: it reads the employee named by IDs["hibob"]
// with POST /v1/people/{id} (fields root.email and
// internal.terminationDate, machine-readable values) and answers offboard
// with the work email, normalised. For employee.left, a termination date
// after today (UTC) schedules the case for the end of that date in UTC (see
// hrTerminationAt; Bob sends employee.left when Garden leave starts, which
// may be before the termination date). Every other type is effective now —
// employee.access.revoked.immediately always, whatever the date says.
//
// Errors are *vendorapi.Error: a 404 is a permanent NotFoundErr naming the
// employee, and so is an answer without a usable work email; 401/403 are
// permanent (the service user's credentials or permissions); network
// errors, 429 (X-RateLimit-Reset honoured) and 5xx are retryable.
// https://apidocs.hibob.com/reference/post_people-identifier
// https://apidocs.hibob.com/reference/rate-limiting
func (h *Source) Resolve(ctx context.Context, ev sources.Event) (sources.Resolution, error) {
	id := ev.IDs["hibob"]
	if !hibobIDRE.MatchString(id) {
		return sources.Resolution{}, &vendorapi.Error{System: "hibob", Kind: vendorapi.Invalid,
			Msg: "the event carries no usable hibob employee id"}
	}
	var p hibobPerson
	req := vendorapi.Request{Method: http.MethodPost, Path: "/v1/people/" + id,
		Body: map[string]any{"fields": hibobResolveFields}}
	if _, err := h.client.Do(ctx, req, &p); err != nil {
		var e *vendorapi.Error
		if errors.As(err, &e) && e.Kind == vendorapi.NotFound {
			return sources.Resolution{}, &vendorapi.Error{System: "hibob", Kind: vendorapi.NotFound, Status: e.Status,
				Msg: "employee " + id + " not found in Bob (deleted, or the service user may not see it)"}
		}
		return sources.Resolution{}, err
	}
	if p.Email == nil || *p.Email == "" {
		return sources.Resolution{}, &vendorapi.Error{System: "hibob", Kind: vendorapi.Invalid,
			Msg: "employee " + id + " has no work email in Bob (or the service user cannot see root.email)"}
	}
	email, err := sources.NormalizeEmail(*p.Email)
	if err != nil {
		return sources.Resolution{}, &vendorapi.Error{System: "hibob", Kind: vendorapi.Invalid,
			Msg: "employee " + id + " has an unusable work email: " + err.Error()}
	}
	res := sources.Resolution{Email: email, Offboard: true, IDs: map[string]string{"hibob": id}}
	if ev.Type == EmployeeLeft && p.Internal != nil && p.Internal.TerminationDate != nil {
		if at, ok := sources.TerminationAt(*p.Internal.TerminationDate, h.now()); ok {
			res.EffectiveAt = at
		}
	}
	return res, nil
}

// hibobVendorError reads the summary of a Bob error body, {"key": "…",
// "error": "…"}, or "" when there is none.
// https://apidocs.hibob.com/reference/error-handling
func hibobVendorError(body []byte) string {
	var e struct {
		Key   string `json:"key"`
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	switch {
	case e.Key != "" && e.Error != "":
		return e.Key + ": " + e.Error
	case e.Error != "":
		return e.Error
	}
	return e.Key
}
