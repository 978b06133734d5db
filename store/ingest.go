package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/offboarder/offboarder/offboard"
)

// ingestAttempts bounds Ingest's retries after losing a race to a concurrent
// writer (a unique violation, or an event or case inserted meanwhile).
const ingestAttempts = 3

// errRace marks a transaction that lost a race on a unique key; it is rolled
// back and tried again.
var errRace = errors.New("lost a race on a unique key")

// Ingest records ev and opens or attaches its case, in ONE transaction.
//   - event unique on (source, event_id): a second insert of the same pair returns the
//     existing event's case with Duplicate=true and changes nothing.
//   - at most one OPEN case (scheduled|pending|in_progress) per email: an event for a subject
//     with an open case attaches to it (NewCase=false). A partial unique index on cases(email)
//     enforces it; a transaction that loses the race is retried (up to three attempts in all),
//     so two concurrent events for one subject still give one case, on both dialects.
//   - new case: id = uuid v7; state scheduled if EffectiveAt > now else pending;
//     EffectiveAt zero → ReceivedAt (or now); reason/systems/dry_run/subject ids from the event.
//   - attaching: if the case is still scheduled/pending and the event's effective time is
//     earlier, the case's effective_at moves forward (and scheduled→pending once due); subject
//     ids are merged (an id already on the case is kept); a case with a systems list becomes
//     nil (= all) if the event has nil systems, else takes the union; a dry-run case that is
//     not yet fanned out becomes a real one when a real event attaches; a case not yet fanned
//     out (scheduled, pending, awaiting approval) becomes a security case (Case.Security) when
//     an event of reason security attaches, its Reason unchanged. A case already fanned out
//     stays as it is: its revoke tasks are queued where they are.
//   - audit: "case.opened" or "event.attached" (actor ev.Actor, detail JSON with source,
//     event_id, type, reason, request_id; never bodies or secrets). Duplicates are not audited.
//
// Source, EventID and Email are required. Email is trimmed and lower-cased; text is made
// valid UTF-8 without NUL bytes. Concurrent identical deliveries give one event, one case
// and exactly one result with Duplicate=false.
func (s *Store) Ingest(ctx context.Context, ev Event) (IngestResult, error) {
	ev = normalEvent(ev)
	if ev.Source == "" || ev.EventID == "" || subjectKey(ev) == "" {
		return IngestResult{}, errors.New("store: ingest: event needs a source, an event id and an email or a subject id")
	}
	for attempt := 1; ; attempt++ {
		res, err := s.ingestOnce(ctx, ev)
		if err == nil {
			return res, nil
		}
		retry := errors.Is(err, errRace) || isUniqueViolation(err)
		if !retry || attempt == ingestAttempts || ctx.Err() != nil {
			return IngestResult{}, fmt.Errorf("store: ingest %s/%s: %w", ev.Source, ev.EventID, err)
		}
	}
}

func (s *Store) ingestOnce(ctx context.Context, ev Event) (IngestResult, error) {
	var res IngestResult
	err := s.write(ctx, subjectKey(ev), func(t *tx) error {
		var caseID string
		err := t.queryRow("SELECT case_id FROM events WHERE source = ? AND event_id = ?",
			ev.Source, ev.EventID).Scan(&caseID)
		if err == nil {
			c, err := t.getCase(caseID, false)
			if err != nil {
				return err
			}
			res = IngestResult{CaseID: c.ID, Duplicate: true, State: c.State, EffectiveAt: c.EffectiveAt, Security: c.Security}
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}

		received := ev.ReceivedAt
		if received.IsZero() {
			received = t.now
		}
		received = received.UTC().Truncate(time.Microsecond)
		eff := ev.EffectiveAt
		if eff.IsZero() {
			eff = received
		}
		eff = eff.UTC().Truncate(time.Microsecond)

		c, err := t.openCaseFor(subjectKey(ev))
		action := actionEventAttached
		switch {
		case ev.Protected || errors.Is(err, ErrNotFound):
			// A protected account's event never attaches: it gets a
			// case of its own, closed at once (Event.Protected).
			c, err = t.insertCase(ev, eff)
			action = actionCaseOpened
			res.NewCase = true
		case err == nil:
			err = t.attach(&c, ev, eff)
		}
		if err != nil {
			return err
		}
		if err := t.insertEvent(c.ID, ev, eff, received); err != nil {
			return err
		}
		if ev.Protected {
			action = actionCaseProtected
		}
		t.audit(c.ID, "", action, ev.Actor, eventDetail(ev))
		res.CaseID, res.State, res.EffectiveAt, res.Security = c.ID, c.State, c.EffectiveAt, c.Security
		switch {
		case res.NewCase && !ev.Protected:
			t.guardNew(c.ID, ev.Reason, &res) // may hold it, just before commit (guard.go)
		case !res.NewCase:
			if err := t.guardAttached(&c, ev, &res); err != nil {
				return err
			}
		}
		return nil
	})
	return res, err
}

// subjectKey is what one open case per subject is keyed by: the email, or,
// for an event that carries only ids, "<type>:<id>" of its first id in
// sorted order (until the worker resolves the email).
func subjectKey(ev Event) string {
	if ev.Email != "" {
		return ev.Email
	}
	keys := slices.Sorted(maps.Keys(ev.SubjectIDs))
	for _, k := range keys {
		if ev.SubjectIDs[k] != "" {
			return k + ":" + ev.SubjectIDs[k]
		}
	}
	return ""
}

// openCaseFor returns, locked, the open case of a subject key, or ErrNotFound.
func (t *tx) openCaseFor(key string) (Case, error) {
	c, err := scanCase(t.queryRow("SELECT "+caseCols+` FROM cases
		WHERE subject_key = ? AND state IN ('scheduled', 'pending', 'awaiting_approval', 'in_progress')`+t.forUpdate(), key))
	if errors.Is(err, sql.ErrNoRows) {
		return Case{}, ErrNotFound
	}
	return c, err
}

// insertCase opens a case for ev. If another transaction opened one for the
// same subject meanwhile, it returns errRace (on PostgreSQL after that
// transaction committed).
func (t *tx) insertCase(ev Event, eff time.Time) (Case, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return Case{}, fmt.Errorf("case id: %w", err)
	}
	c := Case{
		ID:          id.String(),
		Email:       ev.Email,
		SubjectIDs:  ev.SubjectIDs,
		Reason:      ev.Reason,
		Security:    ev.Reason == offboard.ReasonSecurity,
		State:       offboard.StatePending,
		DryRun:      ev.DryRun,
		Systems:     ev.Systems,
		EffectiveAt: eff,
		CreatedAt:   t.now,
		UpdatedAt:   t.now,
		Entries:     []Entry{},
	}
	switch {
	case ev.Protected:
		c.State = offboard.StateDismissed
	case eff.After(t.now):
		c.State = offboard.StateScheduled
	}
	var got string
	err = t.queryRow(`INSERT INTO cases
		(id, email, subject_key, subject_ids, reason, state, dry_run, systems, effective_at, created_at, updated_at, security)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING RETURNING id`,
		c.ID, c.Email, subjectKey(ev), jsonMap(c.SubjectIDs), c.Reason, c.State, boolInt(c.DryRun), jsonList(c.Systems),
		micros(eff), micros(t.now), micros(t.now), boolInt(c.Security)).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return Case{}, errRace
	}
	if err == nil && ev.Protected {
		closed := t.now
		c.ClosedAt = &closed
		err = t.close(c.ID, c.State, "a protected account (policy.protected): never offboarded")
	}
	return c, err
}

// attach merges ev into the open case c and writes c back.
func (t *tx) attach(c *Case, ev Event, eff time.Time) error {
	notFannedOut := c.State == offboard.StateScheduled || c.State == offboard.StatePending
	if notFannedOut && eff.Before(c.EffectiveAt) {
		c.EffectiveAt = eff
	}
	if c.State == offboard.StateScheduled && !c.EffectiveAt.After(t.now) {
		c.State = offboard.StatePending
	}
	for k, v := range ev.SubjectIDs {
		if _, ok := c.SubjectIDs[k]; !ok {
			if c.SubjectIDs == nil {
				c.SubjectIDs = map[string]string{}
			}
			c.SubjectIDs[k] = v
		}
	}
	switch {
	case c.Systems == nil:
	case ev.Systems == nil:
		c.Systems = nil
	default:
		c.Systems = union(c.Systems, ev.Systems)
	}
	if notFannedOut && c.DryRun && !ev.DryRun {
		c.DryRun = false
	}
	if ev.Reason == offboard.ReasonSecurity && (notFannedOut || c.State == offboard.StateAwaitingApproval) {
		c.Security = true
	}
	c.UpdatedAt = t.now
	_, err := t.exec(`UPDATE cases SET state = ?, effective_at = ?, subject_ids = ?, systems = ?,
		dry_run = ?, security = ?, updated_at = ? WHERE id = ?`,
		c.State, micros(c.EffectiveAt), jsonMap(c.SubjectIDs), jsonList(c.Systems), boolInt(c.DryRun),
		boolInt(c.Security), micros(t.now), c.ID)
	return err
}

// insertEvent records ev on caseID. If the same (source, event id) was
// recorded meanwhile, it returns errRace: the retry then finds the duplicate.
func (t *tx) insertEvent(caseID string, ev Event, eff, received time.Time) error {
	var got string
	err := t.queryRow(`INSERT INTO events
		(source, event_id, case_id, type, email, subject_ids, reason, systems, dry_run,
		 effective_at, received_at, request_id, actor)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING RETURNING case_id`,
		ev.Source, ev.EventID, caseID, ev.Type, ev.Email, jsonMap(ev.SubjectIDs), ev.Reason,
		jsonList(ev.Systems), boolInt(ev.DryRun), micros(eff), micros(received), ev.RequestID, ev.Actor,
	).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return errRace
	}
	return err
}

// eventDetail is the audit detail of an event: identifiers only.
func eventDetail(ev Event) string {
	b, _ := json.Marshal(struct {
		Source    string `json:"source"`
		EventID   string `json:"event_id"`
		Type      string `json:"type"`
		Reason    string `json:"reason"`
		RequestID string `json:"request_id,omitempty"`
	}{ev.Source, ev.EventID, ev.Type, string(ev.Reason), ev.RequestID})
	return string(b)
}

// normalEvent returns ev with storable text, a normalised email and a sorted,
// de-duplicated systems list (nil stays nil: all connectors).
func normalEvent(ev Event) Event {
	ev.Source = clean(ev.Source)
	ev.EventID = clean(ev.EventID)
	ev.Type = clean(ev.Type)
	ev.Email = normalEmail(ev.Email)
	ev.Reason = clean(ev.Reason)
	ev.RequestID = clean(ev.RequestID)
	ev.Actor = clean(ev.Actor)
	if ev.SubjectIDs != nil {
		ids := make(map[string]string, len(ev.SubjectIDs))
		for k, v := range ev.SubjectIDs {
			ids[clean(k)] = clean(v)
		}
		ev.SubjectIDs = ids
	}
	if ev.Systems != nil {
		ev.Systems = union(nil, ev.Systems)
	}
	return ev
}

// union returns the sorted, de-duplicated union of a and b (never nil).
func union(a, b []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, list := range [][]string{a, b} {
		for _, s := range list {
			s = clean(s)
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	sort.Strings(out)
	return out
}

// jsonMap stores a map as a JSON object ("{}" for none).
func jsonMap(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(m) // a map of strings cannot fail
	return string(b)
}

// jsonList stores a list as a JSON array; nil is NULL (all connectors).
func jsonList(l []string) any {
	if l == nil {
		return nil
	}
	b, _ := json.Marshal(l) // a list of strings cannot fail
	return string(b)
}
