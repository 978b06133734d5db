package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/offboarder/offboarder/offboard"
)

const (
	actionSubjectResolved = "subject.resolved"
	actionCaseMerged      = "case.merged"
)

// ResolveSubject gives an open case that was keyed by an id (its email still
// empty) the email the sender's API returned, in one transaction:
//   - if no other open case has that email, the case takes it (and the ids,
//     reason and effective time of r where set; a reason of security makes it
//     a security case); audit "subject.resolved".
//   - if another open case already has it, this case's events move there
//     (bringing its effective time forward if this one was earlier, and making
//     it a security case if this one was and the other is not fanned out), this
//     case closes as "merged", and the other case's id is returned; audit
//     "case.merged" on both.
//
// It returns the case that now holds the subject, as committed (a case
// row, without Events, Entries or Audit). A case that is not open, or
// already has an email, is returned unchanged.
func (s *Store) ResolveSubject(ctx context.Context, caseID string, r Resolution, actor string) (*Case, error) {
	email := normalEmail(r.Email)
	if email == "" {
		return nil, errors.New("store: resolve: an email is required")
	}
	var target Case
	for attempt := 1; ; attempt++ {
		err := s.write(ctx, email, func(t *tx) error {
			c, err := t.getCase(caseID, true)
			if err != nil {
				return err
			}
			if !IsOpen(c.State) || c.Email != "" {
				target = c
				return nil
			}
			other, err := t.openCaseFor(email)
			switch {
			case errors.Is(err, ErrNotFound):
				target = c
				return t.resolveInPlace(&target, email, r, actor)
			case err != nil:
				return err
			}
			target = other
			return t.merge(&c, &target, r, actor)
		})
		if err == nil {
			return &target, nil
		}
		if !isUniqueViolation(err) || attempt == ingestAttempts || ctx.Err() != nil {
			return nil, fmt.Errorf("store: resolve case %s: %w", caseID, err)
		}
	}
}

func (t *tx) resolveInPlace(c *Case, email string, r Resolution, actor string) error {
	c.Email = email
	for k, v := range r.IDs {
		if c.SubjectIDs == nil {
			c.SubjectIDs = map[string]string{}
		}
		if _, ok := c.SubjectIDs[k]; !ok {
			c.SubjectIDs[k] = clean(v)
		}
	}
	if r.Reason != "" {
		c.Reason = clean(r.Reason)
	}
	if c.Reason == offboard.ReasonSecurity && c.State != offboard.StateInProgress {
		c.Security = true // never cleared: a resolution to another reason keeps it
	}
	if !r.EffectiveAt.IsZero() && c.State != offboard.StateInProgress {
		c.EffectiveAt = r.EffectiveAt.UTC().Truncate(time.Microsecond)
		c.State = offboard.StatePending
		if c.EffectiveAt.After(t.now) {
			c.State = offboard.StateScheduled
		}
	}
	c.UpdatedAt = fromMicros(micros(t.now))
	_, err := t.exec(`UPDATE cases SET email = ?, subject_key = ?, subject_ids = ?, reason = ?,
		state = ?, effective_at = ?, security = ?, updated_at = ? WHERE id = ?`,
		c.Email, c.Email, jsonMap(c.SubjectIDs), c.Reason, c.State, micros(c.EffectiveAt), boolInt(c.Security), micros(t.now), c.ID)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(map[string]string{"email": c.Email, "reason": string(c.Reason)})
	t.audit(c.ID, "", actionSubjectResolved, actor, string(b))
	return nil
}

// merge moves c's events to the open case other and closes c as merged.
func (t *tx) merge(c, other *Case, r Resolution, actor string) error {
	if _, err := t.exec("UPDATE events SET case_id = ? WHERE case_id = ?", other.ID, c.ID); err != nil {
		return err
	}
	eff := c.EffectiveAt
	if !r.EffectiveAt.IsZero() {
		eff = r.EffectiveAt.UTC().Truncate(time.Microsecond)
	}
	notFannedOut := other.State == offboard.StateScheduled || other.State == offboard.StatePending
	forward := notFannedOut && eff.Before(other.EffectiveAt)
	if forward {
		other.EffectiveAt = eff
		if !eff.After(t.now) {
			other.State = offboard.StatePending
		}
	}
	// A security case merged into one not fanned out makes it one, as a
	// security event attaching to it would (Ingest).
	secure := (c.Security || r.Reason == offboard.ReasonSecurity) && !other.Security &&
		(notFannedOut || other.State == offboard.StateAwaitingApproval)
	if secure {
		other.Security = true
	}
	if forward || secure {
		other.UpdatedAt = fromMicros(micros(t.now))
		if _, err := t.exec("UPDATE cases SET effective_at = ?, state = ?, security = ?, updated_at = ? WHERE id = ?",
			micros(other.EffectiveAt), other.State, boolInt(other.Security), micros(t.now), other.ID); err != nil {
			return err
		}
	}
	if err := t.close(c.ID, offboard.StateMerged, ""); err != nil {
		return err
	}
	b, _ := json.Marshal(map[string]string{"from": c.ID, "into": other.ID})
	t.audit(c.ID, "", actionCaseMerged, actor, string(b))
	t.audit(other.ID, "", actionCaseMerged, actor, string(b))
	return nil
}

// CloseCase closes an open case that has no pending work with a final state
// and the reason a person reads: "dismissed" (the sender says the person is
// not leaving) or "needs_attention" (the subject could not be resolved).
// The reason becomes the case's closed_reason; audit "case.closed" with
// it. A case already closed is unchanged.
func (s *Store) CloseCase(ctx context.Context, caseID string, state offboard.State, why, actor string) error {
	if state != offboard.StateDismissed && state != offboard.StateNeedsAttention {
		return fmt.Errorf("store: close case: %q is not a state a case is closed with by hand", state)
	}
	err := s.write(ctx, caseID, func(t *tx) error {
		c, err := t.getCase(caseID, true)
		if err != nil {
			return err
		}
		if !IsOpen(c.State) {
			return nil
		}
		if err := t.close(c.ID, state, truncate(why, 500)); err != nil {
			return err
		}
		b, _ := json.Marshal(map[string]string{"state": string(state), "reason": truncate(why, 500)})
		t.audit(c.ID, "", actionCaseClosed, actor, string(b))
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: close case %s: %w", caseID, err)
	}
	return nil
}

// close closes the case id with state and the closed_reason a person reads.
func (t *tx) close(id string, state offboard.State, reason string) error {
	_, err := t.exec("UPDATE cases SET state = ?, closed_at = ?, updated_at = ?, closed_reason = ? WHERE id = ?",
		state, micros(t.now), micros(t.now), reason, id)
	return err
}

// SourceState reads one value a source keeps (see sources.State).
func (s *Store) SourceState(ctx context.Context, source, key string) ([]byte, bool, error) {
	var v string
	err := s.read(ctx, func(t *tx) error {
		return t.queryRow("SELECT value FROM source_state WHERE source = ? AND key = ?", source, key).Scan(&v)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: source state %s/%s: %w", source, key, err)
	}
	return []byte(v), true, nil
}

// PutSourceState writes one value a source keeps, replacing the old one.
func (s *Store) PutSourceState(ctx context.Context, source, key string, value []byte) error {
	err := s.write(ctx, source, func(t *tx) error {
		_, err := t.exec(`INSERT INTO source_state (source, key, value, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (source, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
			source, key, clean(string(value)), micros(t.now))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: put source state %s/%s: %w", source, key, err)
	}
	return nil
}
