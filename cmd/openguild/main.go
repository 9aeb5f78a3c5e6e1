// Command openguild runs the OpenGuild homeserver and its administration
// commands. Run `openguild help` for the list.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/openguild/openguild/internal/cli"
	"github.com/openguild/openguild/internal/metrics"
)

// Stamped at build time with
// -ldflags "-X main.version=v1.2.3 -X main.commit=abc1234".
var (
	version = "(devel)"
	commit  = "(devel)"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	err := cli.Run(ctx, cli.Env{
		Args:      os.Args[1:],
		LookupEnv: os.LookupEnv,
		Stdin:     os.Stdin,
		Stdout:    os.Stdout,
		Stderr:    os.Stderr,
		Build:     metrics.Build{Version: version, Commit: commit},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "openguild:", err)
		os.Exit(cli.ExitCode(err))
	}
}
