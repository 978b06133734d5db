package webhook

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
)

// redisPinger returns a check of the Redis that asynq uses.
func (s *Server) redisPinger() func(ctx context.Context) error {
	if s.opts.Redis == nil {
		return func(context.Context) error { return nil }
	}
	rc, ok := s.opts.Redis.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return func(context.Context) error { return nil }
	}
	s.closers = append(s.closers, rc.Close)
	return func(ctx context.Context) error { return rc.Ping(ctx).Err() }
}

// handleReady answers 200 when the store and Redis both answer within 2s,
// else 503 naming which one did not. The store must also commit a tiny
// write within that time (store.ProbeWrite, which takes the locks an
// ingest takes): a database that answers but whose writes are stuck — a
// write lock held by another process — is "store": "writes stuck". The
// checks run side by side, each with the whole 2s. The body also gives each queue's state
// at the queue watch's latest look ("queues": running, paused or unknown),
// and a paused queue adds a line to "warnings" without changing the status:
// the process can take deliveries, but that queue's work waits for a person.
func (s *Server) handleReady(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	status, code := gin.H{"store": "ok", "redis": "ok"}, http.StatusOK
	if queues := s.queues.States(); queues != nil {
		status["queues"] = queues
		var warnings []string
		for _, q := range watchedQueues {
			if queues[q] == queuePaused {
				warnings = append(warnings, "queue "+q+" is paused: none of its tasks run until it is resumed")
			}
		}
		if len(warnings) > 0 {
			status["warnings"] = warnings
		}
	}
	redisErr := make(chan error, 1)
	go func() { redisErr <- s.ping(ctx) }()
	if state, err := s.storeState(ctx); err != nil {
		status["store"], code = state, http.StatusServiceUnavailable
		zerolog.Ctx(ctx).Warn().Err(err).Msg("readyz: store")
	}
	if err := <-redisErr; err != nil {
		status["redis"], code = "unavailable", http.StatusServiceUnavailable
		zerolog.Ctx(ctx).Warn().Err(err).Msg("readyz: redis")
	}
	c.JSON(code, status)
}

// storeState checks the store: "unavailable" when it does not answer,
// "writes stuck" when it answers but cannot commit a write before ctx
// ends.
func (s *Server) storeState(ctx context.Context) (string, error) {
	if err := s.opts.Store.Ping(ctx); err != nil {
		return "unavailable", err
	}
	if err := s.opts.Store.ProbeWrite(ctx); err != nil {
		return "writes stuck", err
	}
	return "ok", nil
}
