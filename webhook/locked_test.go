package webhook

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/offboarder/offboarder/internal/testenv"
)

// TestADeliveryToALockedStoreIs503WithinTheIngestTimeout: with another
// connection holding what every write needs (SQLite's write lock; on
// PostgreSQL the audit head's row or the cases table), a delivery is
// answered 503 within server.ingest_timeout and records nothing, and
// /readyz answers 503 with "store": "writes stuck" within its 2 s. Once
// the lock is released, the sender's retry is 202 (a new event, not a
// duplicate: nothing of the first try was written) and /readyz 200. The
// bounds checked (the timeout + 1 s) guard correctness, not speed: before,
// a delivery waited for SQLite's 10 s busy timeout and readyz said ok.
func TestADeliveryToALockedStoreIs503WithinTheIngestTimeout(t *testing.T) {
	const ingestTimeout, senders = 500 * time.Millisecond, 6
	cases := []struct {
		name  string
		db    func(t *testing.T) string
		table bool
	}{
		{"sqlite write lock", func(t *testing.T) string { return "sqlite:" + t.TempDir() + "/offboarder.db" }, false},
		{"postgres audit head row", func(t *testing.T) string { return testenv.Postgres(t) }, false},
		{"postgres cases table", func(t *testing.T) string { return testenv.Postgres(t) }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := tc.db(t)
			s := startNormServerOn(t, u, func(o *Options) { o.IngestTimeout = ingestTimeout })
			lock := testenv.HoldWriteLock(t, u, tc.table)

			// Senders deliver at once, as they do, and a probe asks
			// readyz meanwhile: their writes meet in the committer.
			var wg sync.WaitGroup
			for i := range senders {
				wg.Go(func() {
					start := time.Now()
					status, body := s.deliver(fmt.Sprintf("evt-%d", i), fmt.Sprintf("u%d@example.com", i))
					if took := time.Since(start); status != http.StatusServiceUnavailable || took > ingestTimeout+time.Second {
						t.Errorf("delivery %d under the lock = %d %v after %v, want 503 within %v", i, status, body, took, ingestTimeout)
					}
				})
			}
			start := time.Now()
			status, body := s.do(http.MethodGet, "/readyz", nil, nil)
			if took := time.Since(start); status != http.StatusServiceUnavailable || body["store"] != "writes stuck" ||
				body["redis"] != "ok" || took > 3*time.Second {
				t.Errorf("readyz under the lock = %d %v after %v, want 503 with the store's writes stuck", status, body, took)
			}
			wg.Wait()

			lock.Release(t)
			for i := range senders {
				email := fmt.Sprintf("u%d@example.com", i)
				if status, body := s.deliver(fmt.Sprintf("evt-%d", i), email); status != http.StatusAccepted || body["duplicate"] != false {
					t.Errorf("sender %d's retry after release = %d %v, want 202 and not a duplicate", i, status, body)
				}
				if status, cases, _ := s.casesFor(email); status != http.StatusOK || len(cases) != 1 {
					t.Errorf("cases of %s after release = %d %+v, want one", email, status, cases)
				}
			}
			if status, body := s.do(http.MethodGet, "/readyz", nil, nil); status != http.StatusOK || body["store"] != "ok" {
				t.Errorf("readyz after release = %d %v, want 200", status, body)
			}
		})
	}
}
