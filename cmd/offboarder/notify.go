package main

import (
	"os"
	"strings"

	"github.com/offboarder/offboarder/config"
	"github.com/offboarder/offboarder/offboard"
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
