package cli

import (
	"context"
	"fmt"

	"github.com/openguild/openguild/internal/config"
	"github.com/openguild/openguild/internal/server"
	"github.com/openguild/openguild/internal/store"
)

// runServe runs the homeserver until ctx is cancelled (SIGINT or SIGTERM
// in the real binary), then shuts down within the grace period.
func runServe(ctx context.Context, env Env, args []string) error {
	cfg, fs, err := parseFlags(env, "serve", args, nil)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("serve takes no arguments, got %q", fs.Args())
	}
	logger := newLogger(cfg, env.Stderr)

	srv, err := server.New(ctx, cfg, logger, env.Build)
	if err != nil {
		logger.Error("start failed", "err", err)
		return err
	}
	srv.Start()

	var serveErr error
	select {
	case <-ctx.Done():
		logger.Info("shutdown requested", "grace_period", cfg.ShutdownGrace.String())
	case serveErr = <-srv.Err():
		logger.Error("listener failed; shutting down", "err", serveErr)
	}

	// The parent context is done; the grace period gets a fresh one.
	graceCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(graceCtx); err != nil {
		logger.Warn("shutdown was not clean", "err", err)
	}
	logger.Info("stopped")
	return serveErr
}

// runMigrate applies pending migrations and reports the schema version.
func runMigrate(ctx context.Context, env Env, args []string) error {
	cfg, fs, err := parseFlags(env, "migrate", args, nil)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("migrate takes no arguments, got %q", fs.Args())
	}

	db, err := store.Open(ctx, store.Options{URL: cfg.DatabaseURL, DataDir: cfg.DataDir})
	if err != nil {
		return err
	}
	defer db.Close()

	applied, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	status, err := db.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "applied %d migrations to %s database %s; schema version %d\n",
		applied, db.Dialect(), db.Target(), status.Current)
	return nil
}

// runConfig prints the effective configuration, or with `check FILE`
// validates one file on its own.
func runConfig(ctx context.Context, env Env, args []string) error {
	if len(args) > 0 && args[0] == "check" {
		if len(args) != 2 {
			return usagef("usage: openguild config check FILE")
		}
		cfg, err := config.CheckFile(args[1])
		if err != nil {
			return usageError{err}
		}
		fmt.Fprintf(env.Stdout, "%s: valid\n", cfg.File)
		return nil
	}

	cfg, fs, err := parseFlags(env, "config", args, nil)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unknown config subcommand %q; want check FILE or nothing", fs.Arg(0))
	}
	return cfg.Write(env.Stdout)
}

func runVersion(ctx context.Context, env Env, args []string) error {
	if len(args) > 0 {
		return usagef("version takes no arguments")
	}
	fmt.Fprintf(env.Stdout, "openguild %s (commit %s)\n", env.Build.Version, env.Build.Commit)
	return nil
}
