package hibob

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/offboarder/offboarder/sources"
)

// hibobIDRE is the form of a Bob employee id (its backend id, digits in
// Bob's examples: 3332883854254932743). An email, which the People API also
// takes as an identifier, is refused.
var hibobIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// hibobBody is the part of a webhooks v2 delivery the source reads:
// {"companyId": 636192, "type": "employee.left", "triggeredBy": "…",
// "triggeredAt": "2025-01-08T13:06:26.915906", "version": "v2",
// "data": {"employeeId": "…"}}; employee.deleted adds the work email to
// data. Other fields are left unread.
// https://apidocs.hibob.com/reference/webhook-events-v2
// https://apidocs.hibob.com/changelog/employee-webhooks-employeedeleted-event-now-includes-email
type hibobBody struct {
	Type        *string `json:"type"`
	TriggeredAt string  `json:"triggeredAt"`
	Data        *struct {
		EmployeeID json.RawMessage `json:"employeeId"`
		Email      json.RawMessage `json:"email"`
	} `json:"data"`
}

// Parse implements sources.Source. A delivery is one webhooks v2 JSON event. An
// event of a mapped type becomes one Event: Type the Bob event type, Reason
// from `events` over the defaults, IDs["hibob"] data.employeeId, no email
// (the worker's Resolve reads it) except for employee.deleted, whose record
// cannot be read any more and whose payload carries the work email. Its ID
// is "<type>/<employee id>@<triggeredAt>" (without a usable triggeredAt, a
// hash of the body takes its place): webhooks v2 events carry no id of
// their own, and a retry resends the same body.
//
// An unmapped type (employee.updated, a time-off event…) is ignored with
// the reason; a mapped event without a usable data.employeeId, or a body
// that is not a v2 JSON event, is malformed.
func (h *Source) Parse(r *sources.Request) (sources.Delivery, error) {
	if len(bytes.TrimSpace(r.Body)) == 0 {
		return sources.Delivery{}, fmt.Errorf("hibob: %w", sources.Malformed("empty body"))
	}
	var b hibobBody
	if err := sources.Decode(r.Body, &b); err != nil {
		return sources.Delivery{}, fmt.Errorf("hibob: %w", sources.Malformed("%s", err))
	}
	if b.Type == nil || *b.Type == "" {
		return sources.Delivery{}, fmt.Errorf("hibob: %w", sources.Malformed("type: required"))
	}
	typ := *b.Type
	reason, ok := h.events[typ]
	if !ok {
		return sources.Delivery{Ignored: fmt.Sprintf("hibob: event type %q is not an offboarding", sources.Truncate(typ, 64))}, nil
	}
	if b.Data == nil {
		return sources.Delivery{}, fmt.Errorf("hibob: %w", sources.Malformed("data: required"))
	}
	id, ok := sources.ReadID(b.Data.EmployeeID, hibobIDRE)
	if !ok {
		return sources.Delivery{}, fmt.Errorf("hibob: %w", sources.Malformed("data.employeeId: want a Bob employee id (a webhooks v2 payload)"))
	}
	ev := sources.Event{ID: sources.ChangeID(typ+"/"+id, b.TriggeredAt, r.Body), Type: typ, Reason: reason, IDs: map[string]string{"hibob": id}}
	if typ == EmployeeDeleted {
		var email string
		if json.Unmarshal(b.Data.Email, &email) == nil {
			if e, err := sources.NormalizeEmail(email); err == nil {
				ev.Email = e
			}
		}
	}
	return sources.Delivery{Events: []sources.Event{ev}}, nil
}
