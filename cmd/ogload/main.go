// Command ogload generates load against an OpenGuild homeserver on
// loopback and prints what it measured. It creates the users it needs
// through the API, runs one named scenario for a bounded time, and stops
// by itself.
//
// Usage:
//
//	ogload [-server URL] [-server-pid PID] SCENARIO [flags]
//
// Scenarios:
//
//	login   concurrent logins of one account: logins/s, latency, and the
//	        server's peak RSS when -server-pid is given
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "ogload:", err)
		os.Exit(1)
	}
}

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
		return errors.New("missing scenario; want one of: login")
	}

	scenario, rest := fs.Arg(0), fs.Args()[1:]
	switch scenario {
	case "login":
		return runLogin(ctx, opts, rest, stdout, stderr)
	default:
		return fmt.Errorf("unknown scenario %q; want one of: login", scenario)
	}
}

// checkLoopback keeps the tool pointed at this machine: it is for
// measuring a server you run, never someone else's.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("parse -server %q: %w", raw, err)
	}
	host := u.Hostname()
	if host == "localhost" || host == "::1" || strings.HasPrefix(host, "127.") {
		return nil
	}
	return fmt.Errorf("-server %q is not a loopback address; ogload only targets 127.0.0.0/8, ::1 or localhost", raw)
}
