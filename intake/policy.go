package intake

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/store"
	"github.com/offboarder/offboarder/tasks"
)

// Policy is what Take applies to every event beside recording it.
type Policy struct {
	// Protected are the normalised emails of accounts never offboarded
	// (policy.protected).
	Protected map[string]bool
	// Notifier is told of every case the guard holds; nil: nobody.
	Notifier Notifier
	// Metrics counts the held cases; nil: none.
	Metrics *Metrics
}

// WithPolicy makes in apply p and returns in. Call it before in is used.
func (in *Intake) WithPolicy(p Policy) *Intake {
	in.policy = p
	return in
}

// Held is a case the blast-radius guard held, as a Notifier hears of it.
type Held struct {
	CaseID  string
	Email   string // "" for an id-only subject not resolved yet
	Reason  offboard.Reason
	Source  string // the configured source the event came through
	EventID string
}

// Notifier hears that a case started to wait for approval
// (awaiting_approval): operators must look at it. AwaitingApproval is
// called after the commit, once per held case, from the goroutine that
// took the event in: it must return quickly (queue its work) and never
// fail the intake.
type Notifier interface {
	AwaitingApproval(ctx context.Context, h Held)
}

// held tells operators that the guard held a new case: a warning, the
// counter and the Notifier.
func (in *Intake) held(ctx context.Context, o Origin, ev sources.Event, caseID string) {
	zerolog.Ctx(ctx).Warn().Str("case_id", caseID).Str("source", o.Source).Str("reason", string(ev.Reason)).
		Msg("case held: more new cases than policy.hold_after allows; it waits for approval (POST /v1/approvals)")
	in.policy.Metrics.held(ev.Reason)
	if in.policy.Notifier != nil {
		in.policy.Notifier.AwaitingApproval(ctx, Held{CaseID: caseID, Email: ev.Email, Reason: ev.Reason, Source: o.Source, EventID: ev.ID})
	}
}

// Metrics are intake's metrics: one set per process, shared by the
// webhook server and the worker.
type Metrics struct {
	heldTotal *prometheus.CounterVec
}

// NewMetrics registers intake's metrics on reg:
// offboarder_cases_held_total{reason}.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{heldTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "offboarder_cases_held_total",
		Help: "New cases the blast-radius guard (policy.hold_after) held for approval, by reason (a reason word, or other).",
	}, []string{"reason"})}
	reg.MustRegister(m.heldTotal)
	return m
}

func (m *Metrics) held(r offboard.Reason) {
	if m == nil {
		return
	}
	label := string(r)
	if !r.Valid() {
		label = "other"
	}
	m.heldTotal.WithLabelValues(label).Inc()
}

// Approve releases held cases (store.ApproveCases) and then enqueues each
// released case's offboard task, best effort within the enqueue timeout
// each (after a failed enqueue it stops trying: the relay queues the rest
// once Redis is back). The error is the store's only.
func (in *Intake) Approve(ctx context.Context, a store.Approval) (store.ApprovalResult, error) {
	res, err := in.store.ApproveCases(ctx, a)
	if err != nil {
		return res, err
	}
	for _, c := range res.Released {
		ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), in.timeout)
		_, err := in.queue.Offboard(ectx, tasks.Offboard{CaseID: c.ID, EffectiveAt: c.EffectiveAt, Security: c.Security})
		cancel()
		if err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Str("case_id", c.ID).Msg("enqueue after approval failed; the relay will queue the released cases")
			break
		}
	}
	return res, nil
}
