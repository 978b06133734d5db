// Command offboarder revokes a departing person's sessions in every connected
// system when an HR system or identity provider says they left.
//
//	offboarder [run]     server and worker in one process (the default)
//	offboarder serve     the HTTP server only (webhooks, admin API, dashboard)
//	offboarder work      the worker only (asynq handlers and the relay)
//	offboarder check     validate the config and print it with secrets masked
//	offboarder offboard  trigger an offboarding through the admin API
//	offboarder cases     list cases, or show one, through the admin API
//	offboarder attest    say that a person did a manual step, through the admin API
//	offboarder approve   release cases the blast-radius guard held, through the admin API
//	offboarder simulate  serve the built-in SaaS simulator
//	offboarder health    exit 0 if a URL answers 200 (container healthchecks)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: offboarder <command> [flags]

commands:
  run       server and worker in one process (default)
  serve     HTTP server only (needs REDIS_URL)
  work      worker only (needs REDIS_URL)
  check     validate the config; print it with secrets masked
  offboard  trigger an offboarding through the admin API
  cases     through the admin API: "cases [list] [--email E] [--state S]",
            one case "cases show ID", the open manual steps "cases manual",
            the audit chain's check "cases verify [--anchor SEQ:HASH]",
            "cases retry ID [--connector C] [--who NAME]": run a failed
            entry (every failed one) again, "cases cancel ID --who NAME
            [--note TEXT]": call off a case before revocation starts,
            "cases export --since DATE [--until DATE] --format csv|json":
            the evidence of every case created in a period, for an auditor
  attest    CASE CONNECTOR --who NAME [--note TEXT]: a person did that
            manual step (through the admin API)
  approve   --all|CASE… --who NAME [--note TEXT]: release cases the
            blast-radius guard held; without --all or ids, list them
  simulate  serve the built-in SaaS simulator
  health    exit 0 if --url (default http://127.0.0.1:8080/readyz) answers 200

environment:
  OFFBOARDER_CONFIG       config file (default config.yaml)
  DATABASE_URL            postgres://user:pw@host:5432/db (a primary/standby pair:
                          postgres://…@primary:5432,standby:5432/db?target_session_attrs=read-write);
                          unset: SQLite file offboarder.db
  REDIS_URL               redis://[:pw@]host[:port][/db], rediss://… (TLS),
                          redis+sentinel://[:pw@]host:port[,host:port…]/master-name[/db]
                          [?sentinel_password=…] (Sentinel: the master is followed across
                          failovers); unset: embedded in-memory Redis (run only)
  OFFBOARDER_ADDR         listen address (default :8080)
  OFFBOARDER_ADMIN_TOKEN  bearer token of the admin API and dashboard
  OFFBOARDER_URL          server the CLI talks to (default http://127.0.0.1:8080)
  OFFBOARDER_PUBLIC_URL   the server's address as people reach it: notifications link to the case
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code := runMain(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// errUsage marks a command-line mistake (exit status 2).
var errUsage = errors.New("usage")

func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := "run"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "run":
		err = cmdServe(ctx, args, stderr, true, true)
	case "serve":
		err = cmdServe(ctx, args, stderr, true, false)
	case "work":
		err = cmdServe(ctx, args, stderr, false, true)
	case "check":
		err = cmdCheck(ctx, args, stdout, stderr)
	case "offboard":
		err = cmdOffboard(ctx, args, stdout, stderr)
	case "cases":
		err = cmdCases(ctx, args, stdout, stderr)
	case "attest":
		err = cmdAttest(ctx, args, stdout, stderr)
	case "approve":
		err = cmdApprove(ctx, args, stdout, stderr)
	case "simulate":
		err = cmdSimulate(ctx, args, stdout, stderr)
	case "health":
		err = cmdHealth(ctx, args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "offboarder: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "offboarder %s: %v\n", cmd, err)
		return 2
	}
	fmt.Fprintf(stderr, "offboarder %s: %v\n", cmd, err)
	return 1
}

func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}
