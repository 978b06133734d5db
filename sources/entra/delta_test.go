package entra

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/sources/conformance"
	"github.com/offboarder/offboarder/vendorapi"
)

// entraDeltaStep is one delta request [delta]: from "" is the first
// request ($select), "skip:X" a $skiptoken page, anything else a
// $deltatoken round. The answer carries users and an @odata.nextLink to
// next when next is set, else an @odata.deltaLink to delta — absolute
// Graph URLs, as Graph answers them [delta-users].
func entraDeltaStep(from, next, delta string, users ...string) conformance.APIStep {
	q := url.Values{}
	switch {
	case from == "":
		q.Set("$select", entraDeltaSelect)
	case strings.HasPrefix(from, "skip:"):
		q.Set("$skiptoken", strings.TrimPrefix(from, "skip:"))
	default:
		q.Set("$deltatoken", from)
	}
	link := `"@odata.deltaLink":"https://graph.microsoft.com/v1.0/users/delta?$deltatoken=` + delta + `"`
	if next != "" {
		link = `"@odata.nextLink":"https://graph.microsoft.com/v1.0/users/delta?$skiptoken=` + next + `"`
	}
	return conformance.APIStep{Method: http.MethodGet, Path: "/v1.0/users/delta", Query: q, Auth: entraBearer, Status: http.StatusOK,
		Body: `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users(id,accountEnabled,mail,userPrincipalName)",` +
			link + `,"value":[` + strings.Join(users, ",") + `]}`}
}

// entraDeltaUserJSON is a user as a delta answer lists it.
func entraDeltaUserJSON(id string, enabled bool) string {
	return fmt.Sprintf(`{"accountEnabled":%t,"mail":"u-%s@contoso.com","userPrincipalName":"u-%s@contoso.onmicrosoft.com","id":"%s"}`, enabled, id[:4], id[:4], id)
}

// entraRemovedJSON is a user removed from the directory [delta-users].
func entraRemovedJSON(id, reason string) string {
	return `{"id":"` + id + `","@removed":{"reason":"` + reason + `"}}`
}

func TestEntraDeltaFindsDisabledAndRemovedUsers(t *testing.T) {
	const (
		userB = "a1b2c3d4-0000-4000-8000-00000000000b"
		userC = "a1b2c3d4-0000-4000-8000-00000000000c"
	)
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	t1 := t0.Add(5 * time.Minute)
	t2 := t1.Add(5 * time.Minute)
	t3 := t2.Add(5 * time.Minute)
	srv := conformance.FakeSender(t,
		// Run 1: the baseline lists every user over two pages; a user
		// disabled long ago is not offboarded from it.
		entraTokenStep(),
		entraDeltaStep("", "s0", "", entraDeltaUserJSON(entraUserA, true)),
		entraDeltaStep("skip:s0", "", "d1", entraDeltaUserJSON(userB, false)),
		entraCreateStep(entraSubID, entraClientState, t0),
		// Run 2: the changes since; the subscription was made five minutes
		// ago and is left alone.
		entraDeltaStep("d1", "s1", "", entraDeltaUserJSON(entraUserA, false), entraDeltaUserJSON(userB, true), entraRemovedJSON(userC, "changed")),
		entraDeltaStep("skip:s1", "", "d2", entraDeltaUserJSON(entraUserA, false)),
		// Run 3: Graph fails; the round is read again next run.
		conformance.APIStep{Method: http.MethodGet, Path: "/v1.0/users/delta", Query: url.Values{"$deltatoken": {"d2"}}, Auth: entraBearer,
			Status: http.StatusServiceUnavailable, Body: entraGraphError("serviceNotAvailable", "Service unavailable")},
		// Run 4: the same round, nothing changed.
		entraDeltaStep("d2", "", "d3"),
	)
	e := newTestEntra(t, entraSettings(srv.URL))
	st := &conformance.StateMap{}
	run := func(at time.Time) ([]sources.Event, error) {
		e.now = func() time.Time { return at }
		return e.Maintain(t.Context(), st)
	}
	if events, err := run(t0); err != nil || events != nil {
		t.Fatalf("baseline: %v, %v; want no events", events, err)
	}
	events, err := run(t1)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Fatalf("events %+v; want user A disabled and user C removed, once each", events)
	}
	a, c := events[0], events[1]
	if a.IDs["entra"] != entraUserA || a.Type != "updated" || a.Reason != offboard.ReasonDeactivated || a.Email != "" ||
		c.IDs["entra"] != userC || c.Type != "deleted" || c.Reason != offboard.ReasonTerminated {
		t.Fatalf("events %+v", events)
	}
	// The push of the same change is told by the subject, since one
	// interval before the last round ended.
	if want := t0.Add(-sources.DefaultReconcileInterval); !a.Since.Equal(want) || !c.Since.Equal(want) {
		t.Fatalf("Since %s, %s; want %s", a.Since, c.Since, want)
	}
	if a.ID == c.ID || !strings.HasPrefix(a.ID, "delta/") {
		t.Fatalf("ids %q, %q", a.ID, c.ID)
	}
	_, err = run(t2)
	var ve *vendorapi.Error
	if !errors.As(err, &ve) || !vendorapi.Retryable(err) {
		t.Fatalf("a 503 gave %v; want a retryable error", err)
	}
	if events, err := run(t3); err != nil || events != nil {
		t.Fatalf("after the failure: %v, %v; want the round read again, empty", events, err)
	}
}

func TestEntraDeltaAnswerWithoutALinkIsRefused(t *testing.T) {
	srv := conformance.FakeSender(t, entraTokenStep(),
		conformance.APIStep{Method: http.MethodGet, Path: "/v1.0/users/delta", Query: url.Values{"$select": {entraDeltaSelect}}, Auth: entraBearer,
			Status: http.StatusOK, Body: `{"value":[]}`},
		// The subscription is kept all the same.
		entraCreateStep(entraSubID, entraClientState, time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)),
	)
	e := newTestEntra(t, entraSettings(srv.URL))
	e.now = func() time.Time { return time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC) }
	st := &conformance.StateMap{}
	_, err := e.Maintain(t.Context(), st)
	if err == nil || vendorapi.Retryable(err) || !strings.Contains(err.Error(), "neither @odata.nextLink nor @odata.deltaLink") {
		t.Fatalf("got %v; want a permanent error naming the missing link", err)
	}
	if _, ok, _ := st.Get(t.Context(), entraDeltaStateKey); ok {
		t.Fatal("a refused answer stored delta state")
	}
}

func TestEntraReconcileInterval(t *testing.T) {
	s := entraSettings("")
	s["reconcile_interval"] = "15m"
	if e := newTestEntra(t, s); e.Interval() != 15*time.Minute {
		t.Fatalf("interval %s, want 15m", e.Interval())
	}
	s["reconcile_interval"] = "5s"
	_, err := build([]sources.Spec{{Name: "entra", Type: "entra", Settings: s}})
	if err == nil || !strings.Contains(err.Error(), "reconcile_interval: want a duration between 1m and 24h") {
		t.Fatalf("got %v", err)
	}
}

func TestEntraDeltaTokenGraphForgotStartsANewBaseline(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	srv := conformance.FakeSender(t, entraTokenStep(),
		conformance.APIStep{Method: http.MethodGet, Path: "/v1.0/users/delta", Query: url.Values{"$deltatoken": {"old"}}, Auth: entraBearer,
			Status: http.StatusGone, Body: entraGraphError("syncStateNotFound", "The sync state generation is not found.")},
		entraDeltaStep("", "", "fresh", entraDeltaUserJSON(entraUserA, false)),
	)
	e := newTestEntra(t, entraSettings(srv.URL))
	e.now = func() time.Time { return t0 }
	sub, _ := json.Marshal(entraSubState{ID: entraSubID, ExpiresAt: t0.Add(24 * time.Hour), RenewedAt: t0,
		NotificationURL: e.notifyURL, LifecycleURL: e.lifecycle, ClientStateMark: e.stateMark})
	st := &conformance.StateMap{Values: map[string][]byte{entraStateKey: sub, entraDeltaStateKey: []byte(`{"delta_token":"old"}`)}}
	for range 2 {
		if events, err := e.Maintain(t.Context(), st); err != nil || events != nil {
			t.Fatalf("%v, %v; want a new baseline, no events", events, err)
		}
	}
	raw, _, _ := st.Get(t.Context(), entraDeltaStateKey)
	if !strings.Contains(string(raw), `"delta_token":"fresh"`) {
		t.Fatalf("delta state %s", raw)
	}
}
