package okta

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/offboarder/offboarder/simulator/fake"
)

// The System Log and the lifecycle call that writes to it. Okta's
// documentation, cited below by these names:
//
//	[logs]       https://developer.okta.com/docs/api/openapi/okta-management/management/tag/SystemLog/#tag/SystemLog/operation/listLogEvents
//	[syslog]     https://developer.okta.com/docs/reference/api/system-log/ (LogEvent, bounded and polling requests, filter)
//	[paging]     https://developer.okta.com/docs/api/#pagination
//	[deactivate] https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserLifecycle/#tag/UserLifecycle/operation/deactivateUser
//	[types]      https://developer.okta.com/docs/reference/api/event-types/
const (
	oktaLogsScope     = "okta.logs.read"
	oktaLogLimit      = 100  // limit's default [logs]…
	oktaLogMaxLimit   = 1000 // …and its maximum
	oktaLogDefaultAge = 7 * 24 * time.Hour
)

// oktaLogEvent is a LogEvent as the System Log lists it and an event hook
// delivers it [syslog]: the fields offboarder and the hook guide show.
type oktaLogEvent struct {
	UUID           string          `json:"uuid"`
	Published      string          `json:"published"`
	EventType      string          `json:"eventType"`
	Version        string          `json:"version"`
	Severity       string          `json:"severity"`
	DisplayMessage string          `json:"displayMessage"`
	Actor          oktaLogActor    `json:"actor"`
	Outcome        oktaLogOutcome  `json:"outcome"`
	Target         []oktaLogActor  `json:"target"`
	Transaction    oktaTransaction `json:"transaction"`

	seq       int
	published time.Time
}

type oktaLogActor struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	AlternateID string `json:"alternateId"`
	DisplayName string `json:"displayName"`
}

type oktaLogOutcome struct {
	Result string  `json:"result"`
	Reason *string `json:"reason"`
}

type oktaTransaction struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// deactivate deactivates the user of id (an id or a login): its status
// becomes DEPROVISIONED and the System Log gets a user.lifecycle.deactivate
// event whose target is the user [deactivate][types]. It answers 200 with an
// empty object; a user already deprovisioned is answered the same and
// logged once only. Sessions are left as they are: ending them is
// offboarder's part.
func (o *okta) deactivate(w http.ResponseWriter, r *http.Request) {
	if !o.allowed(w, r, oktaManageScope) {
		return
	}
	id := r.PathValue("id")
	o.mu.Lock()
	u := o.find(id)
	if u != nil && !u.deprovisioned {
		u.deprovisioned = true
		now := time.Now().UTC().Truncate(time.Millisecond)
		o.log = append(o.log, oktaLogEvent{
			UUID: uuid.NewString(), Published: now.Format(oktaTime), EventType: "user.lifecycle.deactivate", Version: "0",
			Severity: "INFO", DisplayMessage: "Deactivate Okta user",
			Actor:       oktaLogActor{ID: oktaID("00u", "admin"), Type: "User", AlternateID: "admin@example.com", DisplayName: "Simulated Admin"},
			Outcome:     oktaLogOutcome{Result: "SUCCESS"},
			Target:      []oktaLogActor{{ID: u.id, Type: "User", AlternateID: u.login, DisplayName: u.firstName + " " + u.lastName}},
			Transaction: oktaTransaction{Type: "WEB", ID: uuid.NewString()},
			seq:         len(o.log) + 1, published: now,
		})
	}
	o.mu.Unlock()
	if u == nil {
		oktaFail(w, oktaNotFound(id))
		return
	}
	fake.WriteJSON(w, http.StatusOK, map[string]any{})
}

// oktaLogFilterRE is the part of the filter language the fake knows:
// eventType eq "…" clauses joined by or [syslog].
var oktaLogFilterRE = regexp.MustCompile(`^eventType eq "([A-Za-z0-9_.]+)"$`)

// listLogs answers the System Log events published from since (default: 7
// days before now) up to until, that match filter, limit (default 100, at
// most 1000) at a time, sorted by published (sortOrder ASCENDING, the
// default, or DESCENDING), from after the cursor after [logs]. A bounded
// request (until given) carries a Link rel="next" only when more events
// remain; a polling request (no until) always does, for the events still
// to come [syslog][paging].
func (o *okta) listLogs(w http.ResponseWriter, r *http.Request) {
	if !o.allowed(w, r, oktaLogsScope) {
		return
	}
	q := r.URL.Query()
	now := time.Now().UTC()
	until, bounded := now, q.Has("until")
	if bounded {
		t, err := oktaParseTime(q.Get("until"))
		if err != nil {
			oktaFail(w, err)
			return
		}
		until = t
	}
	since := until.Add(-oktaLogDefaultAge)
	if q.Has("since") {
		t, err := oktaParseTime(q.Get("since"))
		if err != nil {
			oktaFail(w, err)
			return
		}
		since = t
	}
	limit := oktaLogLimit
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			oktaFail(w, oktaErr(http.StatusBadRequest, "E0000001", "Api validation failed: limit", "limit: must be a positive integer"))
			return
		}
		limit = min(n, oktaLogMaxLimit)
	}
	types := map[string]bool{}
	if f := q.Get("filter"); f != "" {
		for clause := range strings.SplitSeq(f, " or ") {
			m := oktaLogFilterRE.FindStringSubmatch(strings.TrimSpace(clause))
			if m == nil {
				oktaFail(w, oktaErr(http.StatusBadRequest, "E0000031", "Bad request. Invalid filter parameter.", "the simulator knows eventType eq \"…\" joined by or"))
				return
			}
			types[m[1]] = true
		}
	}
	desc := strings.EqualFold(q.Get("sortOrder"), "DESCENDING")
	after := 0
	if a := q.Get("after"); a != "" {
		n, err := strconv.Atoi(a)
		if err != nil || n < 0 {
			oktaFail(w, oktaErr(http.StatusBadRequest, "E0000001", "Api validation failed: after", "after: not a cursor this log gave"))
			return
		}
		after = n
	}
	o.mu.Lock()
	var match []oktaLogEvent
	for _, e := range o.log {
		if e.published.Before(since) || !e.published.Before(until) || len(types) > 0 && !types[e.EventType] {
			continue
		}
		match = append(match, e)
	}
	o.mu.Unlock()
	if desc {
		for i, j := 0, len(match)-1; i < j; i, j = i+1, j-1 {
			match[i], match[j] = match[j], match[i]
		}
	}
	// after is the position in the sorted answer past which to go on.
	start := min(after, len(match))
	page := match[start:min(start+limit, len(match))]
	next := start + len(page)
	base := oktaBase(r) + "/api/v1/logs"
	self := base
	if r.URL.RawQuery != "" {
		self += "?" + r.URL.RawQuery
	}
	w.Header().Add("Link", "<"+self+`>; rel="self"`)
	if !bounded || next < len(match) {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("after", strconv.Itoa(next))
		w.Header().Add("Link", "<"+base+"?"+nq.Encode()+`>; rel="next"`)
	}
	if page == nil {
		page = []oktaLogEvent{}
	}
	fake.WriteJSON(w, http.StatusOK, page)
}

// oktaParseTime reads a since or until: ISO 8601 with a zone [logs].
func oktaParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, oktaErr(http.StatusBadRequest, "E0000030", "Bad request. Invalid date. Dates must be of the form yyyy-MM-dd'T'HH:mm:ss.SSSZZ, e.g. 2013-01-01T12:00:00.000-07:00.")
	}
	return t.UTC(), nil
}
