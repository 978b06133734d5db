package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/offboarder/offboarder/offboard"
	"github.com/offboarder/offboarder/store"
)

// keptTTL is how long a vendor's answer is kept in Redis for the database
// to record it: longer than any database outage the worker rides out.
const keptTTL = 24 * time.Hour

// keptKey is the Redis key of one entry's kept vendor answer.
func keptKey(caseID, connector string) string {
	return "offboarder:kept:" + caseID + ":" + connector
}

// keptAnswer is what a vendor answered a revoke, kept until the database
// records it: a re-run of the task (after the database was away longer
// than recordPatience, or a lost lease) records it instead of calling the
// vendor again.
type keptAnswer struct {
	Outcome    offboard.Outcome `json:"outcome"`
	Detail     string           `json:"detail,omitempty"`
	Failed     bool             `json:"failed,omitempty"`
	N          int              `json:"n"`
	StartedAt  time.Time        `json:"started_at"`
	DurationUS int64            `json:"duration_us"`
	StatusCode int              `json:"status_code"`
	Result     string           `json:"result"`
	Error      string           `json:"error,omitempty"`
}

func (k keptAnswer) attempt(caseID, connector string) *store.Attempt {
	return &store.Attempt{CaseID: caseID, Connector: connector, N: k.N, StartedAt: k.StartedAt,
		Duration: time.Duration(k.DurationUS) * time.Microsecond, StatusCode: k.StatusCode, Result: k.Result, Error: k.Error}
}

// keep stores the vendor's answer a (with the outcome it gives) before the
// database is asked to record it. Best effort: without Redis the task
// cannot be retried either, and the answer is recorded now or never kept.
func (w *Worker) keep(ctx context.Context, log zerolog.Logger, outcome offboard.Outcome, detail string, failed bool, a *store.Attempt) {
	if w.redis == nil || a == nil {
		return
	}
	b, _ := json.Marshal(keptAnswer{Outcome: outcome, Detail: detail, Failed: failed, N: a.N, StartedAt: a.StartedAt,
		DurationUS: a.Duration.Microseconds(), StatusCode: a.StatusCode, Result: a.Result, Error: a.Error})
	if err := w.redis.Set(context.WithoutCancel(ctx), keptKey(a.CaseID, a.Connector), b, keptTTL).Err(); err != nil {
		log.Warn().Err(err).Msg("vendor answer not kept in redis")
	}
}

// kept returns the kept answer for an entry; ok is false when there is none.
func (w *Worker) kept(ctx context.Context, caseID, connector string) (keptAnswer, bool, error) {
	if w.redis == nil {
		return keptAnswer{}, false, nil
	}
	b, err := w.redis.Get(ctx, keptKey(caseID, connector)).Bytes()
	if errors.Is(err, redis.Nil) {
		return keptAnswer{}, false, nil
	}
	if err != nil {
		return keptAnswer{}, false, fmt.Errorf("revoke: read kept vendor answer: %w", err)
	}
	var k keptAnswer
	if err := json.Unmarshal(b, &k); err != nil || !k.Outcome.Final() {
		return keptAnswer{}, false, nil // unreadable: the vendor is asked again (revokes are idempotent)
	}
	return k, true, nil
}

// forget drops an entry's kept answer once the database recorded it.
func (w *Worker) forget(ctx context.Context, log zerolog.Logger, caseID, connector string) {
	if w.redis == nil {
		return
	}
	if err := w.redis.Del(context.WithoutCancel(ctx), keptKey(caseID, connector)).Err(); err != nil {
		log.Warn().Err(err).Msg("kept vendor answer not dropped (it expires in a day)")
	}
}
