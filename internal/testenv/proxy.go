package testenv

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy is a TCP proxy on loopback that a test can take down and bring back,
// to cut a service off (a database restart, a network partition) without
// touching the service itself, or slow down (SetLatency), to stand for a
// network between a process and its database.
type Proxy struct {
	Addr     string
	upstream string
	ln       net.Listener
	latency  atomic.Int64 // one way, in nanoseconds (SetLatency)

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]bool
}

// StartProxy forwards a free loopback port to upstream until the test ends.
func StartProxy(t testing.TB, upstream string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{Addr: ln.Addr().String(), upstream: upstream, ln: ln, conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(func() {
		_ = ln.Close()
		p.Down()
	})
	return p
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.upstream)
		if err != nil {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		p.conns[c], p.conns[up] = true, true
		p.mu.Unlock()
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

func (p *Proxy) pipe(dst, src net.Conn) {
	if d := time.Duration(p.latency.Load()); d > 0 {
		delayedCopy(dst, src, d)
	} else {
		_, _ = io.Copy(dst, src)
	}
	_ = dst.Close()
	_ = src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// delayedCopy copies src to dst, each read passed on d after it arrived:
// a round trip through two of them takes 2d longer, however many bytes
// are in flight (the delay does not cap the throughput).
func delayedCopy(dst, src net.Conn, d time.Duration) {
	type chunk struct {
		b   []byte
		due time.Time
	}
	q := make(chan chunk, 256)
	done := make(chan struct{})
	go func() {
		defer close(done)
		failed := false
		for c := range q {
			if failed {
				continue // drain, so that the reader never blocks
			}
			time.Sleep(time.Until(c.due))
			if _, err := dst.Write(c.b); err != nil {
				failed = true
				_ = src.Close()
			}
		}
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			q <- chunk{b: append([]byte(nil), buf[:n]...), due: time.Now().Add(d)}
		}
		if err != nil {
			break
		}
	}
	close(q)
	<-done
}

// SetLatency delays every byte through the proxy by d in each direction
// (a round trip by 2d), on the connections opened after the call; 0 turns
// the delay off for them.
func (p *Proxy) SetLatency(d time.Duration) {
	p.latency.Store(int64(d))
}

// Down closes every connection and refuses new ones until Up.
func (p *Proxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

// Up accepts connections again.
func (p *Proxy) Up() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}
