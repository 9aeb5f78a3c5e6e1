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
// start a fresh server for each measurement. The connections scenario
// reads VmRSS, the current figure, instead.
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
// connections measures what idle gateway connections cost the server. It
// opens -connections authenticated gateway connections (default 1,000),
// spread round-robin over -users members of one guild (default one per
// 16 connections, the server's default per-user cap), and keeps them
// alive with heartbeats for -hold (default 30s, 5s to 10m). It reports
// the connections opened, failures by kind, and, with -server-pid, the
// server's VmRSS before the first connection, 5 s after the first half
// opened and 5 s after the last one opened. It divides the increase by
// the connections twice: over the whole run, and over the second half
// alone, which leaves out the memory that setup's password hashing
// returns to the system meanwhile.
//
// fanout measures message delivery to many gateway connections.
// -subscribers connections (default 1,000), spread over -users members of
// one guild, watch one channel while one member sends -rate messages a
// second (default 20) for -duration (default 10s, at most 5m). Each
// message carries its send time in Unix nanoseconds, and each subscriber
// records the delay until its message_create dispatch arrives. It reports
// deliveries received and expected, p50, p99 and max latency, and
// deliveries/s. ogload runs the sender and every subscriber, so on a
// small machine its own parsing adds to the latency it reports.
//
// media measures file uploads and downloads. Each of -concurrency users
// (default 1) uploads -rounds files (default 5) of -size bytes (default
// 10 MiB) as raw bodies, each followed by its download. It reports the
// median rate of single uploads and downloads in MB/s, the total rate,
// and the server's peak RSS.
//
// thumbnails measures thumbnails of large images: one user uploads
// -images PNGs (default 3) of -edge × -edge pixels (default 7000) and
// requests a thumbnail of each at once. It reports their latency and the
// server's peak RSS, which media.decode_budget should bound.
//
// Run ogload SCENARIO -h for every flag of a scenario.
//
// # Server flags
//
// Every scenario registers and logs in users from one IP. Ingest and
// history send far more messages than the default limits admit (10 per
// 10 s per user, 60 per 10 s per IP). Start the server with the flags
// below, and with --limits-write-per-ip-route 1000000/1m for more than
// 120 users, because each user accepts an invite:
//
//	login    --limits-login-per-ip 1000000/1m
//	ingest   --limits-register-per-ip 1000000/1m --limits-login-per-ip 1000000/1m \
//	         --limits-message-per-user 1000000/10s --limits-message-per-ip 1000000/10s
//	history  the same flags as ingest
//	media    --limits-register-per-ip 1000000/1m --limits-login-per-ip 1000000/1m
//
// The gateway scenarios hold one socket per connection on each side and
// open every connection from one IP. ogload raises its own open file
// limit to the hard limit. Start the server with ulimit -n above the
// connection count and with:
//
//	connections  --limits-register-per-ip 1000000/1m --limits-login-per-ip 1000000/1m \
//	             --limits-write-per-ip-route 1000000/1m --limits-read-per-ip 1000000/1m \
//	             --gateway-upgrades-per-ip 1000000/1m \
//	             --gateway-max-connections N --gateway-max-per-user M
//	fanout       the same flags as connections, and --limits-message-per-user 1000000/10s \
//	             --limits-message-per-ip 1000000/10s
//
// N is at least the connection count (default 10,000) and M at least the
// connections per user (default 16). Each gateway scenario prints the
// values it needs when it starts. The write limit matters because every
// user accepts an invite, 120 per minute by default. The read limit
// matters because the upgrade is a GET under /api/v1, 600 per minute by
// default, on top of the gateway's own upgrade limit.
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
	"--limits-write-per-ip-route 1000000/1m " +
	"--limits-message-per-user 1000000/10s --limits-message-per-ip 1000000/10s"

// scenarioNames lists the scenarios for error messages.
const scenarioNames = "login, ingest, history, connections, fanout, media or thumbnails"

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
	case "connections":
		return runConnections(ctx, opts, rest, stdout, stderr)
	case "fanout":
		return runFanout(ctx, opts, rest, stdout, stderr)
	case "media":
		return runMedia(ctx, opts, rest, stdout, stderr)
	case "thumbnails":
		return runThumbnails(ctx, opts, rest, stdout, stderr)
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
