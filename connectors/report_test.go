package connectors

import (
	"context"
	"sync"
	"testing"
)

func TestReport(t *testing.T) {
	ctx, detail := WithReport(t.Context())
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { Report(ctx, "sessions ended") })
	}
	wg.Wait()
	Report(ctx, "%d tokens revoked", 3)
	if got, want := detail(), "sessions ended; sessions ended; 3 tokens revoked"; got != want {
		t.Errorf("detail = %q, want %q", got, want)
	}
	Report(context.Background(), "nobody listens") // no report: no panic, nothing kept
	if _, empty := WithReport(t.Context()); empty() != "" {
		t.Errorf("a fresh report is not empty")
	}
}
