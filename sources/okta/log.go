package okta

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/vendorapi"
)

// What the okta source reads of the System Log, in the worker, when it has
// base_url and token. Okta's documentation, cited below by these names:
//
//	[logs]     https://developer.okta.com/docs/api/openapi/okta-management/management/tag/SystemLog/#tag/SystemLog/operation/listLogEvents
//	[syslog]   https://developer.okta.com/docs/reference/api/system-log/ (bounded and polling requests, the filter, Link paging)
//	[paging]   https://developer.okta.com/docs/api/#pagination (Link: <…?after=…>; rel="next")
//	[filter]   https://developer.okta.com/docs/api/#filter
//	[hooks]    https://developer.okta.com/docs/concepts/event-hooks/ (a hook delivers the System Log's LogEvent objects; one retry)
//	[errors]   https://developer.okta.com/docs/reference/error-codes/
const (
	// LogOverlap is how far before the end of the last read a read starts
	// again: an event is written to the System Log a little after it is
	// published, so a bounded read ending at "now" can miss the last
	// seconds [syslog]. Events read twice count once (their uuid is the
	// push's event id).
	LogOverlap = 2 * time.Minute
	// oktaLogLimit is the page size asked for: the maximum [logs].
	oktaLogLimit = "1000"
	// oktaMaxPages bounds the pages one run reads; the cursor then stops at
	// the last event read and the next run goes on from there.
	oktaMaxPages = 50
	oktaStateKey = "system_log"
	oktaLogsPath = "/api/v1/logs"
)

// Reconciler is an okta source with System Log access: beside the hook it
// reads the offboarding events Okta logged (Maintain), so that a delivery
// the hook gave up on ("Okta attempts at most one retry" [hooks]) still
// becomes a case.
type Reconciler struct {
	*Source
	api      *vendorapi.Client
	interval time.Duration
	now      func() time.Time
}

var _ sources.Maintainer = (*Reconciler)(nil)

// oktaLogState is what Maintain keeps in State under "system_log".
type oktaLogState struct {
	// ReadUntil is the end of the last complete read.
	ReadUntil time.Time `json:"read_until"`
}

// Interval implements sources.Maintainer: reconcile_interval.
func (r *Reconciler) Interval() time.Duration { return r.interval }

// Maintain implements sources.Maintainer: it lists the System Log events of
// the source's offboarding event types [logs] published from the end of the
// last read, less LogOverlap, up to now (on the first run: from now less
// the interval), following the Link rel="next" pages [paging], and returns
// their events exactly as Parse would make them from a hook delivery. The
// hook delivers the same LogEvent objects, with the same uuid [hooks], so an
// event that was also pushed is a duplicate and makes no second case.
//
// The cursor moves only when the read succeeded: to now after reading every
// page, or to the last event read when oktaMaxPages were read. An error
// leaves it where it was, so the next run reads the window again. A 401 or
// 403 is permanent: the token is wrong or may not read the System Log.
func (r *Reconciler) Maintain(ctx context.Context, st sources.State) ([]sources.Event, error) {
	s, err := r.load(ctx, st)
	if err != nil {
		return nil, err
	}
	now := r.now().UTC()
	since := now.Add(-r.interval)
	if !s.ReadUntil.IsZero() {
		since = s.ReadUntil.Add(-LogOverlap)
	}
	q := url.Values{
		// A bounded request (since and until): Okta answers a next link
		// only while more events remain [syslog].
		"since":     {since.Format(time.RFC3339Nano)},
		"until":     {now.Format(time.RFC3339Nano)},
		"filter":    {r.filter()},
		"limit":     {oktaLogLimit},
		"sortOrder": {"ASCENDING"},
	}
	var (
		out     []sources.Event
		seen    = map[string]bool{}
		skipped []string
		last    time.Time
	)
	until := now
	for page := 0; ; page++ {
		var got []oktaLogEvent
		var h http.Header
		// [logs]: GET /api/v1/logs; 200 with a JSON array of LogEvent,
		// oldest first with sortOrder ASCENDING.
		if _, err := r.api.Do(ctx, vendorapi.Request{Method: http.MethodGet, Path: oktaLogsPath, Query: q, Answer: &h}, &got); err != nil {
			return nil, err
		}
		for _, e := range got {
			if t, err := time.Parse(time.RFC3339Nano, e.Published); err == nil && t.After(last) {
				last = t
			}
			reason, ok := r.events[e.EventType]
			if !ok {
				continue // the filter asked for none of these
			}
			ev, why := oktaEvent(e, reason)
			switch {
			case why != "":
				skipped = append(skipped, sources.Truncate(e.UUID, 64)+": "+why)
			case !seen[ev.ID]:
				seen[ev.ID] = true
				out = append(out, ev)
			}
		}
		after := nextAfter(h)
		if len(got) == 0 || after == "" {
			break
		}
		if page == oktaMaxPages-1 {
			zerolog.Ctx(ctx).Warn().Str("source", r.name).Int("pages", oktaMaxPages).
				Msg("okta: System Log read stopped at its page bound; the next run goes on from the last event read")
			until = last
			break
		}
		q.Set("after", after)
	}
	if len(skipped) > 0 {
		zerolog.Ctx(ctx).Warn().Str("source", r.name).Str("skipped", sources.FirstFew(skipped)).
			Msg("okta: System Log events of offboarding types that cannot be used")
	}
	if until.After(s.ReadUntil) {
		s.ReadUntil = until
	}
	return out, r.save(ctx, st, s)
}

// filter is the System Log filter for the source's event types [filter]:
// eventType eq "a" or eventType eq "b", in sorted order.
func (r *Reconciler) filter() string {
	types := slices.Sorted(maps.Keys(r.events))
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = `eventType eq "` + t + `"`
	}
	return strings.Join(parts, " or ")
}

// nextAfter is the after cursor of the Link rel="next" of an answer
// [paging], or "" when there is none. Only the cursor is taken from the
// link: the next request goes to the configured base_url, never to a URL
// an answer named.
func nextAfter(h http.Header) string {
	for _, v := range h.Values("Link") {
		for link := range strings.SplitSeq(v, ",") {
			target, params, ok := strings.Cut(strings.TrimSpace(link), ";")
			if !ok || !strings.Contains(strings.ReplaceAll(params, " ", ""), `rel="next"`) {
				continue
			}
			u, err := url.Parse(strings.Trim(strings.TrimSpace(target), "<>"))
			if err != nil {
				return ""
			}
			return u.Query().Get("after")
		}
	}
	return ""
}

func (r *Reconciler) load(ctx context.Context, st sources.State) (oktaLogState, error) {
	var s oktaLogState
	raw, ok, err := st.Get(ctx, oktaStateKey)
	if err != nil || !ok {
		return s, err
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		zerolog.Ctx(ctx).Warn().Str("source", r.name).Msg("okta: stored System Log cursor is unreadable; reading the last interval afresh")
		return oktaLogState{}, nil
	}
	return s, nil
}

func (r *Reconciler) save(ctx context.Context, st sources.State, s oktaLogState) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("okta: encode the System Log cursor: %w", err)
	}
	return st.Put(ctx, oktaStateKey, b)
}

// oktaError reads Okta's error object [errors] into one short line:
// "E0000006: You do not have permission to perform the requested action".
func oktaError(body []byte) string {
	var e struct {
		Code    string `json:"errorCode"`
		Summary string `json:"errorSummary"`
	}
	if json.Unmarshal(body, &e) != nil || (e.Code == "" && e.Summary == "") {
		return ""
	}
	return strings.TrimPrefix(e.Code+": "+e.Summary, ": ")
}
