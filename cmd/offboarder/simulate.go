package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/offboarder/offboarder/simulator"
)

// cmdSimulate serves the built-in SaaS simulator until interrupted.
func cmdSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8089", "listen address")
	users := fs.Int("users", 20, "seed this many users (user0001@example.com…) besides alice, bob and carol")
	latency := fs.Duration("latency", 0, "added to every vendor call")
	errorRate := fs.Float64("error-rate", 0, "share of vendor calls answered with a 5xx (0..1)")
	rateLimit := fs.Int("rate-limit", 0, "vendor calls per second per vendor before 429s (0: none)")
	googleOut := fs.String("google-credentials", "", "write a demo service account's JSON key, which the simulator's Google trusts, to this file")
	oktaOut := fs.String("okta-private-key", "", "write the private key (PEM) of a demo Okta service app, client id "+simulator.DemoOktaClientID+", which the simulator's Okta trusts, to this file")
	oktaDPoP := fs.Bool("okta-dpop", false, "the simulator's Okta service app requires DPoP (connector key dpop: true), as new Okta service apps do")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *errorRate < 0 || *errorRate > 1 || *rateLimit < 0 || *latency < 0 || *users < 0 {
		return fmt.Errorf("%w: --error-rate is 0..1; --latency, --rate-limit and --users are not negative", errUsage)
	}
	if *oktaDPoP && *oktaOut == "" {
		return fmt.Errorf("%w: --okta-dpop needs --okta-private-key (DPoP is for a service app)", errUsage)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	opts := simulator.Options{Latency: *latency, ErrorRate: *errorRate, RateLimit: *rateLimit, OktaDPoP: *oktaDPoP}
	hostport, err := dialable(ln.Addr().String())
	if err != nil {
		ln.Close()
		return err
	}
	base := "http://" + hostport
	// Demo credentials: fresh keys, written 0600 for a connector's
	// credentials_file / private_key_file; the simulator keeps the public
	// halves in memory only.
	if *googleOut != "" {
		creds, pub, err := simulator.DemoGoogleCredentials(base + "/google/token")
		if err == nil {
			err = os.WriteFile(*googleOut, creds, 0o600)
		}
		if err != nil {
			ln.Close()
			return fmt.Errorf("--google-credentials: %w", err)
		}
		opts.GoogleKey = pub
	}
	if *oktaOut != "" {
		pemKey, pub, err := simulator.DemoOktaKey()
		if err == nil {
			err = os.WriteFile(*oktaOut, pemKey, 0o600)
		}
		if err != nil {
			ln.Close()
			return fmt.Errorf("--okta-private-key: %w", err)
		}
		opts.OktaClientID, opts.OktaPublicKey = simulator.DemoOktaClientID, pub
	}
	sim := simulator.New(opts)
	sim.Seed(*users)
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "simulator listening on %s (okta: %s/okta; control: /_sim/)\n", base, base)
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// dialable is a listen address with an unspecified host (":8089",
// "0.0.0.0:8089", "[::]:8089") made 127.0.0.1, for URLs a client on this
// machine can call.
func dialable(hostport string) (string, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return "", err
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}
