// Package redisurl reads REDIS_URL into the one asynq.RedisConnOpt that
// every part of offboarder connects with (the queue, the worker's kept
// answers, readiness, the dashboard):
//
//	redis://[[user]:password@]host[:port][/db]        one server (port 6379)
//	rediss://[[user]:password@]host[:port][/db]       the same over TLS
//	redis-socket://[[user]:password@]/path[?db=N]     one server on a Unix socket
//	redis+sentinel://[[user]:password@]host[:port][,host[:port]…]/master-name[/db][?sentinel_password=…&sentinel_username=…]
//
// The last is the form other Redis clients use for Sentinel (Python's
// Redis-Sentinel-Url, which defined it, and Prefect's redis+sentinel URLs:
// https://pypi.org/project/Redis-Sentinel-Url/,
// https://docs.prefect.io/integrations/prefect-redis/api-ref/prefect_redis-connection):
// a list of sentinels (port 26379 when left out), the name the sentinels
// monitor the master by, and the database. The user and password in it are
// the master's (and its replicas'), as in both of those clients: the
// sentinels tell the client where the master is, and the client logs in
// there. Sentinels that require a password of their own take it as the
// query option sentinel_password (and sentinel_username), as Prefect's
// form does. asynq's failover client is used
// (https://pkg.go.dev/github.com/hibiken/asynq#RedisFailoverClientOpt): it
// asks the sentinels for the master and follows it when they fail over.
//
// An error names the part of the URL that is wrong, never the URL: it may
// carry a password.
package redisurl

import (
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
)

// Timeouts every connection gets: a Redis that does not answer is noticed
// within a couple of seconds (the webhook's enqueue and /readyz are bounded
// by about that), not at go-redis's defaults (5 s to dial, 3 s to read).
const (
	DialTimeout  = time.Second
	ReadTimeout  = 2 * time.Second
	WriteTimeout = 2 * time.Second
)

// Default ports: Redis's and Sentinel's
// (https://redis.io/docs/latest/operate/oss_and_stack/management/sentinel/#running-sentinel).
const (
	DefaultPort         = "6379"
	DefaultSentinelPort = "26379"
)

// maxDB bounds the database number: Redis numbers its databases from 0 to
// the `databases` setting less one, an int.
const maxDB = 1<<31 - 1

// Parse reads a REDIS_URL. It returns an asynq.RedisClientOpt for redis://,
// rediss:// and redis-socket://, and an asynq.RedisFailoverClientOpt for
// redis+sentinel://, each with the timeouts above.
func Parse(raw string) (asynq.RedisConnOpt, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, errors.New(`no scheme: want redis://, rediss://, redis-socket:// or redis+sentinel://`)
	}
	scheme = strings.ToLower(scheme)
	switch scheme {
	case "redis", "rediss", "redis-socket", "redis+sentinel":
	case "redis-sentinel":
		return nil, errors.New(`scheme "redis-sentinel" is not read: write redis+sentinel://[:password@]host:port[,host:port…]/master-name[/db]`)
	default:
		if strings.ContainsFunc(scheme, func(r rune) bool { return !strings.ContainsRune("abcdefghijklmnopqrstuvwxyz0123456789+-.", r) }) {
			// Not a scheme at all: it may be a password written first.
			return nil, errors.New("unknown scheme: want redis://, rediss://, redis-socket:// or redis+sentinel://")
		}
		return nil, fmt.Errorf("unknown scheme %q: want redis://, rediss://, redis-socket:// or redis+sentinel://", clip(scheme))
	}
	u, err := split(rest)
	if err != nil {
		return nil, err
	}
	switch scheme {
	case "redis-socket":
		return socket(u)
	case "redis+sentinel":
		return sentinel(u)
	default:
		return server(u, scheme == "rediss")
	}
}

// parts is a URL after the scheme, cut up. The user and password are
// decoded; nothing else is.
type parts struct {
	user, password string
	hosts          string // the authority after the user info
	path           string // from its first "/", "" when none
	query          string // after "?"
}

// split cuts what follows "scheme://". The authority ends at the first
// "/" or "?", as in every URL (RFC 3986, section 3.2): a "/" or "?" in a
// password must be %-escaped (%2F, %3F). Within the authority the user
// info ends at the last "@", so an unescaped "@" or ":" in a password is
// still read whole.
func split(rest string) (parts, error) {
	var p parts
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		user, pass, _ := strings.Cut(authority[:at], ":")
		authority = authority[at+1:]
		var err error
		if p.user, err = url.PathUnescape(user); err != nil {
			return p, errors.New("the user name has a bad %-escape")
		}
		if p.password, err = url.PathUnescape(pass); err != nil {
			return p, errors.New("the password has a bad %-escape")
		}
	}
	p.hosts = authority
	p.path, p.query, _ = strings.Cut(tail, "?")
	return p, nil
}

// server reads redis:// and rediss://: one host, a database.
func server(p parts, useTLS bool) (asynq.RedisConnOpt, error) {
	if strings.Contains(p.hosts, ",") {
		return nil, errors.New("more than one host: list several only with redis+sentinel://, whose hosts are the sentinels")
	}
	addr, host, err := hostPort(p.hosts, DefaultPort)
	if err != nil {
		return nil, err
	}
	segs, err := segments(p.path)
	if err != nil {
		return nil, err
	}
	if len(segs) > 1 {
		return nil, fmt.Errorf("extra path segments after the database: want /db, got %d segments", len(segs))
	}
	db := 0
	if len(segs) == 1 {
		if db, err = database(segs[0]); err != nil {
			return nil, err
		}
	}
	if err := noOptions(p.query, nil); err != nil {
		return nil, err
	}
	opt := asynq.RedisClientOpt{
		Addr: addr, Username: p.user, Password: p.password, DB: db,
		DialTimeout: DialTimeout, ReadTimeout: ReadTimeout, WriteTimeout: WriteTimeout,
	}
	if useTLS {
		opt.TLSConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	return opt, nil
}

// socket reads redis-socket://: the socket's path, the database as ?db=.
func socket(p parts) (asynq.RedisConnOpt, error) {
	if p.hosts != "" {
		return nil, errors.New("redis-socket:// takes a path, not a host: redis-socket:///run/redis.sock")
	}
	if p.path == "" || p.path == "/" {
		return nil, errors.New("no socket path: redis-socket:///run/redis.sock")
	}
	path, err := url.PathUnescape(p.path)
	if err != nil {
		return nil, errors.New("the socket path has a bad %-escape")
	}
	db := 0
	if err := noOptions(p.query, map[string]func(string) error{
		"db": func(v string) (err error) { db, err = database(v); return err },
	}); err != nil {
		return nil, err
	}
	return asynq.RedisClientOpt{
		Network: "unix", Addr: path, Username: p.user, Password: p.password, DB: db,
		DialTimeout: DialTimeout, ReadTimeout: ReadTimeout, WriteTimeout: WriteTimeout,
	}, nil
}

// sentinel reads redis+sentinel://: the sentinels, the master's name, a
// database, and the sentinels' own credentials as options.
func sentinel(p parts) (asynq.RedisConnOpt, error) {
	if p.hosts == "" {
		return nil, errors.New("no sentinel host: redis+sentinel://host:port[,host:port…]/master-name")
	}
	var addrs []string
	for i, h := range strings.Split(p.hosts, ",") {
		addr, _, err := hostPort(h, DefaultSentinelPort)
		if err != nil {
			return nil, fmt.Errorf("sentinel %d: %w", i+1, err)
		}
		addrs = append(addrs, addr)
	}
	segs, err := segments(p.path)
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		return nil, errors.New("no master name: redis+sentinel://host:port[,host:port…]/master-name[/db]")
	}
	if len(segs) > 2 {
		return nil, fmt.Errorf("extra path segments after the database: want /master-name[/db], got %d segments", len(segs))
	}
	master, err := url.PathUnescape(segs[0])
	if err != nil || master == "" || strings.ContainsFunc(master, isSpaceOrControl) {
		return nil, errors.New("bad master name: it must be the name the sentinels monitor, without spaces or control characters")
	}
	db := 0
	if len(segs) == 2 {
		if db, err = database(segs[1]); err != nil {
			return nil, err
		}
	}
	opt := asynq.RedisFailoverClientOpt{
		MasterName: master, SentinelAddrs: addrs,
		Username: p.user, Password: p.password, DB: db,
		DialTimeout: DialTimeout, ReadTimeout: ReadTimeout, WriteTimeout: WriteTimeout,
	}
	if err := noOptions(p.query, map[string]func(string) error{
		"sentinel_password": func(v string) error { opt.SentinelPassword = v; return nil },
		"sentinel_username": func(v string) error { opt.SentinelUsername = v; return nil },
	}); err != nil {
		return nil, err
	}
	return opt, nil
}

// hostPort checks one host[:port] and gives it its default port. It
// returns the address and the host alone.
func hostPort(s, defaultPort string) (addr, host string, err error) {
	if s == "" {
		return "", "", errors.New("no host")
	}
	host, port := s, defaultPort
	switch {
	case strings.HasPrefix(s, "["): // [IPv6] or [IPv6]:port
		end := strings.Index(s, "]")
		if end < 0 {
			return "", "", errors.New("bad host: an IPv6 address must end with ]")
		}
		host = s[1:end]
		switch after := s[end+1:]; {
		case after == "":
		case strings.HasPrefix(after, ":"):
			port = after[1:]
		default:
			return "", "", errors.New("bad host: only :port may follow an IPv6 address's ]")
		}
		if net.ParseIP(host) == nil {
			return "", "", errors.New("bad host: not an IPv6 address between [ and ]")
		}
	case strings.Contains(s, ":"):
		host, port, _ = strings.Cut(s, ":")
		if strings.Contains(port, ":") {
			return "", "", errors.New("bad host: put an IPv6 address between [ and ]")
		}
	}
	if host == "" {
		return "", "", errors.New("no host")
	}
	if strings.ContainsFunc(host, func(r rune) bool { return isSpaceOrControl(r) || strings.ContainsRune(`%\`, r) }) {
		return "", "", errors.New("bad host: spaces, control characters, % and \\ are not allowed in a host name")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || port[0] == '+' || port[0] == '-' {
		return "", "", fmt.Errorf("bad port %q: want a number from 1 to 65535", clip(port))
	}
	return net.JoinHostPort(host, strconv.Itoa(n)), host, nil
}

// segments splits a path into its segments; "" and "/" have none. An
// empty segment in the middle ("//") is an error.
func segments(path string) ([]string, error) {
	path = strings.TrimPrefix(path, "/")
	path = strings.TrimSuffix(path, "/")
	if path == "" {
		return nil, nil
	}
	segs := strings.Split(path, "/")
	for _, s := range segs {
		if s == "" {
			return nil, errors.New("empty path segment (//)")
		}
	}
	return segs, nil
}

// database reads a database number.
func database(s string) (int, error) {
	n, err := strconv.ParseUint(s, 10, 31)
	if err != nil || n > maxDB {
		return 0, fmt.Errorf("bad db %q: want a database number, 0 or more", clip(s))
	}
	return int(n), nil
}

// noOptions reads the query: each key must be one of known, given once.
func noOptions(query string, known map[string]func(string) error) error {
	if query == "" {
		return nil
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return errors.New("bad query: it could not be read")
	}
	for k, vs := range q {
		set, ok := known[k]
		if !ok {
			names := slices.Sorted(maps.Keys(known))
			if len(names) == 0 {
				return fmt.Errorf("unknown option %q: this scheme takes none", clip(k))
			}
			return fmt.Errorf("unknown option %q: this scheme takes %s", clip(k), strings.Join(names, ", "))
		}
		if len(vs) != 1 {
			return fmt.Errorf("option %q given %d times", k, len(vs))
		}
		if err := set(vs[0]); err != nil {
			return err
		}
	}
	return nil
}

func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7f }

// clip keeps a piece of the URL quoted in an error short. Only pieces
// outside the user info are ever quoted, so no password reaches an error.
func clip(s string) string {
	const most = 40
	if len(s) > most {
		return s[:most] + "…"
	}
	return s
}

// Describe names the Redis an option connects to, for the startup log and
// `offboarder check`: the topology, never a password.
func Describe(opt asynq.RedisConnOpt) string {
	switch o := opt.(type) {
	case asynq.RedisClientOpt:
		kind := "redis"
		switch {
		case o.Network == "unix":
			kind = "redis on socket"
		case o.TLSConfig != nil:
			kind = "redis over TLS"
		}
		return fmt.Sprintf("%s %s db %d%s", kind, o.Addr, o.DB, auth(o.Username, o.Password))
	case asynq.RedisFailoverClientOpt:
		return fmt.Sprintf("sentinel master %q via %d sentinel(s) %s db %d%s%s", o.MasterName, len(o.SentinelAddrs),
			strings.Join(o.SentinelAddrs, ","), o.DB, auth(o.Username, o.Password),
			strings.Replace(auth(o.SentinelUsername, o.SentinelPassword), "with", "sentinels with", 1))
	case nil:
		return "none"
	default:
		return fmt.Sprintf("%T", opt)
	}
}

// auth says whether a password (and which user) is given, not which.
func auth(user, password string) string {
	switch {
	case password != "" && user != "":
		return fmt.Sprintf(", with user %q and a password", user)
	case password != "":
		return ", with a password"
	case user != "":
		return fmt.Sprintf(", with user %q", user)
	}
	return ""
}
