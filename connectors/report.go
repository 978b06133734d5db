package connectors

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// A revoke's outcome is one word; what a person reads beside it — what was
// ended and what was not, why a step was skipped, a manual step's
// instructions — a connector reports through the context of its Revoke,
// and the worker records it as the entry's detail. The Connector interface
// stays one method.

type reportKey struct{}

type report struct {
	mu    sync.Mutex
	lines []string
}

// WithReport returns a context for one Revoke and a function that returns
// what the connector reported under it, its sentences joined by "; ".
func WithReport(ctx context.Context) (context.Context, func() string) {
	r := new(report)
	return context.WithValue(ctx, reportKey{}, r), func() string {
		r.mu.Lock()
		defer r.mu.Unlock()
		return strings.Join(r.lines, "; ")
	}
}

// Report adds a sentence to the detail of the revoke running under ctx,
// e.g. Report(ctx, "account deactivated; live sessions are not ended by
// this API"). It must never carry a secret. Without WithReport (a test, a
// probe) it does nothing.
func Report(ctx context.Context, format string, args ...any) {
	r, ok := ctx.Value(reportKey{}).(*report)
	if !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, fmt.Sprintf(format, args...))
}
