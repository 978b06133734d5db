package webhook

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/internal/testenv"
	"github.com/offboarder/offboarder/registry"
	"github.com/offboarder/offboarder/sources"
	"github.com/offboarder/offboarder/store"
)

// surface is a whole server as `offboarder serve` builds it — SQLite, a
// private redis-server, the dashboard mounted, its own registry — served
// over loopback, for tests that attack it from outside.
type surface struct {
	t      *testing.T
	url    string
	store  *store.Store
	reg    *prometheus.Registry
	client *asynq.Client
	insp   *asynq.Inspector
	log    *syncBuffer
}

func startSurface(t *testing.T) *surface {
	t.Helper()
	return startSurfaceWith(t, func(*Options) {})
}

// startSurfaceWith is startSurface with the server's options changed by set.
func startSurfaceWith(t *testing.T, set func(*Options)) *surface {
	t.Helper()
	st, err := store.Open(t.Context(), "sqlite:"+t.TempDir()+"/offboarder.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	redisOpt := asynq.RedisClientOpt{Addr: testenv.StartRedis(t).Addr, DialTimeout: 500 * time.Millisecond}
	client := asynq.NewClient(redisOpt)
	t.Cleanup(func() { client.Close() })
	insp := asynq.NewInspector(redisOpt)
	t.Cleanup(func() { insp.Close() })
	srcs, err := sources.Build([]sources.Spec{{Name: "hr", Type: "generic", Settings: map[string]any{"secret": testHRSecret}}}, registry.Sources(), sources.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	s := &surface{t: t, store: st, reg: prometheus.NewRegistry(), client: client, insp: insp, log: &syncBuffer{}}
	o := Options{Store: st, Queue: client, Redis: redisOpt, Sources: srcs, Connectors: []string{"okta"},
		AdminToken: testAdminToken, Logger: zerolog.New(s.log).Level(zerolog.DebugLevel), Registry: s.reg,
		Dashboard: true, QueuePollInterval: 20 * time.Millisecond}
	set(&o)
	h := New(o)
	t.Cleanup(func() { h.Close() })
	srv := httptest.NewUnstartedServer(h)
	srv.Config = NewHTTPServer(h)
	srv.Start()
	t.Cleanup(srv.Close)
	s.url = srv.URL
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", s.log.String())
		}
	})
	return s
}

// send makes one request and answers its status and body.
func (s *surface) send(method, path string, header http.Header, body string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequestWithContext(s.t.Context(), method, s.url+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// syncBuffer is a log sink safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
