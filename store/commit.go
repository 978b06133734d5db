package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Group commit.
//
// Every write transaction of a Store goes through one committer goroutine.
// The committer takes the writes that are waiting when it is free and runs
// them in ONE database transaction, each inside a SAVEPOINT of its own, and
// commits once: one fsync and one hold of the audit chain's head for the
// whole batch instead of one each. A write that fails rolls back to its
// savepoint and gets its own error; the others still commit. Nobody hears
// success before the commit that holds their write has returned, so "a 2xx
// means committed" still holds.
//
// A write alone in its batch runs exactly as before, without savepoints. If
// the batch itself fails (commit, a broken connection, a PostgreSQL
// deadlock or serialization failure with another process, a savepoint that
// cannot be rolled back), every write in it that had not failed on its own
// is run again alone, so one write's trouble never becomes another's error.

// maxBatch bounds the writes committed together, so that the first of them
// does not wait long for the last.
const maxBatch = 64

// batchTimeout bounds one batch transaction. It does not come from any one
// caller's cancellation: a caller that hangs up (a sender closing the
// connection) must not abort the others' writes. A caller's deadline does
// bound it (batchContext).
const batchTimeout = 30 * time.Second

// The states of a write: waiting to be run, taken by the committer (it is
// in a transaction now; its caller waits for the outcome), or given up by
// its caller (the committer skips it).
const (
	writeWaiting int32 = iota
	writeTaken
	writeAbandoned
)

// write is one write transaction waiting for the committer.
type write struct {
	ctx   context.Context
	fn    func(*tx) error
	done  chan error // buffered (1): the committer never blocks on a caller
	state atomic.Int32
}

// take claims w for a transaction; false: its caller gave up on it.
func (w *write) take() bool { return w.state.CompareAndSwap(writeWaiting, writeTaken) }

// release hands a taken write back to waiting (its transaction failed
// before commit), so that its caller may give up before it is run again.
func (w *write) release() { w.state.CompareAndSwap(writeTaken, writeWaiting) }

// committers is how many transactions a Store commits at once: one on
// SQLite, which has one writer anyway; on PostgreSQL one per core, at
// least two — a batch spends much of its time waiting for round trips, but
// every batch ends by locking the audit head, and more committers make
// smaller batches that wait on each other for it. Measured on 2 cores
// (store BenchmarkIngest, 16 writers): 1 committer 0.86 ms per ingest,
// 2: 0.52–0.62 ms, 4: 0.73–0.81 ms, 8: 1.2–1.4 ms.
func committers(dialect string) int {
	if dialect == dialectPostgres {
		return max(2, runtime.GOMAXPROCS(0))
	}
	return 1
}

// startCommitter starts the goroutines that commit writes; stopCommitter
// ends them after the writes already handed over.
func (s *Store) startCommitter() {
	n := committers(s.dialect)
	s.writes = make([]chan *write, n)
	s.quit = make(chan struct{})
	s.stopped = make(chan struct{})
	var wg sync.WaitGroup
	for i := range s.writes {
		s.writes[i] = make(chan *write)
		wg.Go(func() { s.commitLoop(s.writes[i]) })
	}
	go func() { wg.Wait(); close(s.stopped) }()
}

func (s *Store) stopCommitter() {
	if s.quit == nil {
		return
	}
	s.closeOnce.Do(func() { close(s.quit) })
	<-s.stopped
}

func (s *Store) commitLoop(writes chan *write) {
	batch := make([]*write, 0, maxBatch)
	for {
		select {
		case <-s.quit:
			return
		case w := <-writes:
			batch = append(batch[:0], w)
		}
	more:
		for len(batch) < maxBatch {
			select {
			case w := <-writes:
				batch = append(batch, w)
			default:
				break more
			}
		}
		s.commitBatch(batch)
		clear(batch)
	}
}

// submit hands fn to key's committer and waits for its commit (or failure).
func (s *Store) submit(ctx context.Context, key string, fn func(*tx) error) error {
	w := &write{ctx: ctx, fn: fn, done: make(chan error, 1)}
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	select {
	case s.writes[h.Sum32()%uint32(len(s.writes))] <- w:
	case <-ctx.Done():
		return fmt.Errorf("begin: %w", ctx.Err())
	case <-s.quit:
		return errors.New("begin: store closed")
	}
	// A caller whose context ends while its write still waits gives up its
	// place: the committer skips it. Once the committer has taken it, the
	// write is committed or not regardless of ctx: wait for the answer, so
	// that the caller never reports a failure for a write that was
	// committed. That wait is bounded by ctx's deadline too, which bounds
	// the transaction (batchContext).
	select {
	case err := <-w.done:
		return err
	case <-ctx.Done():
		if w.state.CompareAndSwap(writeWaiting, writeAbandoned) {
			return fmt.Errorf("begin: %w", ctx.Err())
		}
		return <-w.done
	}
}

// batchContext is the context of a batch transaction: not cancelled when a
// caller hangs up, but ending at the earliest deadline among the writes
// (at most batchTimeout away), so that a blocked database — a lock held by
// another process, SQLite's busy wait — never keeps a caller past its own
// deadline.
func batchContext(batch []*write) (context.Context, context.CancelFunc) {
	deadline := time.Now().Add(batchTimeout)
	for _, w := range batch {
		if d, ok := w.ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
	}
	return context.WithDeadline(context.Background(), deadline)
}

// runAlone runs w in a transaction of its own, if its caller still waits.
func (s *Store) runAlone(w *write) {
	if !w.take() {
		return
	}
	ctx, cancel := batchContext([]*write{w})
	defer cancel()
	w.done <- s.runTx(ctx, false, w.fn)
}

// commitBatch runs the batch and answers every write in it.
func (s *Store) commitBatch(batch []*write) {
	live := batch[:0:0]
	for _, w := range batch {
		if err := w.ctx.Err(); err != nil {
			if w.take() {
				w.done <- fmt.Errorf("begin: %w", err)
			}
			continue
		}
		live = append(live, w)
	}
	switch len(live) {
	case 0:
		return
	case 1:
		s.runAlone(live[0])
		return
	}
	s.stats.batches.Add(1)
	s.stats.batched.Add(int64(len(live)))
	results, err := s.runBatch(live)
	if err != nil {
		// The batch as a whole failed: nothing in it was committed. Each
		// write is tried again alone.
		s.stats.retried.Add(1)
		for _, w := range live {
			w.release()
		}
		for _, w := range live {
			s.runAlone(w)
		}
		return
	}
	for i, w := range live {
		if results[i] != errAbandoned {
			w.done <- results[i]
		}
	}
}

// runBatch runs every write of batch in one transaction, each in a
// savepoint, and commits. results[i] is write i's own error (nil: it is
// part of the commit). A non-nil error means the transaction as a whole
// failed and nothing was committed.
func (s *Store) runBatch(batch []*write) (results []error, err error) {
	results = make([]error, len(batch))
	ctx, cancel := batchContext(batch)
	defer cancel()
	stx, err := s.db.BeginTx(ctx, &sql.TxOptions{})
	if err != nil {
		return results, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = stx.Rollback()
		}
	}()
	// The audit rows of every write that succeeds are appended together at
	// the end, so the audit head is locked only for the last statements.
	all := &tx{s: s, tx: stx, ctx: ctx}
	// On PostgreSQL each statement is a round trip, and a write's own
	// statements are often only two or three; so the savepoint statements
	// that end one write go with the SAVEPOINT of the next, in one round
	// trip (statements without arguments use the simple protocol, which
	// takes several at once). SQLite, in process, runs them one by one.
	var carry string // savepoint statements not sent yet (PostgreSQL)
	savepoint := func(stmts string) error {
		if s.dialect != dialectPostgres {
			for _, st := range strings.Split(stmts, "; ") {
				if _, err := all.exec(st); err != nil {
					return fmt.Errorf("savepoint: %w", err)
				}
			}
			return nil
		}
		if carry != "" {
			stmts, carry = carry+"; "+stmts, ""
		}
		if _, err := all.exec(stmts); err != nil {
			return fmt.Errorf("savepoint: %w", err)
		}
		return nil
	}
	for i, w := range batch {
		// A caller that gave up while BEGIN waited is skipped.
		if !w.take() {
			results[i] = errAbandoned
			continue
		}
		if err := savepoint("SAVEPOINT w"); err != nil {
			return results, err
		}
		t := &tx{s: s, tx: stx, ctx: ctx, now: s.clock()}
		werr := w.fn(t)
		if werr != nil && batchTrouble(werr) {
			return results, werr
		}
		end := "RELEASE SAVEPOINT w"
		if werr != nil {
			end = "ROLLBACK TO SAVEPOINT w; RELEASE SAVEPOINT w"
		}
		if s.dialect == dialectPostgres {
			carry = end
		} else if err := savepoint(end); err != nil {
			return results, err
		}
		results[i] = werr
		if werr == nil {
			all.audits = append(all.audits, t.audits...)
			all.held = append(all.held, t.held...)
			all.spared = append(all.spared, t.spared...)
		}
	}
	// A failed last write must be rolled back before the audit append; a
	// RELEASE alone is left to the commit.
	if strings.HasPrefix(carry, "ROLLBACK") {
		c := carry
		carry = ""
		if _, err := all.exec(c); err != nil {
			return results, fmt.Errorf("savepoint: %w", err)
		}
	}
	if err := all.flushGuard(); err != nil {
		return results, err
	}
	if err := all.flushAudit(); err != nil {
		return results, err
	}
	if err := stx.Commit(); err != nil {
		return results, fmt.Errorf("commit: %w", err)
	}
	return results, nil
}

// errAbandoned marks, in runBatch's results, a write whose caller gave up
// before it was run: nobody waits for its answer.
var errAbandoned = errors.New("abandoned by its caller")

// batchTrouble reports whether a write's error is the transaction's, not
// the write's own: the connection is gone, the batch's deadline passed, or
// PostgreSQL aborted the transaction (deadlock, serialization failure).
func batchTrouble(err error) bool {
	if errors.Is(err, sql.ErrConnDone) || errors.Is(err, sql.ErrTxDone) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return len(pe.Code) == 5 && pe.Code[:2] == "40" // transaction rollback class
	}
	return false
}

// commitStats count group commits since Open.
type commitStats struct {
	batches atomic.Int64 // transactions that held more than one write
	batched atomic.Int64 // writes in them
	retried atomic.Int64 // batches that failed and were retried write by write
}

// CommitStats reports the group commits since Open: transactions that held
// more than one write, the writes in them, and batches that failed as a
// whole (their writes were retried one by one).
func (s *Store) CommitStats() (batches, writes, retried int64) {
	return s.stats.batches.Load(), s.stats.batched.Load(), s.stats.retried.Load()
}
