package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/tasks"
	"github.com/offboarder/offboarder/vendorapi"
)

// resolve asks the sender's API who an id-only case's subject is, through
// the source of the case's first event. It returns the case to fan out now,
// or nil when there is nothing more to do here (dismissed, merged into
// another case — whose offboard task it enqueues — or scheduled for later).
func (w *Worker) resolve(ctx context.Context, log zerolog.Logger, c *store.Case, first *store.EventRecord) (*store.Case, error) {
	if first == nil {
		return nil, permanent(fmt.Errorf("offboard: case %s has no email and no events", c.ID))
	}
	r, ok := w.resolvers[first.Source]
	if !ok {
		why := fmt.Sprintf("source %q cannot resolve the subject's email (not configured in this worker, or not a resolving source)", first.Source)
		return nil, w.closeCase(ctx, c.ID, offboard.StateNeedsAttention, why)
	}
	res, err := r.Resolve(ctx, sources.Event{ID: first.EventID, Type: first.Type, Reason: first.Reason, IDs: c.SubjectIDs, EffectiveAt: c.EffectiveAt})
	if err != nil {
		if vendorapi.Retryable(err) && ctx.Err() == nil {
			return nil, fmt.Errorf("offboard: resolve subject: %w", err)
		}
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, w.closeCase(ctx, c.ID, offboard.StateNeedsAttention, "could not resolve the subject: "+err.Error())
	}
	if !res.Offboard {
		log.Info().Str("why", res.Ignored).Msg("sender says the person is not leaving; case dismissed")
		return nil, w.closeCase(ctx, c.ID, offboard.StateDismissed, res.Ignored)
	}
	email, err := sources.NormalizeEmail(res.Email)
	if err != nil {
		return nil, w.closeCase(ctx, c.ID, offboard.StateNeedsAttention, "the sender's API gave an unusable email: "+err.Error())
	}
	next, err := w.opts.Store.ResolveSubject(ctx, c.ID, store.Resolution{
		Email: email, IDs: res.IDs, Reason: res.Reason, EffectiveAt: res.EffectiveAt,
	}, actor)
	if err != nil {
		return nil, err
	}
	if next.ID != c.ID || time.Until(next.EffectiveAt) > time.Second {
		// Merged into an open case, or now due later: its own task runs it.
		_, err := w.queue.Offboard(ctx, tasks.Offboard{CaseID: next.ID, EffectiveAt: next.EffectiveAt, Security: next.Security})
		log.Info().Str("into_case", next.ID).Time("effective_at", next.EffectiveAt).Msg("subject resolved")
		return nil, err
	}
	log.Info().Msg("subject resolved")
	return next, nil
}

func (w *Worker) closeCase(ctx context.Context, id string, state offboard.State, why string) error {
	if err := w.opts.Store.CloseCase(ctx, id, state, why, actor); err != nil {
		return err
	}
	if err := w.notifyState(ctx, id, state); err != nil {
		return err // the offboard task runs again; the closed case only notifies
	}
	if state == offboard.StateNeedsAttention {
		return permanent(fmt.Errorf("offboard: case %s needs attention: %s", id, why))
	}
	return nil
}
