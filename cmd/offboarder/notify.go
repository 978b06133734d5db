package main

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/config"
	"github.com/offboarder/offboarder/intake"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/tasks"
	"github.com/offboarder/offboarder/worker"
)

// notifications turns the config's notifications into the worker's, with
// OFFBOARDER_PUBLIC_URL (the server's address as people reach it) for the
// link to a case's page.
func notifications(n config.Notifications) worker.Notifications {
	out := worker.Notifications{PublicURL: strings.TrimSpace(os.Getenv("OFFBOARDER_PUBLIC_URL"))}
	for _, h := range n.Slack {
		out.Slack = append(out.Slack, h.WebhookURL.Reveal())
	}
	for _, h := range n.Webhooks {
		out.Webhooks = append(out.Webhooks, worker.Webhook{URL: h.URL, Secret: h.Secret.Reveal()})
	}
	for _, s := range n.On {
		out.On = append(out.On, offboard.State(s))
	}
	return out
}

// heldNotifier enqueues the notifications of a case the blast-radius guard
// held (awaiting_approval), as the worker does for the states it closes
// cases with. Best effort: a Redis that cannot take the task is logged.
type heldNotifier struct {
	q   *tasks.Queue
	log zerolog.Logger
}

// AwaitingApproval implements intake.Notifier.
func (n heldNotifier) AwaitingApproval(ctx context.Context, h intake.Held) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	if _, err := n.q.NotifyCase(ctx, h.CaseID, offboard.StateAwaitingApproval); err != nil {
		n.log.Warn().Err(err).Str("case_id", h.CaseID).Msg("the held case's notifications were not enqueued")
	}
}
