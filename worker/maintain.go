package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/intake"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/tasks"
	"github.com/offboarder/offboarder/vendorapi"
)

// handleMaintain runs one source's maintenance and takes in the events it
// found, also those returned beside an error, as pushed events are:
// deduplicated against pushes by their event ids, or, for an event with
// Since, by its subject (sources.Event).
func (w *Worker) handleMaintain(ctx context.Context, t *asynq.Task) error {
	var p tasks.Maintain
	if err := tasks.Decode(t, &p); err != nil {
		return permanent(err)
	}
	m, ok := w.maintainers[p.Source]
	if !ok {
		return nil // the source left the config since the task was queued
	}
	// The state the run writes (a cursor past the events it found) is kept
	// only once those events are taken in: when the store cannot take them,
	// the next run reads them again.
	st := &bufferedState{sourceState: sourceState{w.opts.Store, p.Source}}
	events, err := m.Maintain(ctx, st)
	if terr := w.takeFound(ctx, p.Source, events); terr != nil {
		return errors.Join(terr, err)
	}
	if ferr := st.flush(ctx); ferr != nil {
		return errors.Join(ferr, err)
	}
	if err != nil {
		if !vendorapi.Retryable(err) {
			return permanent(fmt.Errorf("maintain %s: %w", p.Source, err))
		}
		return fmt.Errorf("maintain %s: %w", p.Source, err)
	}
	return nil
}

// takeFound takes in the events a maintenance found, also those it returned
// beside an error (its cursor has moved past them).
func (w *Worker) takeFound(ctx context.Context, source string, events []sources.Event) error {
	log := zerolog.Ctx(ctx).With().Str("source", source).Logger()
	origin := intake.Origin{Source: source, Actor: "source:" + source}
	for _, ev := range events {
		if !ev.Since.IsZero() {
			pushed, err := w.opts.Store.SubjectEventSince(ctx, source, ev.Email, ev.IDs, ev.Since)
			if err != nil {
				return err
			}
			if pushed {
				log.Debug().Str("event_id", ev.ID).Msg("maintenance found a change whose push arrived")
				continue
			}
		}
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

// bufferedState holds the values a maintenance run puts until flush writes
// them; Get sees them first.
type bufferedState struct {
	sourceState
	keys []string
	vals map[string][]byte
}

func (b *bufferedState) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if v, ok := b.vals[key]; ok {
		return v, true, nil
	}
	return b.sourceState.Get(ctx, key)
}

func (b *bufferedState) Put(_ context.Context, key string, value []byte) error {
	if b.vals == nil {
		b.vals = map[string][]byte{}
	}
	if _, ok := b.vals[key]; !ok {
		b.keys = append(b.keys, key)
	}
	b.vals[key] = append([]byte(nil), value...)
	return nil
}

// flush writes the values put, in the order first put.
func (b *bufferedState) flush(ctx context.Context) error {
	for _, k := range b.keys {
		if err := b.sourceState.Put(ctx, k, b.vals[k]); err != nil {
			return err
		}
	}
	return nil
}
