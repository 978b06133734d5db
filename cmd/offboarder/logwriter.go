package main

import (
	"bufio"
	"io"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// logFlushEvery is how long a log line at info or below may wait in the
// process's log buffer before it is written out.
const logFlushEvery = 100 * time.Millisecond

// logBufferSize is how many bytes of log lines gather before they are
// written out at once, whatever their age.
const logBufferSize = 64 << 10

// bufferedLog gathers the process's log lines and writes them to the
// underlying file together: lines at info and below at most every
// flushEvery (or whenever logBufferSize bytes have gathered), a line at
// warn or above at once, with every line before it, and all of them at
// Close. A busy server logs a line per delivery; written one by one each
// is a write system call in the request's path. A crash loses at most
// the last flushEvery of info lines, never a warning or an error and never
// anything of the record: the database is the record.
type bufferedLog struct {
	mu   sync.Mutex
	w    *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

var _ zerolog.LevelWriter = (*bufferedLog)(nil)

// newBufferedLog starts a bufferedLog on w that writes out its lines every
// flushEvery; Close stops it.
func newBufferedLog(w io.Writer, flushEvery time.Duration) *bufferedLog {
	b := &bufferedLog{w: bufio.NewWriterSize(w, logBufferSize), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		t := time.NewTicker(flushEvery)
		defer t.Stop()
		for {
			select {
			case <-b.stop:
				return
			case <-t.C:
				b.mu.Lock()
				_ = b.w.Flush()
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// Write takes a line of no level, as an info line.
func (b *bufferedLog) Write(p []byte) (int, error) { return b.WriteLevel(zerolog.InfoLevel, p) }

// WriteLevel takes one line; at warn or above it writes out every line
// gathered so far and this one.
func (b *bufferedLog) WriteLevel(l zerolog.Level, p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.w.Write(p)
	if err == nil && l >= zerolog.WarnLevel && l != zerolog.NoLevel {
		err = b.w.Flush()
	}
	return n, err
}

// Close stops the periodic writing and writes out every line gathered.
func (b *bufferedLog) Close() error {
	select {
	case <-b.stop:
	default:
		close(b.stop)
	}
	<-b.done
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.Flush()
}
