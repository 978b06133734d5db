package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// SubjectEventSince reports whether source recorded an event about the
// subject — the email (when not "") or one of ids, each as the event
// carried it — received at or after since. A reconciliation whose events
// cannot carry the id the push of the same change carried (a Graph delta
// query sees a user's state, not the notification) asks it to tell a push
// that arrived from one that did not.
func (s *Store) SubjectEventSince(ctx context.Context, source, email string, ids map[string]string, since time.Time) (bool, error) {
	var (
		conds []string
		args  = []any{source, micros(since.UTC())}
	)
	if email = normalEmail(email); email != "" {
		conds = append(conds, "email = ?")
		args = append(args, email)
	}
	for _, k := range slices.Sorted(maps.Keys(ids)) {
		if ids[k] == "" {
			continue
		}
		// subject_ids is the event's ids as jsonMap wrote them: one
		// "key":"value" pair, found as a substring.
		conds = append(conds, `subject_ids LIKE ? ESCAPE '\'`)
		pair := jsonMap(map[string]string{clean(k): clean(ids[k])})
		args = append(args, "%"+likeEscape(pair[1:len(pair)-1])+"%")
	}
	if len(conds) == 0 {
		return false, nil
	}
	var one int
	err := s.read(ctx, func(t *tx) error {
		return t.queryRow(`SELECT 1 FROM events WHERE source = ? AND received_at >= ? AND (`+strings.Join(conds, " OR ")+`) LIMIT 1`, args...).Scan(&one)
	})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("store: events of %s since %s: %w", source, since.Format(time.RFC3339), err)
	}
	return true, nil
}

// likeEscape escapes the LIKE wildcards and the escape character itself.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
