package worker

import (
	"context"
	"fmt"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/intake"
	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/tasks"
	"github.com/offboarder/offboarder/vendorapi"
)

// handleMaintain runs one source's maintenance and takes in the events it
// found as pushed events are (deduplicated against pushes by their event
// ids).
func (w *Worker) handleMaintain(ctx context.Context, t *asynq.Task) error {
	var p tasks.Maintain
	if err := tasks.Decode(t, &p); err != nil {
		return permanent(err)
	}
	m, ok := w.maintainers[p.Source]
	if !ok {
		return nil // the source left the config since the task was queued
	}
	log := zerolog.Ctx(ctx).With().Str("source", p.Source).Logger()
	events, err := m.Maintain(ctx, sourceState{w.opts.Store, p.Source})
	if err != nil {
		if !vendorapi.Retryable(err) {
			return permanent(fmt.Errorf("maintain %s: %w", p.Source, err))
		}
		return fmt.Errorf("maintain %s: %w", p.Source, err)
	}
	origin := intake.Origin{Source: p.Source, Actor: "source:" + p.Source}
	for _, ev := range events {
		res, err := w.intake.Take(ctx, origin, ev)
		if err != nil {
			return err
		}
		l := log.With().Str("case_id", res.CaseID).Str("event_id", ev.ID).Logger()
		if res.EnqueueErr != nil {
			l.Warn().Err(res.EnqueueErr).Msg("enqueue failed; the event is committed and the relay will queue it")
		}
		if !res.Duplicate {
			l.Warn().Msg("maintenance found an event the sender had not pushed")
		}
	}
	return nil
}

// sourceState keeps a source's state in the store, under its name.
type sourceState struct {
	st     *store.Store
	source string
}

func (s sourceState) Get(ctx context.Context, key string) ([]byte, bool, error) {
	return s.st.SourceState(ctx, s.source, key)
}

func (s sourceState) Put(ctx context.Context, key string, value []byte) error {
	return s.st.PutSourceState(ctx, s.source, key, value)
}
