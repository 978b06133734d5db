package vendorapi

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestConcurrently(t *testing.T) {
	transient := &Error{Kind: Transient, Msg: "503"}
	limited := &Error{Kind: RateLimited, Msg: "429"}
	auth := &Error{Kind: Auth, Msg: "403"}
	gone := &Error{Kind: NotFound, Msg: "404"}
	ret := func(err error) func(context.Context) error { return func(context.Context) error { return err } }

	tests := []struct {
		name  string
		calls []func(context.Context) error
		want  error
	}{
		{"no calls", nil, nil},
		{"every call succeeds", []func(context.Context) error{ret(nil), ret(nil), ret(nil)}, nil},
		{"one call, its own error", []func(context.Context) error{ret(limited)}, limited},
		{"a permanent error wins over an earlier retryable one", []func(context.Context) error{ret(transient), ret(nil), ret(auth)}, auth},
		{"the earliest of two permanent errors", []func(context.Context) error{ret(nil), ret(gone), ret(auth)}, gone},
		{"the earliest of two retryable errors", []func(context.Context) error{ret(limited), ret(transient)}, limited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Concurrently(t.Context(), tt.calls...); got != tt.want {
				t.Errorf("Concurrently = %v, want %v", got, tt.want)
			}
		})
	}

	t.Run("a permanent error cancels the calls still running, and is what is returned", func(t *testing.T) {
		cancelled := make(chan struct{})
		waiter := func(ctx context.Context) error {
			select {
			case <-ctx.Done():
				close(cancelled)
				return &Error{Kind: Transient, Msg: "stopped", Err: ctx.Err()}
			case <-time.After(time.Minute):
				return nil
			}
		}
		got := Concurrently(t.Context(), waiter, ret(auth))
		select {
		case <-cancelled:
		default:
			t.Fatal("the sibling was not cancelled")
		}
		if got != auth {
			t.Errorf("Concurrently = %v, want the permanent %v, not the sibling's cancel", got, auth)
		}
	})

	t.Run("after a permanent error, calls waiting for a place are never started", func(t *testing.T) {
		var started [3 * maxInFlight]atomic.Bool
		calls := []func(context.Context) error{func(context.Context) error { started[0].Store(true); return auth }}
		for i := 1; i < len(started); i++ {
			calls = append(calls, func(ctx context.Context) error {
				started[i].Store(true)
				<-ctx.Done() // held until cancelled: the places free up only then
				return &Error{Kind: Transient, Msg: "stopped", Err: ctx.Err()}
			})
		}
		if got := Concurrently(t.Context(), calls...); got != auth {
			t.Errorf("Concurrently = %v, want %v", got, auth)
		}
		for i := maxInFlight; i < len(started); i++ {
			if started[i].Load() {
				t.Errorf("call %d started after the permanent error", i+1)
			}
		}
	})

	t.Run("a retryable error does not cancel its siblings", func(t *testing.T) {
		var finished atomic.Bool
		slow := func(ctx context.Context) error {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
				finished.Store(true)
				return nil
			}
		}
		if got := Concurrently(t.Context(), ret(limited), slow); got != limited || !finished.Load() {
			t.Errorf("Concurrently = %v, sibling finished %v; want %v and true", got, finished.Load(), limited)
		}
	})

	t.Run("the caller's cancel is returned as it is", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		got := Concurrently(ctx, func(ctx context.Context) error { return ctx.Err() }, func(ctx context.Context) error { return ctx.Err() })
		if !errors.Is(got, context.Canceled) {
			t.Errorf("Concurrently = %v, want context.Canceled", got)
		}
	})

	t.Run("at most maxInFlight calls run at once, and that many do", func(t *testing.T) {
		var (
			mu       sync.Mutex
			now, top int
		)
		call := func(context.Context) error {
			mu.Lock()
			now++
			top = max(top, now)
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
			mu.Lock()
			now--
			mu.Unlock()
			return nil
		}
		calls := make([]func(context.Context) error, 3*maxInFlight)
		for i := range calls {
			calls[i] = call
		}
		if err := Concurrently(t.Context(), calls...); err != nil {
			t.Fatal(err)
		}
		if top != maxInFlight {
			t.Errorf("at most %d calls ran at once, want %d", top, maxInFlight)
		}
	})
}
