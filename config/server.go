package config

import (
	"fmt"
	"time"

	"gopkg.in/yaml.v3"
)

// Server tunes the HTTP server that takes deliveries (yaml "server"). Parse
// fills every field left out of the file with its default.
type Server struct {
	// IngestTimeout bounds the commit of a delivery's events (yaml
	// "ingest_timeout"); default 2s, allowed 100ms..30s. A store that
	// cannot commit within it (a write lock held elsewhere, a database
	// that does not answer) makes the delivery 503, so the sender retries
	// before its own timeout (Okta and Graph give up after 3s); nothing of
	// it is recorded then.
	IngestTimeout time.Duration
}

// DefaultIngestTimeout is server.ingest_timeout's default.
const DefaultIngestTimeout = 2 * time.Second

func defaultServer() Server { return Server{IngestTimeout: DefaultIngestTimeout} }

func (p *parser) server(n *yaml.Node, s *Server) {
	if n = p.mapping("server", n); n == nil {
		return
	}
	p.each("server", n, func(key string, k, v *yaml.Node) {
		path := "server." + key
		switch key {
		case "ingest_timeout":
			p.duration(path, v, &s.IngestTimeout)
		default:
			p.fail(path, k, "unknown key (want ingest_timeout)")
		}
	})
}

func (s Server) problems() []error {
	if lo, hi := 100*time.Millisecond, 30*time.Second; s.IngestTimeout < lo || s.IngestTimeout > hi {
		return []error{fmt.Errorf("server.ingest_timeout: %s is out of range %s..%s", short(s.IngestTimeout), short(lo), short(hi))}
	}
	return nil
}
