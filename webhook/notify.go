package webhook

import (
	"cmp"
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/offboard"
)

// notifyState enqueues the notifications of a case an admin request has
// just moved into state (committed), best effort within the enqueue
// timeout: the answer to the request does not wait on Redis, and a failure
// is logged.
func (s *Server) notifyState(ctx context.Context, caseID string, state offboard.State) {
	if !s.notifyQueue.Notifies(state) {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cmp.Or(s.opts.EnqueueTimeout, time.Second))
	defer cancel()
	if _, err := s.notifyQueue.NotifyCase(ctx, caseID, state); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Str("case_id", caseID).Msg("notifications not enqueued")
	}
}
