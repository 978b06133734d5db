package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// MasterName is the name the sentinels of StartSentinels monitor.
const MasterName = "offboarder"

// Sentinels is a Redis that fails over: a master, a replica and the
// sentinels that watch them, each a private process on a free loopback
// port (never the machine's shared Redis). They keep nothing on disk.
type Sentinels struct {
	// Nodes are the master and the replica as started; which one is the
	// master now is Master's answer.
	Nodes []*Redis
	// Addrs are the sentinels' addresses.
	Addrs []string
	cmds  []*exec.Cmd
	t     testing.TB
}

// StartSentinels starts a master, a replica of it and n (1 to 3)
// sentinels with a quorum of a majority, which call the master down after
// one second without an answer and fail over at once. They are stopped
// when the test ends. It returns once the replica is in sync and every
// sentinel knows the replica and the other sentinels, so that a failover
// can start. The sentinels are redis-sentinel processes, or
// `redis-server --sentinel` where that binary is missing (make test
// installs it).
func StartSentinels(t testing.TB, n int) *Sentinels {
	t.Helper()
	if n < 1 || n > 3 {
		t.Fatalf("StartSentinels: %d sentinels: want 1 to 3", n)
	}
	master := StartRedis(t)
	replica := &Redis{dir: t.TempDir(), t: t, port: freePort(t), args: []string{"--replicaof", "127.0.0.1", strconv.Itoa(master.port)}}
	replica.start()
	t.Cleanup(replica.Stop)
	s := &Sentinels{Nodes: []*Redis{master, replica}, t: t}
	t.Cleanup(s.stop)

	bin, args := "redis-sentinel", []string(nil)
	if _, err := exec.LookPath(bin); err != nil {
		bin, args = "redis-server", []string{"--sentinel"}
	}
	quorum := n/2 + 1
	for range n {
		dir := t.TempDir()
		port := freePort(t)
		// https://redis.io/docs/latest/operate/oss_and_stack/management/sentinel/#configuring-sentinel
		conf := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\n"+
			"sentinel monitor %s 127.0.0.1 %d %d\n"+
			"sentinel down-after-milliseconds %[4]s 1000\n"+
			"sentinel failover-timeout %[4]s 10000\n"+
			"sentinel parallel-syncs %[4]s 1\n",
			port, dir, filepath.Join(dir, "sentinel.log"), MasterName, master.port, quorum)
		path := filepath.Join(dir, "sentinel.conf") // a sentinel rewrites its file
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, append([]string{path}, args...)...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", bin, err)
		}
		s.cmds = append(s.cmds, cmd)
		s.Addrs = append(s.Addrs, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	}
	s.waitReady(n)
	return s
}

// URL is the REDIS_URL that reaches the master through the sentinels.
func (s *Sentinels) URL() string {
	return "redis+sentinel://" + strings.Join(s.Addrs, ",") + "/" + MasterName
}

// waitReady waits until the replica is in sync and each sentinel knows
// the replica and the n-1 other sentinels (they find each other through
// the master every 2 s).
func (s *Sentinels) waitReady(n int) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := s.ready(n)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("sentinels not ready after 30 s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *Sentinels) ready(n int) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	rc := redis.NewClient(&redis.Options{Addr: s.Nodes[1].Addr})
	defer rc.Close()
	info, err := rc.Info(ctx, "replication").Result()
	if err != nil {
		return err
	}
	if !strings.Contains(info, "master_link_status:up") {
		return fmt.Errorf("replica not in sync")
	}
	for _, a := range s.Addrs {
		sc := redis.NewSentinelClient(&redis.Options{Addr: a})
		replicas, err := sc.Replicas(ctx, MasterName).Result()
		if err == nil && len(replicas) != 1 {
			err = fmt.Errorf("sentinel %s knows %d replicas", a, len(replicas))
		}
		if err == nil {
			var others []map[string]string
			if others, err = sc.Sentinels(ctx, MasterName).Result(); err == nil && len(others) != n-1 {
				err = fmt.Errorf("sentinel %s knows %d other sentinels, want %d", a, len(others), n-1)
			}
		}
		sc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// Master is the address the first sentinel that answers gives for the
// master now.
func (s *Sentinels) Master(ctx context.Context) (string, error) {
	var last error
	for _, a := range s.Addrs {
		sc := redis.NewSentinelClient(&redis.Options{Addr: a})
		addr, err := sc.GetMasterAddrByName(ctx, MasterName).Result()
		sc.Close()
		if err == nil {
			return net.JoinHostPort(addr[0], addr[1]), nil
		}
		last = err
	}
	return "", last
}

// Node is the started node at addr, nil if none.
func (s *Sentinels) Node(addr string) *Redis {
	for _, r := range s.Nodes {
		if r.Addr == addr {
			return r
		}
	}
	return nil
}

// KillMaster kills (SIGKILL) the node that is the master now, and
// returns it: what the replica had not yet copied is lost with it.
func (s *Sentinels) KillMaster(ctx context.Context) *Redis {
	s.t.Helper()
	addr, err := s.Master(ctx)
	if err != nil {
		s.t.Fatalf("which master: %v", err)
	}
	r := s.Node(addr)
	if r == nil {
		s.t.Fatalf("the sentinels name %s, which is no node of theirs", addr)
	}
	r.Stop()
	return r
}

// Failover asks a sentinel to fail over now, without the master's
// agreement (SENTINEL FAILOVER).
func (s *Sentinels) Failover(ctx context.Context) error {
	sc := redis.NewSentinelClient(&redis.Options{Addr: s.Addrs[0]})
	defer sc.Close()
	return sc.Failover(ctx, MasterName).Err()
}

// WaitNewMaster waits until the sentinels name a master other than old
// and that node answers as a master; it returns its address.
func (s *Sentinels) WaitNewMaster(ctx context.Context, old string) (string, error) {
	for {
		addr, err := s.Master(ctx)
		if err == nil && addr != old {
			rc := redis.NewClient(&redis.Options{Addr: addr})
			role, rerr := rc.Do(ctx, "ROLE").Slice()
			rc.Close()
			if rerr == nil && len(role) > 0 && role[0] == "master" {
				return addr, nil
			}
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("no new master: %w (last: %v)", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *Sentinels) stop() {
	for _, c := range s.cmds {
		if c.Process != nil {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	}
	s.cmds = nil
}

// Rejoin starts r again (empty, as after a crash without persistence) as a
// replica of the master now, and waits until it is in sync and every
// sentinel counts it as a healthy replica, so that it can be failed over
// to.
func (s *Sentinels) Rejoin(ctx context.Context, r *Redis) error {
	master, err := s.Master(ctx)
	if err != nil {
		return err
	}
	host, port, _ := net.SplitHostPort(master)
	r.args = []string{"--replicaof", host, port}
	r.start()
	rc := redis.NewClient(&redis.Options{Addr: r.Addr})
	defer rc.Close()
	for {
		err = s.healthyReplica(ctx, rc, r.Addr)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s never rejoined: %w", r.Addr, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (s *Sentinels) healthyReplica(ctx context.Context, rc *redis.Client, addr string) error {
	info, err := rc.Info(ctx, "replication").Result()
	if err != nil {
		return err
	}
	if !strings.Contains(info, "master_link_status:up") {
		return fmt.Errorf("%s not in sync", addr)
	}
	for _, a := range s.Addrs {
		sc := redis.NewSentinelClient(&redis.Options{Addr: a})
		replicas, err := sc.Replicas(ctx, MasterName).Result()
		sc.Close()
		if err != nil {
			return err
		}
		ok := false
		for _, rep := range replicas {
			if net.JoinHostPort(rep["ip"], rep["port"]) == addr && rep["flags"] == "slave" && rep["master-link-status"] == "ok" {
				ok = true
			}
		}
		if !ok {
			return fmt.Errorf("sentinel %s does not count %s as a healthy replica yet", a, addr)
		}
	}
	return nil
}
