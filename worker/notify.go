package worker

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/tasks"
)

// Notifications configure who is told when a case reaches a state a person
// must see. The zero value tells nobody.
type Notifications struct {
	// Slack are Slack incoming-webhook URLs (each URL is the hook's credential).
	Slack []string
	// Webhooks are generic receivers, each body signed with its Secret.
	Webhooks []Webhook
	// On are the notified states.
	On []offboard.State
	// PublicURL, when set, is the server's address as people reach it; a
	// message then links to the case's page (PublicURL + /ui/cases/{id}).
	PublicURL string
	// Timeout bounds one delivery [10s].
	Timeout time.Duration
}

// Webhook is one generic receiver of notifications.
type Webhook struct {
	URL    string
	Secret string
}

// destination is one configured receiver, by its id (tasks.DestinationID).
type destination struct {
	kind   string // "slack" or "webhook"
	url    string
	secret []byte // webhook only
}

// Settings returns what a tasks.Queue needs to enqueue these notifications:
// the destinations' ids and the notified states. No secret is in it.
func (n Notifications) Settings() tasks.NotifySettings {
	s := tasks.NotifySettings{On: n.On}
	for id := range n.destinations() {
		s.Destinations = append(s.Destinations, id)
	}
	return s
}

func (n Notifications) destinations() map[string]destination {
	out := make(map[string]destination, len(n.Slack)+len(n.Webhooks))
	for _, u := range n.Slack {
		out[tasks.DestinationID("slack", u)] = destination{kind: "slack", url: u}
	}
	for _, h := range n.Webhooks {
		out[tasks.DestinationID("webhook", h.URL)] = destination{kind: "webhook", url: h.URL, secret: []byte(h.Secret)}
	}
	return out
}

// Message is what a notification says about a case; the generic webhook's
// JSON body. It never holds a secret.
type Message struct {
	Type    string          `json:"type"` // "case.<state>"
	CaseID  string          `json:"case_id"`
	Email   string          `json:"email"`
	State   string          `json:"state"`
	Reason  offboard.Reason `json:"reason"`
	Systems []SystemOutcome `json:"systems"`
	URL     string          `json:"url,omitempty"` // the case's page, when a public URL is configured
	SentAt  time.Time       `json:"sent_at"`
}

// SystemOutcome is one connector's outcome in a Message.
type SystemOutcome struct {
	Connector string           `json:"connector"`
	Outcome   offboard.Outcome `json:"outcome"`
}

// handleNotify sends one notification: it reads the case, builds the
// message and posts it to the task's destination. A receiver that is down,
// times out or answers 408, 429 or 5xx is tried again (asynq's backoff,
// Retry-After first); another 4xx, or a destination no longer configured,
// archives the task.
func (w *Worker) handleNotify(ctx context.Context, t *asynq.Task) error {
	var p tasks.Notify
	if err := tasks.Decode(t, &p); err != nil {
		return permanent(err)
	}
	log := zerolog.Ctx(ctx).With().Str("case_id", p.CaseID).Str("destination", p.Destination).Str("state", p.State).Logger()
	d, ok := w.dests[p.Destination]
	if !ok {
		log.Warn().Msg("notification dropped: its destination is no longer configured")
		return permanent(fmt.Errorf("notify: destination %s is not configured", p.Destination))
	}
	c, err := w.opts.Store.GetCase(ctx, p.CaseID)
	if errors.Is(err, store.ErrNotFound) {
		return permanent(fmt.Errorf("notify: case %s not found", p.CaseID))
	}
	if err != nil {
		return err
	}
	m := w.message(c, p.State)
	if d.kind == "slack" {
		err = postSlack(ctx, w.notifyClient, d.url, m)
	} else {
		err = postWebhook(ctx, w.notifyClient, d.url, d.secret, m)
	}
	if err != nil {
		if retryable(err) && ctx.Err() == nil {
			log.Warn().Err(err).Msg("notification not delivered; will retry")
			return err
		}
		if ctx.Err() != nil {
			return err
		}
		log.Error().Err(err).Msg("notification refused by its receiver")
		return permanent(err)
	}
	log.Info().Str("kind", d.kind).Msg("notification sent")
	return nil
}

func (w *Worker) message(c *store.Case, state string) Message {
	m := Message{Type: "case." + state, CaseID: c.ID, Email: c.Email, State: state, Reason: c.Reason,
		Systems: make([]SystemOutcome, 0, len(c.Entries)), SentAt: time.Now().UTC()}
	for _, e := range c.Entries {
		m.Systems = append(m.Systems, SystemOutcome{Connector: e.Connector, Outcome: e.Outcome})
	}
	if base := strings.TrimRight(w.opts.Notify.PublicURL, "/"); base != "" {
		m.URL = base + "/ui/cases/" + url.PathEscape(c.ID)
	}
	return m
}

// notifyState enqueues the notifications of a case that has just reached
// state (committed): the one call every worker path that closes a case
// makes. Nothing happens for a state that is not notified.
func (w *Worker) notifyState(ctx context.Context, caseID string, state offboard.State) error {
	if _, err := w.queue.NotifyCase(ctx, caseID, state); err != nil {
		return fmt.Errorf("notify %s: %w", state, err)
	}
	return nil
}
