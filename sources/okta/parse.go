package okta

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
)

// oktaHookBody is the part of an event delivery the okta source reads. Okta
// wraps System Log events in a CloudEvents-style envelope; data.events holds
// one LogEvent per event. Every other field, here and in the LogEvent, is
// left unread: the schema is large and grows.
// https://developer.okta.com/docs/concepts/event-hooks/#sample-event-delivery-payload
type oktaHookBody struct {
	Data *struct {
		Events *[]oktaLogEvent `json:"events"`
	} `json:"data"`
}

// oktaLogEvent is what a LogEvent tells of an offboarding. Its actor (the
// admin or system that acted) is deliberately not read: the subject is only
// ever a target.
// https://developer.okta.com/docs/reference/api/system-log/#attributes
type oktaLogEvent struct {
	UUID      string       `json:"uuid"`      // unique per event: the dedupe key
	EventType string       `json:"eventType"` // user.lifecycle.deactivate
	Published string       `json:"published"` // when Okta logged it (RFC 3339); read by Maintain only
	Outcome   *oktaOutcome `json:"outcome"`
	Target    []oktaTarget `json:"target"`
}

// oktaOutcome.Result is SUCCESS, FAILURE, SKIPPED, ALLOW, DENY, CHALLENGE or
// UNKNOWN.
// https://developer.okta.com/docs/reference/api/system-log/#outcome-object
type oktaOutcome struct {
	Result string `json:"result"`
}

// oktaTarget is one target of a LogEvent. For a user, alternateId is the
// login (john.doe@example.com in the event hook guide's deactivation event);
// the System Log reference's target example also shows a "login" field.
// https://developer.okta.com/docs/reference/api/system-log/#target-object
// https://developer.okta.com/docs/guides/event-hook-implementation/nodejs/main/
type oktaTarget struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	AlternateID string `json:"alternateId"`
	Login       string `json:"login"`
}

// Parse implements sources.Source. A delivery is JSON with data.events, an array of
// at most MaxEvents System Log events; anything else is malformed. Each
// event of a mapped type becomes one Event: ID the event's uuid, the subject
// the event's one target of type "User" (email from its alternateId, else
// its login; IDs["okta"] its id), never the actor. Unknown fields are fine.
//
// An event of a mapped type that cannot be used (no uuid, no User target or
// more than one, no email login, an outcome other than SUCCESS) is skipped,
// not failed: Okta does not retry a 4xx, so refusing the batch would lose
// the other events in it. A uuid repeated within the batch counts once.
// When no event is left, the Delivery's Ignored names the event types
// ignored and the events skipped, and why.
func (o *Source) Parse(r *sources.Request) (sources.Delivery, error) {
	if len(bytes.TrimSpace(r.Body)) == 0 {
		return sources.Delivery{}, fmt.Errorf("okta: %w", sources.Malformed("empty body"))
	}
	var b oktaHookBody
	if err := sources.Decode(r.Body, &b); err != nil {
		return sources.Delivery{}, fmt.Errorf("okta: %w", sources.Malformed("%s", err))
	}
	if b.Data == nil || b.Data.Events == nil {
		return sources.Delivery{}, fmt.Errorf("okta: %w", sources.Malformed("data.events: required"))
	}
	batch := *b.Data.Events
	if len(batch) > MaxEvents {
		return sources.Delivery{}, fmt.Errorf("okta: %w", sources.Malformed("data.events: more than %d events", MaxEvents))
	}
	var (
		out     []sources.Event
		ignored = map[string]int{} // event type → count
		skipped []string
		seen    = map[string]bool{}
	)
	for _, e := range batch {
		reason, ok := o.events[e.EventType]
		if !ok {
			ignored[e.EventType]++
			continue
		}
		ev, why := oktaEvent(e, reason)
		switch {
		case why != "":
			skipped = append(skipped, sources.Truncate(e.EventType, 64)+" "+sources.Truncate(e.UUID, 64)+": "+why)
		case !seen[ev.ID]:
			seen[ev.ID] = true
			out = append(out, ev)
		}
	}
	if len(out) == 0 {
		return sources.Delivery{Ignored: oktaIgnored(len(batch), ignored, skipped)}, nil
	}
	return sources.Delivery{Events: out}, nil
}

// oktaEvent makes the Event of one mapped LogEvent, or says why it cannot.
func oktaEvent(e oktaLogEvent, reason offboard.Reason) (sources.Event, string) {
	if e.UUID == "" || len(e.UUID) > 200 || !sources.Printable(e.UUID) {
		return sources.Event{}, "no usable uuid"
	}
	if e.Outcome != nil && e.Outcome.Result != "" && e.Outcome.Result != "SUCCESS" {
		return sources.Event{}, "outcome " + sources.Truncate(e.Outcome.Result, 32) + ", not SUCCESS"
	}
	var user *oktaTarget
	for i := range e.Target {
		if e.Target[i].Type != "User" {
			continue
		}
		if user != nil {
			return sources.Event{}, "more than one User target"
		}
		user = &e.Target[i]
	}
	if user == nil {
		return sources.Event{}, "no User target"
	}
	email, err := sources.NormalizeEmail(user.AlternateID)
	if err != nil {
		if email, err = sources.NormalizeEmail(user.Login); err != nil {
			return sources.Event{}, "the User target has no email login"
		}
	}
	ev := sources.Event{ID: e.UUID, Type: e.EventType, Email: email, Reason: reason}
	if oktaIDRE.MatchString(user.ID) {
		ev.IDs = map[string]string{"okta": user.ID}
	}
	return ev, ""
}

// oktaIgnored says why a batch gave no event: at most five event types and
// five skipped events are named.
func oktaIgnored(n int, ignored map[string]int, skipped []string) string {
	if n == 0 {
		return "okta: empty batch"
	}
	var parts []string
	if len(ignored) > 0 {
		types := make([]string, 0, len(ignored))
		for t := range ignored {
			types = append(types, t)
		}
		sort.Strings(types)
		names := make([]string, 0, len(types))
		for _, t := range types {
			name := sources.Truncate(t, 64)
			if t == "" {
				name = "(no eventType)"
			}
			if ignored[t] > 1 {
				name += fmt.Sprintf(" (%d)", ignored[t])
			}
			names = append(names, name)
		}
		parts = append(parts, "not offboarding event types: "+sources.FirstFew(names))
	}
	if len(skipped) > 0 {
		parts = append(parts, "skipped: "+sources.FirstFew(skipped))
	}
	return "okta: " + strings.Join(parts, "; ")
}
