package entra

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
)

// entraCollection is a changeNotificationCollection: the body of every
// delivery [notif].
// https://learn.microsoft.com/graph/api/resources/changenotificationcollection
type entraCollection struct {
	Value *[]entraNotification `json:"value"`
}

// entraNotification is the part of a changeNotification the source reads
// [notif]. For a user, resource is "Users/{id}" and resourceData carries the
// id and a sequenceNumber [softdelete]. A lifecycle notification has
// lifecycleEvent and no resource [lifecycle].
type entraNotification struct {
	ID             string             `json:"id"`
	SubscriptionID string             `json:"subscriptionId"`
	ChangeType     string             `json:"changeType"`
	Resource       string             `json:"resource"`
	LifecycleEvent string             `json:"lifecycleEvent"`
	ResourceData   *entraResourceData `json:"resourceData"`
	// ClientState is Verify's; it is named here so that Parse refuses the
	// key in another case, which Verify reads as encoding/json does.
	ClientState *string `json:"clientState"`
}

type entraResourceData struct {
	ID             string          `json:"id"`
	SequenceNumber json.RawMessage `json:"sequenceNumber"`
}

// entraGUIDRE is the form of a directory object id and a subscription id.
var entraGUIDRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// entraSeqRE is a usable sequenceNumber or notification id: short and plain.
var entraSeqRE = regexp.MustCompile(`^[A-Za-z0-9._:=+/-]{1,64}$`)

// entraReasons maps the change types the subscription asks for to reasons.
// "updated" covers a user created, changed, disabled or soft-deleted;
// "deleted" is the hard delete [subscr][softdelete]. Whether an updated
// user is leaving at all is Resolve's to say.
var entraReasons = map[string]offboard.Reason{
	"updated": offboard.ReasonDeactivated,
	"deleted": offboard.ReasonTerminated,
}

// Parse implements sources.Source. The body is a collection of at most
// MaxNotifications notifications; anything else is malformed. Each
// notification of a user ("Users/{id}", changeType updated or deleted)
// becomes one id-only Event: IDs["entra"] the user's object id (lower
// case), no email (Resolve asks Graph), reason deactivated for updated and
// terminated for deleted, and ID the key EventID makes (a
// notification with neither a sequenceNumber nor an id gets a key unique to
// this receipt: see entraOnce).
//
// A notification that cannot be used (not a user, no usable id, another
// change type) is skipped, not failed, so that it does not cost the others.
// Lifecycle notifications (reauthorizationRequired, subscriptionRemoved,
// missed) are recognised and ignored: the handler may not call Graph, and
// Maintain renews the subscription on every run (which reauthorizes it)
// and recreates it when Graph says it is gone [lifecycle]. When no event is
// left, Delivery.Ignored says what the delivery held.
func (e *Source) Parse(r *sources.Request) (sources.Delivery, error) {
	if len(bytes.TrimSpace(r.Body)) == 0 {
		return sources.Delivery{}, fmt.Errorf("entra: %w", sources.Malformed("empty body"))
	}
	var c entraCollection
	if err := sources.Decode(r.Body, &c); err != nil {
		return sources.Delivery{}, fmt.Errorf("entra: %w", sources.Malformed("%s", err))
	}
	if c.Value == nil {
		return sources.Delivery{}, fmt.Errorf("entra: %w", sources.Malformed("value: required"))
	}
	items := *c.Value
	if len(items) > MaxNotifications {
		return sources.Delivery{}, fmt.Errorf("entra: %w", sources.Malformed("value: more than %d notifications", MaxNotifications))
	}
	var (
		out       []sources.Event
		lifecycle = map[string]int{}
		skipped   []string
		seen      = map[string]bool{}
	)
	for _, n := range items {
		if n.LifecycleEvent != "" {
			lifecycle[sources.Truncate(n.LifecycleEvent, 64)]++
			continue
		}
		ev, why := entraEvent(n)
		switch {
		case why != "":
			skipped = append(skipped, why)
		case !seen[ev.ID]:
			seen[ev.ID] = true
			out = append(out, ev)
		}
	}
	if len(out) > 0 {
		return sources.Delivery{Events: out}, nil
	}
	return sources.Delivery{Ignored: entraIgnored(len(items), lifecycle, skipped)}, nil
}

// entraEvent makes the Event of one change notification, or says why it
// cannot.
func entraEvent(n entraNotification) (sources.Event, string) {
	reason, ok := entraReasons[n.ChangeType]
	if !ok {
		return sources.Event{}, "change type " + fmt.Sprintf("%q", sources.Truncate(n.ChangeType, 32)) + " is not updated or deleted"
	}
	id := entraUserID(n)
	if id == "" {
		return sources.Event{}, "resource " + fmt.Sprintf("%q", sources.Truncate(n.Resource, 64)) + " is not a user"
	}
	if !entraGUIDRE.MatchString(n.SubscriptionID) {
		return sources.Event{}, "no usable subscriptionId"
	}
	seq := entraSeq(n)
	if seq == "" {
		seq = entraOnce()
	}
	return sources.Event{
		ID:     EventID(n.SubscriptionID, id, n.ChangeType, seq),
		Type:   n.ChangeType,
		IDs:    map[string]string{"entra": id},
		Reason: reason,
	}, ""
}

// entraUserID returns the user's object id, lower case, from resourceData.id,
// or from resource ("Users/{id}") when resourceData has none; "" when the
// notification is not about a user or the two disagree.
func entraUserID(n entraNotification) string {
	prefix, fromResource, ok := strings.Cut(n.Resource, "/")
	if !ok || !strings.EqualFold(prefix, "users") || strings.Contains(fromResource, "/") {
		return ""
	}
	id := fromResource
	if n.ResourceData != nil && n.ResourceData.ID != "" {
		if !strings.EqualFold(n.ResourceData.ID, fromResource) {
			return ""
		}
		id = n.ResourceData.ID
	}
	if !entraGUIDRE.MatchString(id) {
		return ""
	}
	return strings.ToLower(id)
}

// entraSeq is what tells one change of a user from the next: the
// resourceData's sequenceNumber, else the notification's id; "" if neither
// is usable (see entraOnce).
func entraSeq(n entraNotification) string {
	if n.ResourceData != nil {
		s := strings.Trim(string(bytes.TrimSpace(n.ResourceData.SequenceNumber)), `"`)
		if entraSeqRE.MatchString(s) {
			return s
		}
	}
	if entraSeqRE.MatchString(n.ID) {
		return n.ID
	}
	return ""
}

// EventID is the dedupe key of a user change notification:
// "<subscription id>/<user id>/<change type>/<sequence>", where sequence is
// the resourceData's sequenceNumber (or else the notification's id). Graph
// resends a notification it got no 2xx for [webhooks]; the resend carries
// the same values and so the same key, while a later change of the same
// user carries a new sequence number.
func EventID(subscriptionID, userID, changeType, seq string) string {
	id := strings.ToLower(subscriptionID) + "/" + strings.ToLower(userID) + "/" + changeType + "/" + seq
	if len(id) > 200 {
		sum := sha256.Sum256([]byte(id))
		return "sha256:" + hex.EncodeToString(sum[:])
	}
	return id
}

// entraOnce stands in for the sequence of a notification that has none: a
// value unique to this receipt. Two changes of one user could otherwise
// share a key, and the second (the one that disables the account, say)
// would be dropped as a duplicate of the first; a resend counted twice only
// attaches to the same open case or is dismissed again by Resolve.
func entraOnce() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return "once-" + hex.EncodeToString(b[:])
}

// entraIgnored says why a delivery gave no event.
func entraIgnored(n int, lifecycle map[string]int, skipped []string) string {
	if n == 0 {
		return "entra: empty collection"
	}
	var parts []string
	if len(lifecycle) > 0 {
		names := make([]string, 0, len(lifecycle))
		for k, c := range lifecycle {
			if c > 1 {
				k += fmt.Sprintf(" (%d)", c)
			}
			names = append(names, k)
		}
		sort.Strings(names)
		parts = append(parts, "lifecycle notifications "+sources.FirstFew(names)+": maintenance renews or recreates the subscription within the hour")
	}
	if len(skipped) > 0 {
		parts = append(parts, "skipped: "+sources.FirstFew(skipped))
	}
	return "entra: " + strings.Join(parts, "; ")
}
