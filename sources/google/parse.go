package google

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/offboarder/offboarder/sources"
)

// googleActivity is the part of an Activity the source reads: the body of
// a notification [push] and an item of an activities.list answer [list].
// actor (the admin who acted) is deliberately not read: the subject is the
// USER_EMAIL parameter.
type googleActivity struct {
	ID *struct {
		Time            string      `json:"time"`
		UniqueQualifier googleInt64 `json:"uniqueQualifier"`
		ApplicationName string      `json:"applicationName"`
	} `json:"id"`
	Events []googleEvent `json:"events"`
}

type googleEvent struct {
	Type       string `json:"type"`
	Name       string `json:"name"`
	Parameters []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"parameters"`
}

// googleInt64 is an int64 as Google's JSON carries it: a decimal string
// ("-0987654321" in [push]'s example), or a bare number. It keeps the
// canonical decimal form; "" when absent or not an integer.
type googleInt64 string

var googleIntRE = regexp.MustCompile(`^-?[0-9]{1,20}$`)

// UnmarshalJSON keeps the canonical form of an integer, or "" for anything
// else; it never fails, so that one odd field does not cost the activity.
func (v *googleInt64) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if googleIntRE.MatchString(s) {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			*v = googleInt64(strconv.FormatInt(n, 10))
			return nil
		}
	}
	*v = ""
	return nil
}

// Parse implements sources.Source. The body is one Activity [push]; a body that is
// not a JSON object is malformed, and an empty one is ignored (the hourly
// poll of Maintain reads the activity instead). Each event of the activity
// whose name is mapped (SUSPEND_USER, DELETE_USER and `events`) becomes one
// Event: Email the USER_EMAIL parameter, normalised; Type the event name;
// ID the key EventID makes, which the poll makes alike. An activity
// of another application than admin, or an event without a usable email
// or id, is ignored, and Delivery.Ignored says why.
func (g *Source) Parse(r *sources.Request) (sources.Delivery, error) {
	body := bytes.TrimSpace(r.Body)
	if len(body) == 0 {
		return sources.Delivery{Ignored: "google: a notification without an activity; maintenance polls for it"}, nil
	}
	var a googleActivity
	if err := sources.Decode(body, &a); err != nil {
		return sources.Delivery{}, fmt.Errorf("google: %w", sources.Malformed("%s", err))
	}
	if len(a.Events) > MaxEvents {
		return sources.Delivery{}, fmt.Errorf("google: %w", sources.Malformed("events: more than %d events", MaxEvents))
	}
	var (
		seen    = map[string]bool{}
		ignored = map[string]int{}
		skipped []string
		out     []sources.Event
	)
	g.activityEvents(a, seen, ignored, &skipped, &out)
	if len(out) > 0 {
		return sources.Delivery{Events: out}, nil
	}
	return sources.Delivery{Ignored: googleIgnored(len(a.Events), ignored, skipped)}, nil
}

// activityEvents appends to out the Events of a's mapped events not in
// seen; it counts the unmapped event names in ignored and says in skipped
// why a mapped one could not be used.
func (g *Source) activityEvents(a googleActivity, seen map[string]bool, ignored map[string]int, skipped *[]string, out *[]sources.Event) {
	if a.ID != nil && a.ID.ApplicationName != "" && a.ID.ApplicationName != "admin" {
		ignored["application "+sources.Truncate(a.ID.ApplicationName, 32)] += len(a.Events)
		return
	}
	for _, e := range a.Events {
		reason, ok := g.events[e.Name]
		if !ok {
			ignored[sources.Truncate(e.Name, 64)]++
			continue
		}
		if a.ID == nil || a.ID.UniqueQualifier == "" {
			*skipped = append(*skipped, e.Name+": no id.uniqueQualifier")
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, a.ID.Time)
		if err != nil {
			*skipped = append(*skipped, e.Name+": no usable id.time")
			continue
		}
		var email string
		for _, p := range e.Parameters {
			if p.Name == "USER_EMAIL" {
				email = p.Value
				break
			}
		}
		norm, err := sources.NormalizeEmail(email)
		if err != nil {
			*skipped = append(*skipped, e.Name+": no usable USER_EMAIL")
			continue
		}
		id := EventID(at, string(a.ID.UniqueQualifier), e.Name, norm)
		if seen[id] {
			continue
		}
		seen[id] = true
		*out = append(*out, sources.Event{ID: id, Type: e.Name, Email: norm, Reason: reason})
	}
}

// EventID is the dedupe key of an admin activity event:
// "<time>/<uniqueQualifier>/<event name>/<12 hex digits of the email's
// SHA-256>", the time in UTC. An activity is identified by its time and
// uniqueQualifier ("unique qualifier if multiple events have the same
// time" [push]); the event name and the subject tell apart the events one
// activity may hold. A push and the poll of the same activity make the
// same key, so they count once.
func EventID(at time.Time, uniqueQualifier, eventName, email string) string {
	sum := sha256.Sum256([]byte(email))
	return at.UTC().Format(time.RFC3339Nano) + "/" + uniqueQualifier + "/" + sources.Truncate(eventName, 128) + "/" + hex.EncodeToString(sum[:6])
}

// googleIgnored says why an activity (or a poll) gave no event.
func googleIgnored(n int, ignored map[string]int, skipped []string) string {
	if n == 0 {
		return "google: an activity without events"
	}
	var parts []string
	if len(ignored) > 0 {
		names := make([]string, 0, len(ignored))
		for k, c := range ignored {
			if k == "" {
				k = "(no name)"
			}
			if c > 1 {
				k += fmt.Sprintf(" (%d)", c)
			}
			names = append(names, k)
		}
		sort.Strings(names)
		parts = append(parts, "not offboarding events: "+sources.FirstFew(names))
	}
	if len(skipped) > 0 {
		parts = append(parts, "skipped: "+sources.FirstFew(skipped))
	}
	return "google: " + strings.Join(parts, "; ")
}
