package main

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// syncBuffer is a bytes.Buffer the flushing goroutine may write to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestBufferedLog(t *testing.T) {
	t.Run("info lines wait; a warning writes them out with itself, in order", func(t *testing.T) {
		var out syncBuffer
		b := newBufferedLog(&out, time.Hour)
		t.Cleanup(func() { _ = b.Close() })
		log := zerolog.New(b)
		log.Info().Msg("first")
		log.Debug().Msg("second")
		if got := out.String(); got != "" {
			t.Fatalf("info lines written one by one: %q", got)
		}
		log.Warn().Msg("third")
		got := out.String()
		if i, j, k := strings.Index(got, "first"), strings.Index(got, "second"), strings.Index(got, "third"); i < 0 || j < i || k < j {
			t.Fatalf("after a warning: %q", got)
		}
	})
	t.Run("close writes out every line", func(t *testing.T) {
		var out syncBuffer
		b := newBufferedLog(&out, time.Hour)
		log := zerolog.New(b)
		for range 100 {
			log.Info().Str("case_id", "c").Msg("event accepted")
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(out.String(), "event accepted"); n != 100 {
			t.Fatalf("%d of 100 lines written", n)
		}
		_ = b.Close() // a second close is harmless
	})
	t.Run("lines are written out without a warning or a close", func(t *testing.T) {
		var out syncBuffer
		b := newBufferedLog(&out, time.Millisecond)
		t.Cleanup(func() { _ = b.Close() })
		log := zerolog.New(b)
		log.Info().Msg("later")
		for !strings.Contains(out.String(), "later") {
			time.Sleep(time.Millisecond) // the test's own timeout bounds the wait
		}
	})
	t.Run("a log file: close writes out what is gathered", func(t *testing.T) {
		f, err := os.CreateTemp(t.TempDir(), "log")
		if err != nil {
			t.Fatal(err)
		}
		log, closeLog, err := newLogger(f, "info")
		if err != nil {
			t.Fatal(err)
		}
		log.Info().Msg("buffered")
		closeLog()
		if b, _ := os.ReadFile(f.Name()); !strings.Contains(string(b), `"message":"buffered"`) {
			t.Fatalf("after close: %q", b)
		}
	})
}
