package redisurl

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
)

func TestParseReadsEachForm(t *testing.T) {
	timeouts := func(o asynq.RedisClientOpt) asynq.RedisClientOpt {
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout = time.Second, 2*time.Second, 2*time.Second
		return o
	}
	failover := func(o asynq.RedisFailoverClientOpt) asynq.RedisFailoverClientOpt {
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout = time.Second, 2*time.Second, 2*time.Second
		return o
	}
	tests := []struct {
		name string
		url  string
		want asynq.RedisConnOpt
	}{
		{"a plain server", "redis://redis:6379", timeouts(asynq.RedisClientOpt{Addr: "redis:6379"})},
		{"a server without a port gets 6379", "redis://redis", timeouts(asynq.RedisClientOpt{Addr: "redis:6379"})},
		{"a password and a database", "redis://:pa%2Fss@10.0.0.1:6380/3", timeouts(asynq.RedisClientOpt{Addr: "10.0.0.1:6380", Password: "pa/ss", DB: 3})},
		{"a user, an unescaped @ in the password, a trailing slash", "redis://app:p@ss:w@redis:6379/2/", timeouts(asynq.RedisClientOpt{Addr: "redis:6379", Username: "app", Password: "p@ss:w", DB: 2})},
		{"an IPv6 address", "redis://[::1]:7000", timeouts(asynq.RedisClientOpt{Addr: "[::1]:7000"})},
		{"an upper-case scheme", "REDIS://redis:6379/0", timeouts(asynq.RedisClientOpt{Addr: "redis:6379"})},
		{"a Unix socket", "redis-socket://:pw@/run/redis/redis.sock?db=4", timeouts(asynq.RedisClientOpt{Network: "unix", Addr: "/run/redis/redis.sock", Password: "pw", DB: 4})},
		{"one sentinel", "redis+sentinel://s1:26379/mymaster", failover(asynq.RedisFailoverClientOpt{MasterName: "mymaster", SentinelAddrs: []string{"s1:26379"}})},
		{"three sentinels, a password, a database", "redis+sentinel://:secret@s1:26379,s2:26380,[::1]/offboarder/5",
			failover(asynq.RedisFailoverClientOpt{MasterName: "offboarder", SentinelAddrs: []string{"s1:26379", "s2:26380", "[::1]:26379"}, Password: "secret", DB: 5})},
		{"the sentinels' own password", "redis+sentinel://u:master-pw@s1,s2/m?sentinel_password=sent%26pw&sentinel_username=sen",
			failover(asynq.RedisFailoverClientOpt{MasterName: "m", SentinelAddrs: []string{"s1:26379", "s2:26379"}, Username: "u", Password: "master-pw", SentinelUsername: "sen", SentinelPassword: "sent&pw"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if o, ok := got.(asynq.RedisClientOpt); ok && o.TLSConfig != nil {
				t.Fatalf("TLS for %s", tt.url)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
	t.Run("rediss is TLS to the host named", func(t *testing.T) {
		got, err := Parse("rediss://:pw@cache.example.com:6380/1")
		if err != nil {
			t.Fatal(err)
		}
		o := got.(asynq.RedisClientOpt)
		if o.TLSConfig == nil || o.TLSConfig.ServerName != "cache.example.com" || o.Addr != "cache.example.com:6380" || o.DB != 1 || o.Password != "pw" {
			t.Fatalf("%+v", o)
		}
	})
}

func TestParseNamesTheProblemAndNeverThePassword(t *testing.T) {
	const pw = "hunter2-SECRET"
	tests := []struct {
		name, url, want string
	}{
		{"no scheme", "redis:6379", "no scheme"},
		{"no scheme, the password first", pw + "@redis://x", "unknown scheme: want"},
		{"an unknown scheme", "http://:" + pw + "@redis:6379", `unknown scheme "http"`},
		{"asynq's own sentinel form", "redis-sentinel://:" + pw + "@s1:26379?master=m", `redis+sentinel://`},
		{"no host", "redis://:" + pw + "@/0", "no host"},
		{"no host, only a port", "redis://:" + pw + "@:6379", "no host"},
		{"a port that is not a number", "redis://:" + pw + "@redis:63x9", `bad port "63x9"`},
		{"a port too high", "redis://:" + pw + "@redis:65536", `bad port "65536"`},
		{"port zero", "redis://redis:0", `bad port "0"`},
		{"an empty port", "redis://redis:", `bad port ""`},
		{"a signed port", "redis://redis:+80", `bad port "+80"`},
		{"a bad db", "redis://:" + pw + "@redis:6379/x", `bad db "x"`},
		{"a negative db", "redis://redis/-1", `bad db "-1"`},
		{"extra path segments", "redis://:" + pw + "@redis:6379/0/1", "extra path segments"},
		{"two hosts without sentinel", "redis://:" + pw + "@a:1,b:2", "more than one host"},
		{"a query option redis does not take", "redis://:" + pw + "@redis?timeout=3", `unknown option "timeout"`},
		{"no sentinel", "redis+sentinel://:" + pw + "@/mymaster", "no sentinel host"},
		{"an empty sentinel in the list", "redis+sentinel://:" + pw + "@s1:26379,,s3:26379/m", "sentinel 2: no host"},
		{"a sentinel's bad port", "redis+sentinel://:" + pw + "@s1:26379,s2:x/m", `sentinel 2: bad port "x"`},
		{"no master name", "redis+sentinel://:" + pw + "@s1:26379", "no master name"},
		{"no master name, a slash", "redis+sentinel://:" + pw + "@s1:26379/", "no master name"},
		{"a sentinel bad db", "redis+sentinel://:" + pw + "@s1:26379/m/zero", `bad db "zero"`},
		{"sentinel extra path segments", "redis+sentinel://:" + pw + "@s1:26379/m/0/1", "extra path segments"},
		{"an empty segment", "redis+sentinel://:" + pw + "@s1:26379//0", "empty path segment"},
		{"an unknown sentinel option", "redis+sentinel://:" + pw + "@s1/m?master_password=" + pw, `unknown option "master_password": this scheme takes sentinel_password, sentinel_username`},
		{"the sentinel password twice", "redis+sentinel://s1/m?sentinel_password=" + pw + "&sentinel_password=" + pw, `option "sentinel_password" given 2 times`},
		{"a bad escape in the password", "redis://:" + pw + "%zz@redis", "the password has a bad %-escape"},
		{"an IPv6 address without its ]", "redis://:" + pw + "@[::1:6379", "must end with ]"},
		{"an IPv6 address without brackets", "redis://:" + pw + "@::1:6379", "between [ and ]"},
		{"a space in the host", "redis://:" + pw + "@red is:6379", "bad host"},
		{"a socket with a host", "redis-socket://:" + pw + "@host/run/redis.sock", "takes a path, not a host"},
		{"a socket without a path", "redis-socket://:" + pw + "@", "no socket path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt, err := Parse(tt.url)
			if err == nil {
				t.Fatalf("accepted: %#v", opt)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not say %q", err, tt.want)
			}
			if strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("the password is in the error: %q", err)
			}
		})
	}
}

func TestDescribeNamesTheTopologyWithoutSecrets(t *testing.T) {
	tests := []struct{ url, want string }{
		{"redis://redis:6379", "redis redis:6379 db 0"},
		{"rediss://:pw-SECRET@cache:6380/2", "redis over TLS cache:6380 db 2, with a password"},
		{"redis+sentinel://app:pw-SECRET@s1:26379,s2:26380/mymaster/1?sentinel_password=sen-SECRET",
			`sentinel master "mymaster" via 2 sentinel(s) s1:26379,s2:26380 db 1, with user "app" and a password, sentinels with a password`},
	}
	for _, tt := range tests {
		opt, err := Parse(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := Describe(opt); got != tt.want {
			t.Errorf("Describe(%s) = %q, want %q", tt.url, got, tt.want)
		}
	}
}

// FuzzParse: Parse never panics; a URL it takes has addresses with ports
// and a master name; no error and no description carries the password.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"redis://redis:6379", "rediss://:pw@h:1/2", "redis://u:p@ss@[::1]/0", "redis-socket:///tmp/r.sock?db=1",
		"redis+sentinel://:pw@s1:26379,s2:26380/mymaster/3?sentinel_password=x",
		"redis+sentinel://s1/m", "redis+sentinel://:pw@/m", "redis://:pw@h:99999", "redis-sentinel://s1?master=m",
	} {
		f.Add(s, "PASSWORD-marker")
	}
	f.Fuzz(func(t *testing.T, raw, password string) {
		if opt, err := Parse(raw); err == nil {
			check(t, opt)
		}
		// The same URL with a distinctive password put in its user info.
		scheme, rest, ok := strings.Cut(raw, "://")
		if !ok || len(password) < 6 || strings.ContainsAny(password, "/?%") || strings.Contains(strconv.Quote(raw), password) {
			return
		}
		if i := strings.IndexAny(rest, "/?"); i >= 0 && strings.Contains(rest[:i], "@") {
			return // the URL has user info of its own
		}
		withPW := fmt.Sprintf("%s://:%s@%s", scheme, password, rest)
		opt, err := Parse(withPW)
		if err != nil {
			if strings.Contains(err.Error(), password) {
				t.Fatalf("the password is in the error %q", err)
			}
			return
		}
		check(t, opt)
		if strings.Contains(Describe(opt), password) {
			t.Fatalf("the password is in the description %q", Describe(opt))
		}
	})
}

func check(t *testing.T, opt asynq.RedisConnOpt) {
	t.Helper()
	switch o := opt.(type) {
	case asynq.RedisClientOpt:
		if o.Addr == "" || o.DB < 0 || o.DialTimeout != DialTimeout {
			t.Fatalf("%#v", o)
		}
	case asynq.RedisFailoverClientOpt:
		if o.MasterName == "" || len(o.SentinelAddrs) == 0 || o.DB < 0 || o.ReadTimeout != ReadTimeout {
			t.Fatalf("%#v", o)
		}
		for _, a := range o.SentinelAddrs {
			if !strings.Contains(a, ":") {
				t.Fatalf("sentinel without a port: %q", a)
			}
		}
	default:
		t.Fatalf("%T", opt)
	}
}
