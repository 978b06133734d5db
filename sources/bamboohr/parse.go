package bamboohr

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
)

// Event types the bamboohr source records. The event-based format names its
// own (employee.updated); a field-based delivery is recorded under the name
// BambooHR gives that format's update event.
// https://documentation.bamboohr.com/docs/event-based-webhooks
// https://documentation.bamboohr.com/docs/field-based-webhooks
const (
	EmployeeUpdated   = "employee.updated"
	EmployeeCreated   = "employee.created"
	EmployeeDeleted   = "employee.deleted"
	FieldBasedUpdated = "employee_with_fields.updated"
)

// bambooHRIDRE is the form of an internal employee id: a positive integer.
// "0" is refused: Get Employee reads it as the API key's own record.
// https://documentation.bamboohr.com/reference/get-employee
var bambooHRIDRE = regexp.MustCompile(`^[1-9][0-9]{0,19}$`)

// bambooHRTerminationFields are the fields whose change can mean a
// termination, as normalised by bambooHRField: the API names (status,
// employmentHistoryStatus, terminationDate) and the English display names a
// field-based webhook posts by default (Status, Employment Status,
// Termination Date).
// https://documentation.bamboohr.com/docs/list-of-field-names
// https://documentation.bamboohr.com/docs/webhooks (monitorable fields)
var bambooHRTerminationFields = map[string]bool{
	"status":                  true,
	"employmenthistorystatus": true,
	"employmentstatus":        true,
	"terminationdate":         true,
}

// bambooHRBody is a delivery in either of BambooHR's formats: event-based
// (type, timestamp, data{companyId, employeeId, changedFields}) or
// field-based (employees[] of {id, action, timestamp, changedFields,
// fields}). Other fields are left unread.
// https://documentation.bamboohr.com/docs/event-based-webhooks
// https://documentation.bamboohr.com/docs/field-based-webhooks
type bambooHRBody struct {
	Type      *string `json:"type"`
	Timestamp string  `json:"timestamp"`
	Data      *struct {
		EmployeeID    json.RawMessage `json:"employeeId"`
		ChangedFields []string        `json:"changedFields"`
	} `json:"data"`
	Employees *[]json.RawMessage `json:"employees"`
}

// bambooHRFieldEmployee is one entry of a field-based delivery. Field names
// are BambooHR's English names or the aliases the webhook was set up with;
// values are strings.
type bambooHRFieldEmployee struct {
	ID            json.RawMessage            `json:"id"`
	Action        string                     `json:"action"`
	Timestamp     string                     `json:"timestamp"`
	ChangedFields []string                   `json:"changedFields"`
	Fields        map[string]json.RawMessage `json:"fields"`
}

// Parse implements sources.Source. A JSON body in the event-based or the field-based
// format is read; anything else (the form-encoded format too: choose JSON
// when setting up the webhook) is malformed.
//
// An employee.updated event, or an "Updated" field-based entry, becomes an
// Event when one of its changed fields is a termination field (status,
// employment status, termination date) whose posted value, if any, says
// termination (Inactive, Terminated, a date); the worker's Resolve then
// checks the employee. Such an Event carries no email: IDs["bamboohr"] is
// the employee id, Reason is terminated, and ID is "<employee id>@<the
// change's timestamp>" (or, without a usable timestamp, a hash of the
// change), so a redelivery of the same change is one event.
//
// Created and deleted employees are ignored: BambooHR records a termination
// as a status change, and a deleted record can no longer be looked up. In a
// field-based batch, an unusable entry is skipped, not failed: BambooHR does
// not retry a 4xx, so refusing the batch would lose the rest of it.
// https://documentation.bamboohr.com/reference/employee-deleted-webhook (4xx not retried)
func (b *Source) Parse(r *sources.Request) (sources.Delivery, error) {
	if len(bytes.TrimSpace(r.Body)) == 0 {
		return sources.Delivery{}, fmt.Errorf("bamboohr: %w", sources.Malformed("empty body"))
	}
	var body bambooHRBody
	if err := sources.Decode(r.Body, &body); err != nil {
		return sources.Delivery{}, fmt.Errorf("bamboohr: %w", sources.Malformed("%s (choose the JSON format for the webhook)", err))
	}
	switch {
	case body.Employees != nil:
		return parseBambooHRFieldBased(*body.Employees)
	case body.Type != nil:
		return parseBambooHREvent(&body, r.Body)
	}
	return sources.Delivery{}, fmt.Errorf("bamboohr: %w", sources.Malformed("want employees (field-based) or type and data (event-based)"))
}

// parseBambooHREvent reads an event-based delivery: one event.
func parseBambooHREvent(body *bambooHRBody, raw []byte) (sources.Delivery, error) {
	typ := *body.Type
	switch typ {
	case EmployeeUpdated:
	case EmployeeCreated:
		return sources.Delivery{Ignored: "bamboohr: employee.created is not an offboarding"}, nil
	case EmployeeDeleted:
		return sources.Delivery{Ignored: "bamboohr: employee.deleted is not acted on (a termination is a status change; a deleted record cannot be looked up)"}, nil
	default:
		return sources.Delivery{Ignored: fmt.Sprintf("bamboohr: event type %q is not an offboarding", sources.Truncate(typ, 64))}, nil
	}
	if body.Data == nil {
		return sources.Delivery{}, fmt.Errorf("bamboohr: %w", sources.Malformed("data: required"))
	}
	id, ok := bambooHREmployeeID(body.Data.EmployeeID)
	if !ok {
		return sources.Delivery{}, fmt.Errorf("bamboohr: %w", sources.Malformed("data.employeeId: want a positive integer employee id"))
	}
	// The event-based format posts no values: any changed termination field
	// is enough, and Resolve reads the employee.
	if !bambooHRTerminates(body.Data.ChangedFields, nil) {
		return sources.Delivery{Ignored: "bamboohr: employee.updated without a termination field (changed: " + bambooHRFieldList(body.Data.ChangedFields) + ")"}, nil
	}
	return sources.Delivery{Events: []sources.Event{bambooHREvent(id, typ, body.Timestamp, raw)}}, nil
}

// bambooHRStrictEntry is what the strict check holds a field-based entry
// to: its keys, and a value posted as an object, {"value": …}, in that case.
type bambooHRStrictEntry struct {
	bambooHRFieldEmployee
	Fields map[string]struct {
		Value json.RawMessage `json:"value"`
	} `json:"fields"`
}

// parseBambooHRFieldBased reads a field-based delivery: one event per
// employee change that carries a termination.
func parseBambooHRFieldBased(entries []json.RawMessage) (sources.Delivery, error) {
	if len(entries) > MaxEmployees {
		return sources.Delivery{}, fmt.Errorf("bamboohr: %w", sources.Malformed("employees: more than %d entries", MaxEmployees))
	}
	if len(entries) == 0 {
		return sources.Delivery{Ignored: "bamboohr: no employees in the delivery"}, nil
	}
	var (
		out     []sources.Event
		skipped []string
		seen    = map[string]bool{}
	)
	for i, raw := range entries {
		var e bambooHRFieldEmployee
		// A key in another case is refused for the whole delivery, as a
		// duplicate key or invalid UTF-8 anywhere in it is.
		if err := sources.CheckJSON(raw, reflect.TypeFor[bambooHRStrictEntry]()); err != nil {
			return sources.Delivery{}, fmt.Errorf("bamboohr: %w", sources.Malformed("employees[%d]: %s", i, err))
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			skipped = append(skipped, fmt.Sprintf("entry %d: %s", i, sources.SanitizeDecodeError(err)))
			continue
		}
		id, ok := bambooHREmployeeID(e.ID)
		if !ok {
			skipped = append(skipped, fmt.Sprintf("entry %d: no usable employee id", i))
			continue
		}
		if !strings.EqualFold(e.Action, "Updated") {
			skipped = append(skipped, fmt.Sprintf("employee %s: action %q is not an offboarding", id, sources.Truncate(e.Action, 32)))
			continue
		}
		if !bambooHRTerminates(e.ChangedFields, e.Fields) {
			skipped = append(skipped, fmt.Sprintf("employee %s: no termination (changed: %s)", id, bambooHRFieldList(e.ChangedFields)))
			continue
		}
		ev := bambooHREvent(id, FieldBasedUpdated, e.Timestamp, raw)
		if !seen[ev.ID] {
			seen[ev.ID] = true
			out = append(out, ev)
		}
	}
	if len(out) == 0 {
		return sources.Delivery{Ignored: "bamboohr: no termination in the delivery; " + sources.FirstFew(skipped)}, nil
	}
	return sources.Delivery{Events: out}, nil
}

// bambooHREvent makes the id-only Event of one change of employee id.
func bambooHREvent(id, typ, timestamp string, raw []byte) sources.Event {
	return sources.Event{ID: sources.ChangeID(id, timestamp, raw), Type: typ, Reason: offboard.ReasonTerminated, IDs: map[string]string{"bamboohr": id}}
}

// bambooHRTerminates reports whether a change carries a termination: one of
// the changed fields is a termination field whose value in fields is either
// not posted or says termination (status Inactive, employment status
// Terminated, a termination date).
func bambooHRTerminates(changed []string, fields map[string]json.RawMessage) bool {
	posted := make(map[string]json.RawMessage, len(fields))
	for k, v := range fields {
		posted[bambooHRField(k)] = v
	}
	for _, c := range changed {
		f := bambooHRField(c)
		if !bambooHRTerminationFields[f] {
			continue
		}
		raw, ok := posted[f]
		if !ok {
			return true
		}
		v, ok := bambooHRValue(raw)
		if !ok || bambooHRSaysTerminated(f, v) {
			return true
		}
	}
	return false
}

// bambooHRSaysTerminated reports whether the value v of termination field f
// says the employee is leaving.
func bambooHRSaysTerminated(f, v string) bool {
	v = strings.TrimSpace(v)
	switch f {
	case "status":
		return strings.EqualFold(v, "Inactive")
	case "terminationdate":
		return v != "" && v != "0000-00-00"
	}
	return strings.EqualFold(v, "Terminated")
}

// bambooHRValue reads a posted field value: a string, {"value": string}, or
// null (empty). ok is false for anything else, which is then treated as not
// posted.
func bambooHRValue(raw json.RawMessage) (string, bool) {
	var s *string
	if err := json.Unmarshal(raw, &s); err == nil {
		if s == nil {
			return "", true
		}
		return *s, true
	}
	var o struct {
		Value *string `json:"value"`
	}
	if err := json.Unmarshal(raw, &o); err == nil && o.Value != nil {
		return *o.Value, true
	}
	return "", false
}

// bambooHREmployeeID reads an employee id sent as a string or a number.
func bambooHREmployeeID(raw json.RawMessage) (string, bool) {
	return sources.ReadID(raw, bambooHRIDRE)
}

// bambooHRField normalises a field name or alias for matching: lower case,
// letters and digits only (Employment Status → employmentstatus).
func bambooHRField(s string) string {
	return strings.Map(func(r rune) rune {
		if r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}

// bambooHRFieldList names changed fields for an Ignored text: sorted, short,
// at most five.
func bambooHRFieldList(fields []string) string {
	if len(fields) == 0 {
		return "none"
	}
	names := make([]string, 0, len(fields))
	for _, f := range fields {
		if !sources.Printable(f) {
			f = "?"
		}
		names = append(names, sources.Truncate(f, 40))
	}
	sort.Strings(names)
	return sources.FirstFew(names)
}
