// Package cli provides the openguild command: its subcommands, their
// flags, and the exit status each failure maps to.
//
// Run takes everything from the outside world as arguments (context,
// arguments, environment lookup and standard streams), so tests run the
// real command in-process.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/openguild/openguild/internal/config"
	"github.com/openguild/openguild/internal/metrics"
)

// Exit statuses.
const (
	ExitFailure = 1 // the command ran and failed
	ExitUsage   = 2 // bad arguments or configuration
)

// Env is the process environment as Run sees it.
type Env struct {
	Args      []string // arguments after the program name
	LookupEnv func(string) (string, bool)
	Stdin     io.Reader
	Stdout    io.Writer
	Stderr    io.Writer // logs go here
	Build     metrics.Build
}

// usageError marks errors caused by how the command was called.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// ExitCode maps an error returned by Run to the process exit status.
func ExitCode(err error) int {
	var usage usageError
	var cfgErr *config.Error
	switch {
	case err == nil:
		return 0
	case errors.As(err, &usage), errors.As(err, &cfgErr):
		return ExitUsage
	default:
		return ExitFailure
	}
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env Env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the homeserver (the default when no subcommand is given)", runServe},
		{"migrate", "apply pending database migrations and exit", runMigrate},
		{"config", "print the effective configuration, secrets redacted; `config check FILE` validates a file", runConfig},
		{"version", "print the version and commit", runVersion},
		{"admin", "administer the server: create-user, registration-token create, keys, ban, unban, bans list", runAdmin},
	}
}

// Run executes the command line in env. Cancelling ctx asks a running
// server to shut down gracefully. Errors of configuration or usage map to
// ExitUsage through ExitCode.
func Run(ctx context.Context, env Env) error {
	args := env.Args
	name := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		name, args = args[0], args[1:]
	}
	if name == "help" {
		printUsage(env.Stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		err := c.run(ctx, env, args)
		if errors.Is(err, flag.ErrHelp) {
			return nil // the flag set has printed the help text
		}
		return err
	}
	printUsage(env.Stderr)
	return usagef("unknown command %q", name)
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: openguild [command] [flags]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun `openguild COMMAND -h` for the flags of a command.")
}

// parseFlags parses args with the configuration flags bound, plus any the
// command adds through extra, and loads the configuration.
func parseFlags(env Env, name string, args []string, extra func(*flag.FlagSet)) (config.Config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet("openguild "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	cfgFlags := config.Bind(fs)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return config.Config{}, nil, flag.ErrHelp
		}
		return config.Config{}, nil, usageError{err}
	}

	cfg, err := cfgFlags.Load(env.LookupEnv)
	if err != nil {
		return config.Config{}, nil, usageError{err} // a bad file or value: exit status 2
	}
	return cfg, fs, nil
}

// newLogger builds the process logger from the configuration.
func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == config.LogFormatText {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
