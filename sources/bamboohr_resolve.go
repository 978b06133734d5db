package sources

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

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

// Resolve implements Resolver: it reads the employee named by
// IDs["bamboohr"] with Get Employee (onlyCurrent=false, so that a
// future-dated termination shows) and answers:
//
//   - a termination date after today (UTC): offboard, effective at the end of
//     that date in UTC (see hrTerminationAt);
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
func (b *BambooHR) Resolve(ctx context.Context, ev Event) (Resolution, error) {
	id := ev.IDs["bamboohr"]
	if !bambooHRIDRE.MatchString(id) {
		return Resolution{}, &vendorapi.Error{System: "bamboohr", Kind: vendorapi.Invalid,
			Msg: "the event carries no usable bamboohr employee id"}
	}
	var emp bambooHREmployeeRecord
	q := url.Values{"fields": {bambooHRResolveFields}, "onlyCurrent": {"false"}}
	if _, err := b.client.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: "/api/v1/employees/" + id, Query: q}, &emp); err != nil {
		// Get Employee answers 404 when "no employee was found for the
		// supplied ID": nothing to wait for, a person must look.
		var e *vendorapi.Error
		if errors.As(err, &e) && e.Kind == vendorapi.NotFound {
			return Resolution{}, &vendorapi.Error{System: "bamboohr", Kind: vendorapi.NotFound, Status: e.Status,
				Msg: "employee " + id + " not found in BambooHR (deleted, or not an internal employee id)"}
		}
		return Resolution{}, err
	}
	if emp.Status == nil && emp.EmploymentHistoryStatus == nil && emp.TerminationDate == nil {
		return Resolution{}, &vendorapi.Error{System: "bamboohr", Kind: vendorapi.Auth,
			Msg: "employee " + id + ": the API key's user cannot see status, employmentHistoryStatus or terminationDate; grant it access to them"}
	}
	at, leaving := bambooHRLeaving(emp, b.now())
	if !leaving {
		return Resolution{Ignored: fmt.Sprintf("bamboohr: employee %s is not leaving (status %s, employment status %s, no termination date ahead)",
			id, hrWord(emp.Status), hrWord(emp.EmploymentHistoryStatus))}, nil
	}
	if emp.WorkEmail == nil || *emp.WorkEmail == "" {
		return Resolution{}, &vendorapi.Error{System: "bamboohr", Kind: vendorapi.Invalid,
			Msg: "employee " + id + " has no work email in BambooHR (or the API key's user cannot see workEmail)"}
	}
	email, err := NormalizeEmail(*emp.WorkEmail)
	if err != nil {
		return Resolution{}, &vendorapi.Error{System: "bamboohr", Kind: vendorapi.Invalid,
			Msg: "employee " + id + " has an unusable work email: " + err.Error()}
	}
	return Resolution{Email: email, Offboard: true, EffectiveAt: at, IDs: map[string]string{"bamboohr": id}}, nil
}

// bambooHRLeaving decides from an employee record whether the person is
// leaving and when (zero: now).
func bambooHRLeaving(e bambooHREmployeeRecord, now time.Time) (time.Time, bool) {
	if e.TerminationDate != nil {
		if at, ok := hrTerminationAt(*e.TerminationDate, now); ok && !at.IsZero() {
			return at, true
		}
	}
	terminated := e.EmploymentHistoryStatus != nil && strings.EqualFold(strings.TrimSpace(*e.EmploymentHistoryStatus), "Terminated")
	inactive := e.Status != nil && strings.EqualFold(strings.TrimSpace(*e.Status), "Inactive")
	return time.Time{}, terminated || inactive
}

// hrTerminationAt reads a termination date (YYYY-MM-DD; "" and 0000-00-00
// are no date: ok false) and says when access ends. An HR system's
// termination date is the last day of employment and comes without a time
// zone, so:
//
//   - a date after today (UTC) ends at the end of that date in UTC (the next
//     day's 00:00Z): the person keeps access through their whole last day
//     wherever the day has not yet ended in UTC, and no one loses it a day
//     early;
//   - a date of today or earlier is now (zero time): a same-day termination
//     is usually an immediate one, and waiting until midnight would leave
//     sessions open for hours.
func hrTerminationAt(date string, now time.Time) (time.Time, bool) {
	date = strings.TrimSpace(date)
	if len(date) != len("2006-01-02") || date == "0000-00-00" {
		return time.Time{}, false
	}
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return time.Time{}, false
	}
	y, m, day := now.UTC().Date()
	if !d.After(time.Date(y, m, day, 0, 0, 0, 0, time.UTC)) {
		return time.Time{}, true
	}
	return d.AddDate(0, 0, 1), true
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
	if !Printable(v) {
		return "unreadable"
	}
	return fmt.Sprintf("%q", Truncate(v, 40))
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
