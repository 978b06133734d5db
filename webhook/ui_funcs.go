package webhook

import (
	"fmt"
	"html/template"
	"time"

	"github.com/offboarder/offboarder/offboard"
)

// uiDur prints a duration for people: 340 ms, 2.4 s, 3m12s.
func uiDur(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	default:
		return d.Round(time.Second).String()
	}
}

// uiFuncs are the templates' helpers.
var uiFuncs = template.FuncMap{
	"dur":          uiDur,
	"outcomeClass": outcomeClass,
	"stateClass":   stateClass,
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05")
	},
	"whenp": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05")
	},
	// took is the time between two moments, "" when either is missing.
	"took": func(from *time.Time, to *time.Time) string {
		if from == nil || to == nil {
			return ""
		}
		return uiDur(to.Sub(*from))
	},
	"since": func(from time.Time, to *time.Time) string {
		if to == nil {
			return ""
		}
		return uiDur(to.Sub(from))
	},
}

// outcomeClass names the chip colour of an outcome.
func outcomeClass(o offboard.Outcome) string {
	switch o {
	case offboard.Verified, offboard.Acknowledged, offboard.Attested:
		return "ok"
	case offboard.Failed:
		return "bad"
	case offboard.ManualRequired:
		return "warn"
	case offboard.Pending, "":
		return "wait"
	}
	return "quiet" // not_found, skipped, cancelled
}

// stateClass names the chip colour of a case state.
func stateClass(s offboard.State) string {
	switch s {
	case offboard.StateCompleted:
		return "ok"
	case offboard.StateNeedsAttention:
		return "bad"
	case offboard.StateScheduled, offboard.StatePending, offboard.StateInProgress:
		return "wait"
	}
	return "quiet"
}
