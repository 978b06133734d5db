package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/offboarder/offboarder/offboard"
)

// MaxApprovalIDs bounds the case ids of one Approval.
const MaxApprovalIDs = 1000

// Approval releases held cases (awaiting_approval): every one (All) or
// those of CaseIDs. Who is the person who approves (required); Note is
// optional.
type Approval struct {
	All     bool
	CaseIDs []string
	Who     string
	Note    string
}

// ApprovalResult is what ApproveCases did: the cases released (now
// scheduled or pending, oldest first), the ids that name no case, and the
// cases that were not held (with their state).
type ApprovalResult struct {
	Released []ReleasedCase `json:"released"`
	NotFound []string       `json:"not_found"`
	NotHeld  []NotHeldCase  `json:"not_held"`
}

// ReleasedCase is a case an approval released.
type ReleasedCase struct {
	ID          string         `json:"id"`
	State       offboard.State `json:"state"`
	EffectiveAt time.Time      `json:"effective_at"`
	Security    bool           `json:"-"` // Case.Security: the queue of its offboard task
}

// NotHeldCase is a case an approval named that was not awaiting approval.
type NotHeldCase struct {
	ID    string         `json:"id"`
	State offboard.State `json:"state"`
}

// ApproveCases releases held cases in one transaction: each goes to
// scheduled (effective time ahead) or pending, with the audit row
// "case.approved" (actor a.Who, detail the new state and the note). The
// caller enqueues their offboard tasks (the relay does if it cannot).
// A case that is not awaiting approval is left as it is and listed in
// NotHeld; an unknown id in NotFound. Who is required; at most
// MaxApprovalIDs ids.
func (s *Store) ApproveCases(ctx context.Context, a Approval) (ApprovalResult, error) {
	a.Who, a.Note = strings.TrimSpace(clean(a.Who)), strings.TrimSpace(clean(a.Note))
	if a.Who == "" {
		return ApprovalResult{}, errors.New("store: approve: who is required")
	}
	if len(a.CaseIDs) > MaxApprovalIDs {
		return ApprovalResult{}, fmt.Errorf("store: approve: at most %d case ids", MaxApprovalIDs)
	}
	var res ApprovalResult
	err := s.write(ctx, "approvals", func(t *tx) error {
		res = ApprovalResult{Released: []ReleasedCase{}, NotFound: []string{}, NotHeld: []NotHeldCase{}}
		q := "SELECT id, state, effective_at, security FROM cases WHERE state = ?"
		args := []any{offboard.StateAwaitingApproval}
		if !a.All {
			if len(a.CaseIDs) == 0 {
				return nil
			}
			q = "SELECT id, state, effective_at, security FROM cases WHERE id IN (" + placeholders(len(a.CaseIDs)) + ")"
			args = args[:0]
			for _, id := range a.CaseIDs {
				args = append(args, clean(id))
			}
		}
		rows, err := t.query(q+" ORDER BY created_at, id"+t.forUpdate(), args...)
		if err != nil {
			return err
		}
		var held []ReleasedCase
		seen := map[string]bool{}
		for rows.Next() {
			var c ReleasedCase
			var eff int64
			var security int
			if err := rows.Scan(&c.ID, &c.State, &eff, &security); err != nil {
				rows.Close()
				return err
			}
			c.EffectiveAt, c.Security = fromMicros(eff), security != 0
			seen[c.ID] = true
			if c.State == offboard.StateAwaitingApproval {
				held = append(held, c)
			} else {
				res.NotHeld = append(res.NotHeld, NotHeldCase{ID: c.ID, State: c.State})
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range a.CaseIDs {
			if id = clean(id); !seen[id] && !slices.Contains(res.NotFound, id) {
				res.NotFound = append(res.NotFound, id)
			}
		}
		for _, c := range held {
			c.State = offboard.StatePending
			if c.EffectiveAt.After(t.now) {
				c.State = offboard.StateScheduled
			}
			if _, err := t.exec("UPDATE cases SET state = ?, updated_at = ? WHERE id = ?", c.State, micros(t.now), c.ID); err != nil {
				return err
			}
			detail := map[string]string{"state": string(c.State)}
			if a.Note != "" {
				detail["note"] = truncate(a.Note, MaxAttestNote)
			}
			b, _ := json.Marshal(detail)
			t.audit(c.ID, "", actionCaseApproved, truncate(a.Who, MaxAttestWho), string(b))
			res.Released = append(res.Released, c)
		}
		return nil
	})
	if err != nil {
		return ApprovalResult{}, fmt.Errorf("store: approve: %w", err)
	}
	return res, nil
}

// HeldCases lists the cases awaiting approval, oldest first, at most limit
// (0 or less: 100; at most 1000), without their events or entries.
func (s *Store) HeldCases(ctx context.Context, limit int) ([]Case, error) {
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	out := []Case{}
	err := s.read(ctx, func(t *tx) error {
		rows, err := t.query("SELECT "+caseCols+" FROM cases WHERE state = ? ORDER BY created_at, id LIMIT ?",
			offboard.StateAwaitingApproval, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanCase(rows)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: held cases: %w", err)
	}
	return out, nil
}
