// Command ogload generates load against an OpenGuild homeserver on
// loopback and prints what it measured. It creates the users it needs
// through the API, runs one named scenario for a bounded time, and stops
// by itself. Ctrl-C stops a run early.
//
// Usage:
//
//	ogload [-server URL] [-server-pid PID] SCENARIO [flags]
//
// Each scenario prints a tab-separated table on standard output and its
// progress, the first failure and hints on standard error. The server's
// peak RSS is VmHWM from /proc, the peak over the server's whole life, so
// start a fresh server for each measurement.
//
// # Scenarios
//
// login measures concurrent logins of one account: logins/s and latency.
//
// ingest measures message sends. Each of -senders users (default 32)
// sends back to back with a new nonce each time, for -duration (default
// 10s, at most 5m). -channels spreads the senders round-robin over that
// many channels, from 1 (the default) to one per sender. It reports
// committed messages, failures by status, messages/s and send latency.
//
// history measures history page reads. It fills one channel with
// -messages (default 1,000,000) from -fill-senders users (default 32),
// then reads -reads pages (default 2,000) of -page messages (default 100)
// before or after message ids drawn from a sample of the fill. After the
// fill it prints a -reuse-channel and -token pair that lets a later run
// skip the fill.
//
// Run ogload SCENARIO -h for every flag of a scenario.
//
// # Server flags
//
// Every scenario registers and logs in users from one IP. Ingest and
// history send far more messages than the default limits admit (10 per
// 10 s per user, 60 per 10 s per IP). Start the server with:
//
//	login    --limits-login-per-ip 1000000/1m
//	ingest   --limits-register-per-ip 1000000/1m --limits-login-per-ip 1000000/1m \
//	         --limits-message-per-user 1000000/10s --limits-message-per-ip 1000000/10s
//	history  the same flags as ingest
//
// Without them the scenarios report 429 responses. The token that
// history prints expires at the time printed beside it, 15m after it was
// issued by default. To reuse a channel later than that, start the server
// with a longer --auth-access-token-lifetime, such as 24h, before the fill.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return // the flag package has printed the usage
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ogload:", err)
		os.Exit(1)
	}
}

// serverFlags are the server flags that lift every limit the ingest and
// history scenarios would otherwise meet.
const serverFlags = "--limits-register-per-ip 1000000/1m --limits-login-per-ip 1000000/1m " +
	"--limits-message-per-user 1000000/10s --limits-message-per-ip 1000000/10s"

// scenarioNames lists the scenarios for error messages.
const scenarioNames = "login, ingest or history"

// options are the flags shared by every scenario.
type options struct {
	server    string
	serverPID int
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ogload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts options
	fs.StringVar(&opts.server, "server", "http://127.0.0.1:8080", "base URL of the homeserver; must be a loopback address")
	fs.IntVar(&opts.serverPID, "server-pid", 0, "process id of the server, to report its peak resident memory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkLoopback(opts.server); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("missing scenario: expected " + scenarioNames)
	}

	scenario, rest := fs.Arg(0), fs.Args()[1:]
	switch scenario {
	case "login":
		return runLogin(ctx, opts, rest, stdout, stderr)
	case "ingest":
		return runIngest(ctx, opts, rest, stdout, stderr)
	case "history":
		return runHistory(ctx, opts, rest, stdout, stderr)
	default:
		return fmt.Errorf("unknown scenario %q: expected %s", scenario, scenarioNames)
	}
}

// checkLoopback rejects a -server URL whose host is not localhost or a
// loopback address, because ogload is for measuring a server you run on
// this machine. The client's dialer checks the resolved address again.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("parse -server %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("invalid -server %q: must be an http:// or https:// URL", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.Unmap().IsLoopback() {
		return nil
	}
	return fmt.Errorf("-server %q is not a loopback address; ogload only targets 127.0.0.0/8, ::1 or localhost", raw)
}
