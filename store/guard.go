package store

import (
	"encoding/json"
	"slices"
	"sync/atomic"
	"time"

	"github.com/offboarder/offboarder/offboard"
)

// Guard is the blast-radius guard (policy.hold_after): when more than Cases
// cases were opened within Within, a new case waits as awaiting_approval
// instead of being fanned out, until a person approves it (ApproveCases).
// Cases whose reason is in Bypass are neither held nor counted.
//
// The window slides: a new case is held when, counting it, more than
// Cases cases (of reasons outside Bypass, whatever their state now, held
// ones included) were created in the Within before its commit. So a burst
// stays held for as long as it goes on, and new cases proceed again once
// fewer than Cases were opened in the last Within.
//
// The count is taken in the database, in the transaction that opens the
// case, just before it commits and under the lock every commit that writes
// an audit row takes (the audit head's row, last in the lock order): two
// processes on one PostgreSQL database never both count the same earlier
// cases and both let theirs through, and no new lock order is introduced.
type Guard struct {
	Cases  int               // cases allowed within Within; 0 holds every one
	Within time.Duration     // the sliding window
	Bypass []offboard.Reason // reasons never held nor counted
}

// guardState is the guard a Store applies; nil is none.
type guardState = atomic.Pointer[Guard]

// SetGuard sets the guard Ingest applies to every new case from now on;
// nil turns it off (the default). Cases 0 holds every case whose reason is
// not in Bypass.
func (s *Store) SetGuard(g *Guard) {
	if g != nil {
		c := *g
		c.Bypass = slices.Clone(g.Bypass)
		g = &c
	}
	s.guard.Store(g)
}

// bypasses reports whether g lets cases of reason r through uncounted.
func (g *Guard) bypasses(r offboard.Reason) bool {
	return g != nil && slices.Contains(g.Bypass, r)
}

// guardCandidate is a case opened in a transaction that the guard decides
// on when the transaction is about to commit.
type guardCandidate struct {
	id     string
	reason offboard.Reason
	res    *IngestResult
}

// guardNew queues the new case id for the guard's decision (flushGuard);
// res is the ingest's result, whose State the decision updates.
func (t *tx) guardNew(id string, reason offboard.Reason, res *IngestResult) {
	if g := t.s.guard.Load(); g != nil && !g.bypasses(reason) {
		t.held = append(t.held, guardCandidate{id: id, reason: reason, res: res})
	}
}

// guardAttached applies the guard to an event attached to the open case
// c: an event of a bypass reason releases a held case (to scheduled or
// pending, audit "case.approved" by the event's actor) and spares a case
// opened in the same transaction from being held.
func (t *tx) guardAttached(c *Case, ev Event, res *IngestResult) error {
	if !t.s.guard.Load().bypasses(ev.Reason) {
		return nil
	}
	t.spared = append(t.spared, c.ID)
	if c.State != offboard.StateAwaitingApproval {
		return nil
	}
	c.State = offboard.StatePending
	if c.EffectiveAt.After(t.now) {
		c.State = offboard.StateScheduled
	}
	if _, err := t.exec("UPDATE cases SET state = ?, updated_at = ? WHERE id = ?", c.State, micros(t.now), c.ID); err != nil {
		return err
	}
	b, _ := json.Marshal(map[string]string{"state": string(c.State), "note": "released by a " + string(ev.Reason) + " event"})
	t.audit(c.ID, "", actionCaseApproved, ev.Actor, string(b))
	res.State = c.State
	return nil
}

// flushGuard decides on the cases queued by guardNew: under the audit
// head's lock it counts the cases created within the window (those of
// this transaction included) and holds each candidate that makes the
// count exceed the guard's Cases, with the audit row "case.held".
func (t *tx) flushGuard() error {
	cands := t.held
	t.held = nil
	g := t.s.guard.Load()
	if g == nil || len(cands) == 0 {
		return nil
	}
	cands = slices.DeleteFunc(cands, func(c guardCandidate) bool { return slices.Contains(t.spared, c.id) })
	if len(cands) == 0 {
		return nil
	}
	if t.s.dialect == dialectPostgres {
		if err := t.lockHead(); err != nil {
			return err
		}
	}
	now := t.s.clock()
	args := []any{micros(now.Add(-g.Within))}
	q := "SELECT 1 FROM cases WHERE created_at > ?"
	if len(g.Bypass) > 0 {
		q += " AND reason NOT IN (" + placeholders(len(g.Bypass)) + ")"
		for _, r := range g.Bypass {
			args = append(args, r)
		}
	}
	// Counting stops at the limit and this transaction's cases: a busy
	// window costs no more than that, however many cases it holds.
	args = append(args, g.Cases+len(cands))
	var n int
	if err := t.queryRow("SELECT COUNT(*) FROM ("+q+" LIMIT ?) w", args...).Scan(&n); err != nil {
		return err
	}
	before := n - len(cands) // cases counted that are not this transaction's
	var hold []string
	for i, c := range cands {
		count := before + i + 1
		if count <= g.Cases {
			continue
		}
		hold = append(hold, c.id)
		b, _ := json.Marshal(map[string]any{"cases": count, "within": g.Within.String(), "hold_after": g.Cases})
		t.audit(c.id, "", actionCaseHeld, guardActor, string(b))
		c.res.State = offboard.StateAwaitingApproval
	}
	return t.holdCases(hold, now)
}

// holdCases puts the cases ids (new in this transaction) in
// awaiting_approval. On PostgreSQL, where the audit head's lock is held
// meanwhile, that is one statement (one round trip) for all of them;
// SQLite, in process, runs one prepared statement per case.
func (t *tx) holdCases(ids []string, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	if t.s.dialect == dialectPostgres {
		_, err := t.exec("UPDATE cases SET state = ?, updated_at = ? WHERE id = ANY(?) AND state IN (?, ?)",
			offboard.StateAwaitingApproval, micros(now), ids, offboard.StateScheduled, offboard.StatePending)
		return err
	}
	for _, id := range ids {
		if _, err := t.exec("UPDATE cases SET state = ?, updated_at = ? WHERE id = ? AND state IN (?, ?)",
			offboard.StateAwaitingApproval, micros(now), id, offboard.StateScheduled, offboard.StatePending); err != nil {
			return err
		}
	}
	return nil
}

// guardActor is who the audit log names for the guard's holds.
const guardActor = "policy"
