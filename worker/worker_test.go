package worker

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/offboarder/offboarder/vendorapi"
)

func TestRetryDelay(t *testing.T) {
	rateLimited := &vendorapi.Error{System: "okta", Kind: vendorapi.RateLimited, Status: 429, RetryAfter: 42 * time.Second}
	tests := []struct {
		name     string
		n        int
		err      error
		min, max time.Duration
	}{
		{"a vendor's Retry-After is honoured", 0, rateLimited, 42 * time.Second, 42*time.Second + 250*time.Millisecond},
		{"a wrapped Retry-After is honoured too", 3, fmt.Errorf("revoke: %w", rateLimited), 42 * time.Second, 42*time.Second + 250*time.Millisecond},
		{"a huge Retry-After is capped at 15 minutes", 0, &vendorapi.Error{Kind: vendorapi.RateLimited, RetryAfter: 5 * time.Hour}, 15 * time.Minute, 15*time.Minute + 250*time.Millisecond},
		{"the first retry waits about a second", 0, errors.New("boom"), 500 * time.Millisecond, time.Second},
		{"later retries back off exponentially", 4, errors.New("boom"), 8 * time.Second, 16 * time.Second},
		{"backoff is capped at 5 minutes", 30, errors.New("boom"), 150 * time.Second, 5 * time.Minute},
		{"a short Retry-After is a floor under the backoff, not instead of it", 8,
			&vendorapi.Error{Kind: vendorapi.Transient, Status: 503, RetryAfter: time.Second}, 128 * time.Second, 256 * time.Second},
		{"a Retry-After longer than the backoff is waited for", 1,
			&vendorapi.Error{Kind: vendorapi.Transient, Status: 503, RetryAfter: 30 * time.Second}, 30 * time.Second, 30*time.Second + 250*time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 50 {
				d := RetryDelay(tt.n, tt.err, asynq.NewTask("revoke", nil))
				if d < tt.min || d > tt.max {
					t.Fatalf("RetryDelay = %v, want within [%v, %v]", d, tt.min, tt.max)
				}
			}
		})
	}
}

func TestIsFailure(t *testing.T) {
	if IsFailure(&vendorapi.Error{Kind: vendorapi.RateLimited}) {
		t.Error("a rate limit must not use up a retry")
	}
	if IsFailure(fmt.Errorf("aws: %w", &vendorapi.TurnError{System: "aws", After: time.Second})) {
		t.Error("waiting for a turn under rate_limit must not use up a retry")
	}
	for _, err := range []error{&vendorapi.Error{Kind: vendorapi.Transient}, &vendorapi.Error{Kind: vendorapi.Auth}, errors.New("x")} {
		if !IsFailure(err) {
			t.Errorf("%v must count as a failure", err)
		}
	}
}

func TestATurnsDelayIsItsWaitWithALittleJitter(t *testing.T) {
	for range 100 {
		if d := turnDelay(8 * time.Second); d < 8*time.Second || d > 10*time.Second {
			t.Fatalf("turnDelay(8s) = %s, want 8s to 10s", d)
		}
	}
}

func TestTheWorkersRetryDelay(t *testing.T) {
	w := &Worker{opts: Options{MaxBackoff: 2 * time.Second}}
	boom := &vendorapi.Error{Kind: vendorapi.Transient, Status: 503, RetryAfter: time.Second}
	if d := w.retryDelay(3, &scheduled{err: boom, after: 1234 * time.Millisecond}, nil); d != 1234*time.Millisecond {
		t.Errorf("a revoke's chosen delay: %v, want 1.234s (the time recorded as its next attempt)", d)
	}
	for range 50 {
		if d := w.retryDelay(12, errors.New("db down"), nil); d < time.Second || d > 2*time.Second {
			t.Fatalf("MaxBackoff 2s at retry 12: %v, want within [1s, 2s]", d)
		}
		if d := w.retryDelay(12, boom, nil); d < time.Second || d > 2*time.Second {
			t.Fatalf("MaxBackoff 2s, Retry-After 1s: %v, want within [1s, 2s]", d)
		}
	}
}
