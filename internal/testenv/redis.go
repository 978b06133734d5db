// Package testenv starts the real services that tests talk to: a private
// redis-server on a free loopback port (never the machine's shared Redis),
// a master, replica and sentinels that fail over (StartSentinels), a fresh
// PostgreSQL database, a TCP proxy that can cut a service off.
package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is one private redis-server process.
type Redis struct {
	Addr string
	cmd  *exec.Cmd
	dir  string
	port int
	t    testing.TB
	// args are more arguments for redis-server (a replica's --replicaof).
	args []string
}

// StartRedis starts redis-server on a free port with no persistence and
// stops it when the test ends. It fails the test if redis-server is not
// installed (make test installs it).
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server is not installed: run `make test`, which installs it, or apt-get install redis-server")
	}
	r := &Redis{dir: t.TempDir(), t: t}
	r.port = freePort(t)
	r.start()
	t.Cleanup(r.Stop)
	return r
}

func (r *Redis) start() {
	r.t.Helper()
	r.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port))
	r.cmd = exec.Command("redis-server", append([]string{
		"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir,
		"--logfile", filepath.Join(r.dir, "redis.log")}, r.args...)...)
	r.cmd.Stdout, r.cmd.Stderr = os.Stderr, os.Stderr
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: r.Addr})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("redis-server on %s did not answer: %v", r.Addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server (its data is gone: it keeps nothing on disk).
func (r *Redis) Stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}

// Restart starts an empty server again on the same port, as after a crash
// of a Redis without persistence.
func (r *Redis) Restart() {
	r.t.Helper()
	r.Stop()
	r.start()
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// String names the server for test output.
func (r *Redis) String() string { return fmt.Sprintf("redis-server@%s", r.Addr) }
