package bamboohr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/vendorapi"
)

// bambooHRResolveFields are the fields Resolve asks Get Employee for.
// https://documentation.bamboohr.com/docs/list-of-field-names
const bambooHRResolveFields = "workEmail,status,employmentHistoryStatus,terminationDate"

// bambooHREmployeeRecord is Get Employee's answer for bambooHRResolveFields.
// A field the API key's user may not see is left out of the answer without
// a marker, so each is a pointer: nil is "not told".
// https://documentation.bamboohr.com/reference/get-employee
type bambooHREmployeeRecord struct {
	ID                      string  `json:"id"`
	WorkEmail               *string `json:"workEmail"`
	Status                  *string `json:"status"`
	EmploymentHistoryStatus *string `json:"employmentHistoryStatus"`
	TerminationDate         *string `json:"terminationDate"`
}

// Resolve implements sources.Resolver: it reads the employee named by
// IDs["bamboohr"] with Get Employee (onlyCurrent=false, so that a
// future-dated termination shows) and answers:
//
//   - a termination date after today (UTC): offboard, effective at the end of
//     that date in UTC (see sources.TerminationAt);
//   - employment status Terminated, or status Inactive: offboard now;
//   - otherwise (a rehire, a cancelled termination): not leaving, and why.
//
// The email is the employee's workEmail, normalised. Errors are
// *vendorapi.Error: a 404 is a permanent NotFoundErr naming the employee;
// no usable work email, or none of the status fields visible to the API
// key's user, is permanent too; network errors, 429 and 5xx (503 is
// BambooHR's throttling answer until it moves to 429) are retryable, with
// Retry-After honoured.
// https://documentation.bamboohr.com/reference/get-employee
// https://documentation.bamboohr.com/docs/api-details (503 when throttled)
// https://documentation.bamboohr.com/docs/planned-changes-to-the-api (429 + Retry-After)
func (b *Source) Resolve(ctx context.Context, ev sources.Event) (sources.Resolution, error) {
	id := ev.IDs["bamboohr"]
	if !bambooHRIDRE.MatchString(id) {
		return sources.Resolution{}, &vendorapi.Error{System: "bamboohr", Kind: vendorapi.Invalid,
			Msg: "the event carries no usable bamboohr employee id"}
	}
	var emp bambooHREmployeeRecord
	q := url.Values{"fields": {bambooHRResolveFields}, "onlyCurrent": {"false"}}
	if _, err := b.client.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: "/api/v1/employees/" + id, Query: q}, &emp); err != nil {
		// Get Employee answers 404 when "no employee was found for the
		// supplied ID": nothing to wait for, a person must look.
		var e *vendorapi.Error
		if errors.As(err, &e) && e.Kind == vendorapi.NotFound {
			return sources.Resolution{}, &vendorapi.Error{System: "bamboohr", Kind: vendorapi.NotFound, Status: e.Status,
				Msg: "employee " + id + " not found in BambooHR (deleted, or not an internal employee id)"}
		}
		return sources.Resolution{}, err
	}
	if emp.Status == nil && emp.EmploymentHistoryStatus == nil && emp.TerminationDate == nil {
		return sources.Resolution{}, &vendorapi.Error{System: "bamboohr", Kind: vendorapi.Auth,
			Msg: "employee " + id + ": the API key's user cannot see status, employmentHistoryStatus or terminationDate; grant it access to them"}
	}
	at, leaving := bambooHRLeaving(emp, b.now())
	if !leaving {
		return sources.Resolution{Ignored: fmt.Sprintf("bamboohr: employee %s is not leaving (status %s, employment status %s, no termination date ahead)",
			id, hrWord(emp.Status), hrWord(emp.EmploymentHistoryStatus))}, nil
	}
	if emp.WorkEmail == nil || *emp.WorkEmail == "" {
		return sources.Resolution{}, &vendorapi.Error{System: "bamboohr", Kind: vendorapi.Invalid,
			Msg: "employee " + id + " has no work email in BambooHR (or the API key's user cannot see workEmail)"}
	}
	email, err := sources.NormalizeEmail(*emp.WorkEmail)
	if err != nil {
		return sources.Resolution{}, &vendorapi.Error{System: "bamboohr", Kind: vendorapi.Invalid,
			Msg: "employee " + id + " has an unusable work email: " + err.Error()}
	}
	return sources.Resolution{Email: email, Offboard: true, EffectiveAt: at, IDs: map[string]string{"bamboohr": id}}, nil
}

// bambooHRLeaving decides from an employee record whether the person is
// leaving and when (zero: now).
func bambooHRLeaving(e bambooHREmployeeRecord, now time.Time) (time.Time, bool) {
	if e.TerminationDate != nil {
		if at, ok := sources.TerminationAt(*e.TerminationDate, now); ok && !at.IsZero() {
			return at, true
		}
	}
	terminated := e.EmploymentHistoryStatus != nil && strings.EqualFold(strings.TrimSpace(*e.EmploymentHistoryStatus), "Terminated")
	inactive := e.Status != nil && strings.EqualFold(strings.TrimSpace(*e.Status), "Inactive")
	return time.Time{}, terminated || inactive
}

// hrWord quotes a short field value for an explanation, or says it was not
// visible.
func hrWord(p *string) string {
	if p == nil {
		return "not visible"
	}
	v := strings.TrimSpace(*p)
	if v == "" {
		return "empty"
	}
	if !sources.Printable(v) {
		return "unreadable"
	}
	return fmt.Sprintf("%q", sources.Truncate(v, 40))
}

// bambooHRVendorError reads the summary of a BambooHR error body,
// {"error": {"code": …, "message": "…"}} (the SDK's BadRequestV1), or ""
// when there is none: most errors carry their reason only in the
// X-BambooHR-Error-Message header, and the body is empty.
// https://documentation.bamboohr.com/docs/api-details (status codes)
func bambooHRVendorError(body []byte) string {
	var e struct {
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == nil {
		return ""
	}
	return e.Error.Message
}
