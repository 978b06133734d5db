package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/connectors"
	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/tasks"
)

// handleMaintain runs one source's maintenance and offboards the events it
// found (deduplicated against pushes by their event ids).
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
		if !connectors.Retryable(err) {
			return permanent(fmt.Errorf("maintain %s: %w", p.Source, err))
		}
		return fmt.Errorf("maintain %s: %w", p.Source, err)
	}
	for _, ev := range events {
		res, err := w.opts.Store.Ingest(ctx, store.Event{
			Source: p.Source, EventID: ev.ID, Type: ev.Type, Email: ev.Email, SubjectIDs: ev.IDs,
			Reason: ev.Reason, EffectiveAt: ev.EffectiveAt, Systems: ev.Systems, DryRun: ev.DryRun,
			ReceivedAt: time.Now(), Actor: "source:" + p.Source,
		})
		if err != nil {
			return err
		}
		if res.Duplicate {
			continue
		}
		log.Warn().Str("case_id", res.CaseID).Str("event_id", ev.ID).Msg("maintenance found an event the sender had not pushed")
		if _, err := w.queue.Offboard(ctx, tasks.Offboard{CaseID: res.CaseID, EffectiveAt: res.EffectiveAt}); err != nil {
			return err
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
