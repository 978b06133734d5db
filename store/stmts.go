package store

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"
)

// Prepared statements (SQLite).
//
// database/sql with modernc.org/sqlite parses every statement anew on every
// call, and parsing was a sixth of offboarder's CPU under load. The store
// therefore keeps a *sql.Stmt per statement text and runs statements through
// it: database/sql prepares such a statement once per connection, on the
// connection of the transaction that uses it (Tx.StmtContext), and reuses it
// afterwards.
//
// Creating a *sql.Stmt (DB.PrepareContext) needs a free connection of its
// own. A statement is first seen inside a transaction, which holds one, and
// an in-memory database has only that one; so a statement not yet prepared
// runs unprepared, and a goroutine prepares it in the background for the
// next calls. PostgreSQL needs none of this: pgx keeps a statement cache per
// connection itself.

// maxStmts bounds the statements kept; texts beyond it run unprepared.
// The store's statements number a few dozen, plus the variants of the
// listing queries.
const maxStmts = 256

// stmtCache holds the prepared statements of one Store.
type stmtCache struct {
	db   *sql.DB
	m    sync.Map // statement text → *sql.Stmt, or pendingStmt while being prepared
	n    atomic.Int32
	want chan string
	quit chan struct{}
	done chan struct{}
	once sync.Once
}

// pendingStmt marks a text handed to the preparing goroutine.
type pendingStmt struct{}

func newStmtCache(db *sql.DB) *stmtCache {
	c := &stmtCache{db: db, want: make(chan string, 64), quit: make(chan struct{}), done: make(chan struct{})}
	go c.prepareLoop()
	return c
}

// get returns the prepared statement for q, or nil: then the caller runs q
// unprepared, and q is prepared for later calls.
func (c *stmtCache) get(q string) *sql.Stmt {
	if c == nil {
		return nil
	}
	v, ok := c.m.Load(q)
	if ok {
		st, _ := v.(*sql.Stmt)
		return st
	}
	if c.n.Load() >= maxStmts {
		return nil
	}
	if _, loaded := c.m.LoadOrStore(q, pendingStmt{}); loaded {
		return nil
	}
	select {
	case c.want <- q:
	default:
		c.m.Delete(q) // the queue is full: asked for again on a later call
	}
	return nil
}

func (c *stmtCache) prepareLoop() {
	defer close(c.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-c.quit:
			cancel()
		case <-c.done:
		}
	}()
	for {
		select {
		case <-c.quit:
			return
		case q := <-c.want:
			pctx, stop := context.WithTimeout(ctx, 10*time.Second)
			st, err := c.db.PrepareContext(pctx, q)
			stop()
			if err != nil {
				c.m.Delete(q) // tried again when next seen
				continue
			}
			c.m.Store(q, st)
			c.n.Add(1)
		}
	}
}

// close stops the preparing goroutine and closes every statement; the
// database is closed after it.
func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.once.Do(func() { close(c.quit) })
	<-c.done
	c.m.Range(func(k, v any) bool {
		if st, ok := v.(*sql.Stmt); ok {
			_ = st.Close()
		}
		c.m.Delete(k)
		return true
	})
}
