package main

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/offboarder/offboarder/config"
	"github.com/offboarder/offboarder/intake"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/store"
)

// policy is the config's policy as the store, intake and worker apply it.
type policy struct {
	guard     *store.Guard
	protected map[string]bool
	reasons   map[offboard.Reason][]string
}

// policyOf turns cfg.Policy into what the process applies: every
// protected address normalised like every subject (an address that does
// not normalise is an error naming its key).
func policyOf(cfg *config.Config) (policy, error) {
	pol := cfg.Policy
	p := policy{
		guard:     &store.Guard{Cases: pol.HoldAfter.Cases, Within: pol.HoldAfter.Within},
		protected: make(map[string]bool, len(pol.Protected)),
	}
	for _, r := range pol.HoldAfter.Bypass {
		p.guard.Bypass = append(p.guard.Bypass, offboard.Reason(r))
	}
	var errs []error
	for i, e := range pol.Protected {
		email, err := sources.NormalizeEmail(e)
		if err != nil {
			errs = append(errs, fmt.Errorf("policy.protected[%d]: %w", i, err))
			continue
		}
		p.protected[email] = true
	}
	if pol.Reasons != nil {
		p.reasons = make(map[offboard.Reason][]string, len(pol.Reasons))
		for r, names := range pol.Reasons {
			p.reasons[offboard.Reason(r)] = names
		}
	}
	return p, errors.Join(errs...)
}

// intakePolicy is what every event is taken in with in this process; the
// metrics are registered once on reg and shared by the server and the
// worker.
func (p policy) intakePolicy(reg prometheus.Registerer) intake.Policy {
	return intake.Policy{Protected: p.protected, Metrics: intake.NewMetrics(reg)}
}
