package okta

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/conformance"
	"github.com/offboarder/offboarder/vendorapi"
)

const oktaAPIToken = "00QCjAl4MlV-WPXM-ABCDEFGHIJKLMNOPQRSTUVWX"

// oktaLogFilter is the filter Maintain sends for the default event types.
const oktaLogFilter = `eventType eq "user.lifecycle.deactivate" or eventType eq "user.lifecycle.delete.initiated" or eventType eq "user.lifecycle.suspend"`

// oktaLogPage is a System Log answer: the LogEvent objects of hook
// deliveries in testdata, as the log lists them (a JSON array) [logs].
func oktaLogPage(t *testing.T, files ...string) string {
	t.Helper()
	var all []json.RawMessage
	for _, f := range files {
		var hook struct {
			Data struct {
				Events []json.RawMessage `json:"events"`
			} `json:"data"`
		}
		if err := json.Unmarshal(oktaFile(t, f), &hook); err != nil {
			t.Fatal(err)
		}
		all = append(all, hook.Data.Events...)
	}
	b, err := json.Marshal(all)
	if err != nil {
		t.Fatal(err)
	}
	if all == nil {
		return "[]"
	}
	return string(b)
}

// oktaLogStep is one System Log request and its answer; next, when set, is
// the after cursor of the Link rel="next" the answer carries [paging].
func oktaLogStep(since, until time.Time, after, next, body string) conformance.APIStep {
	q := url.Values{"since": {since.Format(time.RFC3339Nano)}, "until": {until.Format(time.RFC3339Nano)},
		"filter": {oktaLogFilter}, "limit": {"1000"}, "sortOrder": {"ASCENDING"}}
	if after != "" {
		q.Set("after", after)
	}
	s := conformance.APIStep{Method: http.MethodGet, Path: "/api/v1/logs", Query: q, Auth: "SSWS " + oktaAPIToken,
		Status: http.StatusOK, Body: body}
	if next != "" {
		nq := url.Values{"since": q["since"], "until": q["until"], "filter": q["filter"], "limit": q["limit"], "after": {next}}
		// Okta answers the org's absolute URL, self first, then next.
		s.Header = map[string]string{"Link": `<https://example.okta.com/api/v1/logs?` + q.Encode() + `>; rel="self", ` +
			`<https://example.okta.com/api/v1/logs?` + nq.Encode() + `>; rel="next"`}
	}
	return s
}

func newTestReconciler(t *testing.T, baseURL string, extra map[string]any) *Reconciler {
	t.Helper()
	settings := map[string]any{"secret": oktaSecret, "base_url": baseURL, "token": oktaAPIToken}
	for k, v := range extra {
		settings[k] = v
	}
	srcs, err := build([]sources.Spec{{Name: "okta", Type: "okta", Settings: settings}})
	if err != nil {
		t.Fatal(err)
	}
	r, ok := srcs[0].(*Reconciler)
	if !ok {
		t.Fatalf("an okta source with base_url and token is a %T, want a *Reconciler", srcs[0])
	}
	return r
}

func oktaIDs(events []sources.Event) []string {
	var ids []string
	for _, ev := range events {
		ids = append(ids, ev.ID)
	}
	return ids
}

func TestMaintainReadsTheSystemLog(t *testing.T) {
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	t1 := t0.Add(5 * time.Minute)
	t2 := t1.Add(5 * time.Minute)
	srv := conformance.FakeSender(t,
		// Run 1: from one interval back, two pages by the Link header.
		oktaLogStep(t0.Add(-5*time.Minute), t0, "", "1773144000000_1", oktaLogPage(t, "deactivate.json", "session-start.json")),
		oktaLogStep(t0.Add(-5*time.Minute), t0, "1773144000000_1", "", oktaLogPage(t, "suspend.json")),
		// Run 2: from the end of run 1 less the overlap; a 503 moves nothing.
		stepT(oktaLogStep(t0.Add(-LogOverlap), t1, "", "", "")).withStatus(http.StatusServiceUnavailable,
			`{"errorCode":"E0000009","errorSummary":"Internal Server Error","errorLink":"E0000009","errorId":"oaeX","errorCauses":[]}`),
		// Run 3: the same window again, to t2; an empty page ends it even
		// with a next link.
		oktaLogStep(t0.Add(-LogOverlap), t2, "", "c2", oktaLogPage(t, "deactivate.json")),
		oktaLogStep(t0.Add(-LogOverlap), t2, "c2", "c3", "[]"),
	)
	r := newTestReconciler(t, srv.URL, nil)
	if r.Interval() != sources.DefaultReconcileInterval {
		t.Fatalf("interval %s, want the default %s", r.Interval(), sources.DefaultReconcileInterval)
	}
	st := &conformance.StateMap{}
	pushed := func(file string) []string {
		d, err := r.Parse(&sources.Request{Context: t.Context(), Method: http.MethodPost, Body: oktaFile(t, file)})
		if err != nil {
			t.Fatal(err)
		}
		return oktaIDs(d.Events)
	}
	run := func(at time.Time) ([]sources.Event, error) {
		r.now = func() time.Time { return at }
		return r.Maintain(t.Context(), st)
	}

	events, err := run(t0)
	if err != nil {
		t.Fatal(err)
	}
	want := append(pushed("deactivate.json"), pushed("suspend.json")...)
	if got := oktaIDs(events); fmt.Sprint(got) != fmt.Sprint(want) || len(want) != 2 {
		t.Fatalf("events %v, want the pushes' ids %v", got, want)
	}
	if events[0].Email != "john.doe@example.com" || events[0].Reason != "terminated" || events[0].IDs["okta"] == "" {
		t.Fatalf("event %+v is not what the push makes", events[0])
	}

	_, err = run(t1)
	var e *vendorapi.Error
	if !errors.As(err, &e) || !vendorapi.Retryable(err) {
		t.Fatalf("a 503 gave %v; want a retryable vendor error", err)
	}
	if strings.Contains(err.Error(), oktaAPIToken) {
		t.Fatal("the token is in the error")
	}

	events, err = run(t2)
	if err != nil {
		t.Fatal(err)
	}
	if got := oktaIDs(events); fmt.Sprint(got) != fmt.Sprint(pushed("deactivate.json")) {
		t.Fatalf("events %v after the failed run; want the window read again", got)
	}
	raw, _, _ := st.Get(t.Context(), oktaStateKey)
	if strings.Contains(string(raw), oktaAPIToken) || !strings.Contains(string(raw), t2.Format(time.RFC3339)) {
		t.Fatalf("stored cursor %s; want %s and no token", raw, t2)
	}
}

func TestMaintainRefusedTokenIsPermanent(t *testing.T) {
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	srv := conformance.FakeSender(t,
		stepT(oktaLogStep(t0.Add(-10*time.Minute), t0, "", "", "")).withStatus(http.StatusForbidden,
			`{"errorCode":"E0000006","errorSummary":"You do not have permission to perform the requested action","errorLink":"E0000006","errorId":"oaeY","errorCauses":[]}`),
	)
	r := newTestReconciler(t, srv.URL, map[string]any{"reconcile_interval": "10m"})
	r.now = func() time.Time { return t0 }
	st := &conformance.StateMap{}
	_, err := r.Maintain(t.Context(), st)
	if err == nil || vendorapi.Retryable(err) || !strings.Contains(err.Error(), "E0000006") {
		t.Fatalf("a 403 gave %v; want a permanent error naming Okta's code", err)
	}
	if _, ok, _ := st.Get(t.Context(), oktaStateKey); ok {
		t.Fatal("a refused read moved the cursor")
	}
}

func TestReconcileNeedsBaseURLAndToken(t *testing.T) {
	for _, tc := range []struct {
		name     string
		settings map[string]any
		want     string
	}{
		{"a token without base_url", map[string]any{"token": oktaAPIToken}, "base_url: required with token"},
		{"a base_url without token", map[string]any{"base_url": "https://example.okta.com"}, "token: required with base_url"},
		{"an interval without either", map[string]any{"reconcile_interval": "5m"}, "reconcile_interval: only used with base_url + token"},
		{"an interval too short", map[string]any{"base_url": "https://example.okta.com", "token": oktaAPIToken, "reconcile_interval": "10s"}, "reconcile_interval: want a duration between 1m and 24h"},
		{"a base_url with the API path", map[string]any{"base_url": "https://example.okta.com/api/v1", "token": oktaAPIToken}, "base_url: give the org without /api/v1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.settings["secret"] = oktaSecret
			_, err := build([]sources.Spec{{Name: "okta", Type: "okta", Settings: tc.settings}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), oktaAPIToken) {
				t.Fatal("the token is in the error")
			}
		})
	}
	t.Run("without them the source does not reconcile", func(t *testing.T) {
		if _, ok := sources.Source(newTestOkta(t, nil)).(sources.Maintainer); ok {
			t.Fatal("an okta source without API credentials is a Maintainer")
		}
	})
}

// withStatus makes s answer status with body (an Okta error object).
func (s stepT) withStatus(status int, body string) conformance.APIStep {
	s.Status, s.Body, s.Header = status, body, nil
	return conformance.APIStep(s)
}

type stepT conformance.APIStep
