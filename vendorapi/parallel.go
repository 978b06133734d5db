package vendorapi

import (
	"context"
	"errors"
	"net/http"
	"sync"
)

// maxInFlight bounds the calls one revoke makes to a vendor at once, so
// that a user with hundreds of tokens does not burst into the vendor's rate
// limit.
const maxInFlight = 4

// Concurrently runs calls at the same time, at most maxInFlight at once,
// and waits for all of them. Vendor calls that do not depend on each other
// (deleting sessions and deleting refresh tokens, say) cost one round trip
// instead of several.
//
// It returns nil when every call succeeded. Otherwise it returns the error
// a person must act on before a retryable one (a 403 on one call decides
// the entry even if a sibling was rate-limited), and among errors of the
// same kind the one of the earliest call in the list, so the answer does
// not depend on timing. The first permanent error cancels the calls not
// yet finished, and calls still waiting for a place are never started:
// retrying would not change the outcome.
func Concurrently(ctx context.Context, calls ...func(context.Context) error) error {
	switch len(calls) {
	case 0:
		return nil
	case 1:
		return calls[0](ctx)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(calls))
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	for i, call := range calls {
		if !acquire(ctx, sem) {
			errs[i] = ctx.Err()
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if errs[i] = call(ctx); errs[i] != nil && !Retryable(errs[i]) && ctx.Err() == nil {
				cancel()
			}
		})
	}
	wg.Wait()
	var first error
	for _, err := range errs {
		switch {
		case err == nil:
		case !Retryable(err) && !isCancel(err):
			return err // the earliest permanent error
		case first == nil || isCancel(first) && !isCancel(err):
			first = err
		}
	}
	return first
}

// acquire takes a place in sem unless ctx ends first. A place taken when
// ctx has ended is given back: once a call failed for good, nothing more
// is sent.
func acquire(ctx context.Context, sem chan struct{}) bool {
	select {
	case sem <- struct{}{}:
		if ctx.Err() == nil {
			return true
		}
		<-sem
	case <-ctx.Done():
	}
	return false
}

// DeleteGone returns a call that DELETEs path, for Concurrently: a 404
// means the thing is gone already, which is what a revocation wants.
func DeleteGone(c *Client, path string) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := c.Do(ctx, Request{Method: http.MethodDelete, Path: path}, nil)
		if IsKind(err, NotFound) {
			return nil
		}
		return err
	}
}

// isCancel reports whether err is only the echo of a cancel (a sibling's,
// or the caller's).
func isCancel(err error) bool {
	return errors.Is(err, context.Canceled)
}
