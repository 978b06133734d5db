package webhook

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/internal/testenv"
	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/store"
)

// BenchmarkCasesPage renders the cases list, a page of 100, over loopback
// HTTP with a session, from a SQLite store holding 10,000 cases of five
// systems each: the first page, a page deep in the list, and a page
// filtered by state and source. Its time per op is the time a person
// waits for the page (make bench prints it; no test asserts a time).
func BenchmarkCasesPage(b *testing.B) {
	st, err := store.Open(b.Context(), "sqlite:"+b.TempDir()+"/offboarder.db")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	seedCases(b, st, 10000)

	redisOpt := asynq.RedisClientOpt{Addr: testenv.StartRedis(b).Addr}
	client := asynq.NewClient(redisOpt)
	b.Cleanup(func() { client.Close() })
	h := New(Options{Store: st, Queue: client, Redis: redisOpt, AdminToken: testAdminToken, Logger: zerolog.Nop()})
	b.Cleanup(func() { h.Close() })
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)

	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/ui/login", nil)
	newUISessions(testAdminToken).start(w, r)
	cookie := strings.Split(w.Header().Get("Set-Cookie"), ";")[0]

	for _, tc := range []struct{ name, query string }{
		{"first page", ""},
		{"page 80", "?page=80"},
		{"completed from hr, page 3", "?state=completed&source=hr&page=3"},
		{"needs attention", "?state=needs_attention"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				req, _ := http.NewRequestWithContext(b.Context(), http.MethodGet, srv.URL+"/ui/"+tc.query, nil)
				req.Header.Set("Cookie", cookie)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || strings.Count(string(body), `<tr>`) < 100 {
					b.Fatalf("GET /ui/%s: %d, %d rows", tc.query, resp.StatusCode, strings.Count(string(body), `<tr>`))
				}
			}
		})
	}
}

// seedCases records n cases with five systems each, as the worker leaves
// them (most completed, some failed), from 32 writers at once.
func seedCases(b *testing.B, st *store.Store, n int) {
	b.Helper()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for w := range 32 {
		wg.Go(func() {
			for i := w; i < n; i += 32 {
				email := fmt.Sprintf("person%05d@example.com", i)
				res, err := st.Ingest(b.Context(), store.Event{Source: "hr", EventID: fmt.Sprintf("ev-%d", i), Email: email,
					Reason: offboard.ReasonTerminated, Actor: "source:hr"})
				if err != nil {
					errs <- err
					return
				}
				gh := offboard.Verified
				if i%10 == 0 {
					gh = offboard.Failed
				}
				if _, err := st.FanOut(b.Context(), res.CaseID, map[string]offboard.Outcome{"okta": offboard.Verified,
					"google": offboard.Verified, "slack": offboard.Acknowledged, "github": gh, "zoom": offboard.NotFound}, "worker"); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d cases in %s", n, time.Since(start).Round(time.Millisecond))
}
